//! The self-signed certificate served with `--tls` (for `127.0.0.1` and `localhost`), and the
//! broken ones served with `--tls-fault`, so a client's handling of each can be tried.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair};

/// The names the certificate is for.
const NAMES: [&str; 2] = ["127.0.0.1", "localhost"];
/// The only name the wrong-host certificate is for.
const OTHER_HOST: &str = "otra-tienda.example";

/// A certificate fault to serve instead of a good certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFault {
    /// Valid for the right names, but its validity ended yesterday.
    Expired,
    /// Valid now, but only for `otra-tienda.example`.
    WrongHost,
    /// Valid for the right names, but signed by an authority that is not in `cert.pem`.
    UnknownIssuer,
}

impl TlsFault {
    /// Reads `expired`, `wrong-host` or `unknown-issuer`.
    pub fn parse(s: &str) -> Option<TlsFault> {
        match s {
            "expired" => Some(TlsFault::Expired),
            "wrong-host" => Some(TlsFault::WrongHost),
            "unknown-issuer" => Some(TlsFault::UnknownIssuer),
            _ => None,
        }
    }
}

/// A generated certificate and where its PEM was written.
pub(crate) struct Cert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_path: PathBuf,
}

/// Generates the served certificate and writes to `cert.pem` the one a client should trust.
/// Without a fault they are the same self-signed certificate; with one, `cert.pem` is still
/// what a client trusts, so the only thing wrong is the fault.
pub(crate) fn generate(dir: &Path, fault: Option<TlsFault>) -> Result<Cert, String> {
    let err = |e: rcgen::Error| format!("cannot generate a certificate: {e}");
    let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let key = KeyPair::generate().map_err(err)?;
    let (served, trusted) = match fault {
        None => {
            let cert = CertificateParams::new(names(&NAMES))
                .and_then(|p| p.self_signed(&key))
                .map_err(err)?;
            (cert.pem(), cert.pem())
        }
        Some(TlsFault::Expired) => {
            let mut params = CertificateParams::new(names(&NAMES)).map_err(err)?;
            let now = time::OffsetDateTime::now_utc();
            params.not_before = now - time::Duration::days(365);
            params.not_after = now - time::Duration::days(1);
            let cert = params.self_signed(&key).map_err(err)?;
            (cert.pem(), cert.pem())
        }
        Some(TlsFault::WrongHost) => {
            let cert = CertificateParams::new(names(&[OTHER_HOST]))
                .and_then(|p| p.self_signed(&key))
                .map_err(err)?;
            (cert.pem(), cert.pem())
        }
        Some(TlsFault::UnknownIssuer) => {
            // The served certificate is signed by an authority thrown away here; cert.pem holds
            // an unrelated one, as a store whose chain misses its intermediate would look.
            let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
            ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, "woo-sim unknown authority");
            ca.distinguished_name = dn;
            let issuer = Issuer::new(ca, KeyPair::generate().map_err(err)?);
            let served = CertificateParams::new(names(&NAMES))
                .and_then(|p| p.signed_by(&key, &issuer))
                .map_err(err)?;
            let decoy_key = KeyPair::generate().map_err(err)?;
            let decoy = CertificateParams::new(names(&NAMES))
                .and_then(|p| p.self_signed(&decoy_key))
                .map_err(err)?;
            (served.pem(), decoy.pem())
        }
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, &trusted)
        .map_err(|e| format!("cannot write {}: {e}", cert_path.display()))?;
    Ok(Cert {
        cert_pem: served,
        key_pem: key.serialize_pem(),
        cert_path,
    })
}
