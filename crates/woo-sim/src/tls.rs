//! The self-signed certificate served with `--tls` (for `127.0.0.1` and `localhost`).

use std::path::{Path, PathBuf};

/// A generated certificate and where its PEM was written.
pub(crate) struct Cert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_path: PathBuf,
}

pub(crate) fn generate(dir: &Path) -> Result<Cert, String> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, &cert_pem)
        .map_err(|e| format!("cannot write {}: {e}", cert_path.display()))?;
    Ok(Cert {
        cert_pem,
        key_pem,
        cert_path,
    })
}
