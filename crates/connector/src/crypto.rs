//! Secrets at rest: AES-256-GCM under the installation's master key.
//!
//! The key comes from `TTWC_MASTER_KEY` (64 hex characters) or from a key file created on first
//! start with mode 0600 beside the SQLite database. Each sealed value is
//! `version (1) || nonce (12) || ciphertext+tag`, and is bound to where it is stored by the
//! associated data (e.g. `connection/<id>/woo_secret`), so a value copied into another row or
//! column does not open. A wrong key never yields garbage: opening fails, and start-up compares
//! the key's id with the one the installation recorded.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("TTWC_MASTER_KEY must be 64 hexadecimal characters (32 bytes); it has {0} characters")]
    BadEnvKey(usize),
    #[error("the key file {path} is not 64 hexadecimal characters")]
    BadKeyFile { path: PathBuf },
    #[error("cannot read the key file {path}: {source}")]
    ReadKeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the key file {path}: {source}")]
    WriteKeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the key file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
    )]
    KeyFileMode { path: PathBuf, mode: u32 },
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("a stored secret cannot be opened with this key (wrong key or damaged value)")]
    Open,
    #[error("a stored secret has an unknown format")]
    Format,
}

/// The installation's master key. Never printed.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    /// A key of its own for [`MasterKey::mac`], derived from the master key, so no key serves
    /// two algorithms; one SHA-256 block long, HMAC's own key size.
    mac_key: [u8; 64],
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let id = key_id(&bytes);
        let mut mac_key = [0u8; 64];
        for (half, out) in mac_key.chunks_exact_mut(32).enumerate() {
            let mut h = Sha256::new();
            h.update(b"ttwc mac key\0");
            h.update([half as u8]);
            h.update(bytes);
            out.copy_from_slice(&h.finalize());
        }
        MasterKey {
            cipher: Aes256Gcm::new(&bytes.into()),
            mac_key,
            id,
        }
    }

    /// Parses the `TTWC_MASTER_KEY` form: 64 hex characters.
    pub fn from_hex(text: &str) -> Result<MasterKey, KeyError> {
        let text = text.trim();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| KeyError::BadEnvKey(text.chars().count()))?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// A fresh random key.
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        MasterKey::from_bytes(bytes)
    }

    /// Reads the key file, or creates it (mode 0600) when `create` is true and it does not exist.
    pub fn load_or_create_file(path: &Path, create: bool) -> Result<Option<MasterKey>, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_mode(path)?;
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
                    KeyError::BadKeyFile {
                        path: path.to_owned(),
                    }
                })?;
                Ok(Some(MasterKey::from_bytes(bytes)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                write_key_file(path, &bytes)?;
                Ok(Some(MasterKey::from_bytes(bytes)))
            }
            Err(source) => Err(KeyError::ReadKeyFile {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// A short public fingerprint of the key, recorded by the installation to detect a
    /// replica or restart with another key.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce length only fails for inputs over 64 GiB.
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SealError::Format);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)
    }

    /// An HMAC-SHA256 tag of `data` for `context`: a value only this installation can compute
    /// and check without storing anything (e.g. an anonymous visitor's CSRF token).
    pub fn mac(&self, context: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new(&self.mac_key.into());
        mac.update(context.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    pub fn seal_str(&self, context: &str, plaintext: &str) -> Vec<u8> {
        self.seal(context, plaintext.as_bytes())
    }

    pub fn open_string(&self, context: &str, sealed: &[u8]) -> Result<String, SealError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| SealError::Format)
    }
}

fn key_id(bytes: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"ttwc master key id\0");
    h.update(bytes);
    hex::encode(&h.finalize()[..8])
}

fn write_key_file(path: &Path, bytes: &[u8; 32]) -> Result<(), KeyError> {
    let err = |source| KeyError::WriteKeyFile {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(err)?;
    file.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
        .map_err(err)?;
    file.sync_all().map_err(err)?;
    Ok(())
}

fn check_mode(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| KeyError::ReadKeyFile {
            path: path.to_owned(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::KeyFileMode {
                path: path.to_owned(),
                mode,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_the_same_key_and_context() {
        let key = MasterKey::generate();
        let sealed = key.seal_str("connection/1/token", "tok_123");
        assert!(
            !sealed.windows(7).any(|w| w == b"tok_123"),
            "plaintext visible in the sealed value"
        );
        assert_eq!(
            key.open_string("connection/1/token", &sealed)
                .ok()
                .as_deref(),
            Some("tok_123")
        );
        // Same plaintext twice gives different ciphertexts (random nonce).
        assert_ne!(sealed, key.seal_str("connection/1/token", "tok_123"));
    }

    #[test]
    fn wrong_key_or_context_or_damage_fails_instead_of_giving_garbage() {
        let key = MasterKey::generate();
        let sealed = key.seal_str("a", "secret");
        assert!(matches!(
            MasterKey::generate().open("a", &sealed),
            Err(SealError::Open)
        ));
        assert!(matches!(key.open("b", &sealed), Err(SealError::Open)));
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(matches!(key.open("a", &damaged), Err(SealError::Open)));
        assert!(matches!(key.open("a", b"short"), Err(SealError::Format)));
    }

    #[test]
    fn hex_keys_are_checked() {
        let hex64 = "00".repeat(32);
        let a = MasterKey::from_hex(&hex64).unwrap_or_else(|e| panic!("{e}"));
        let b = MasterKey::from_hex(&format!(" {hex64}\n")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.id(), b.id());
        assert!(matches!(
            MasterKey::from_hex("abc"),
            Err(KeyError::BadEnvKey(3))
        ));
        assert!(matches!(
            MasterKey::from_hex(&"zz".repeat(32)),
            Err(KeyError::BadEnvKey(64))
        ));
        assert!(!format!("{a:?}").contains(&hex64));
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("ttwc.key");
        assert!(
            MasterKey::load_or_create_file(&path, false)
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none()
        );
        let created = MasterKey::load_or_create_file(&path, true).unwrap_or_else(|e| panic!("{e}"));
        let again = MasterKey::load_or_create_file(&path, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            created.map(|k| k.id().to_owned()),
            again.map(|k| k.id().to_owned())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(
                MasterKey::load_or_create_file(&path, true),
                Err(KeyError::KeyFileMode { .. })
            ));
        }
    }
}
