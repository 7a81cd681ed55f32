//! REST API keys and webhook secrets: checked once, never printed.
//!
//! Both types redact their secret half in `Debug` and have no `Display`, so a stray `{:?}` in a
//! log line cannot leak them.

use std::fmt;

use rand::Rng;
use rand::distr::Alphanumeric;

/// A WooCommerce REST API key pair (`ck_…` / `cs_…`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    consumer_key: String,
    consumer_secret: String,
}

/// Why a key pair was refused before ever reaching the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("the consumer key is empty")]
    EmptyKey,
    #[error("the consumer secret is empty")]
    EmptySecret,
    /// Keys are printable ASCII (`ck_` + 40 hex digits when WooCommerce makes them); anything
    /// else is a copy-paste accident that would only come back as a confusing 401.
    #[error("the {0} contains spaces or characters that are not printable ASCII")]
    BadCharacters(&'static str),
}

impl Credentials {
    /// Checks that both halves are non-empty printable ASCII without spaces (surrounding
    /// whitespace, as pasted from the WooCommerce admin, is trimmed).
    pub fn new(
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
    ) -> Result<Credentials, CredentialsError> {
        let consumer_key = consumer_key.into().trim().to_owned();
        let consumer_secret = consumer_secret.into().trim().to_owned();
        if consumer_key.is_empty() {
            return Err(CredentialsError::EmptyKey);
        }
        if consumer_secret.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        if !printable(&consumer_key) {
            return Err(CredentialsError::BadCharacters("consumer key"));
        }
        if !printable(&consumer_secret) {
            return Err(CredentialsError::BadCharacters("consumer secret"));
        }
        Ok(Credentials {
            consumer_key,
            consumer_secret,
        })
    }

    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The secret half; only for signing and for storing it encrypted.
    pub fn consumer_secret(&self) -> &str {
        &self.consumer_secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Like WooCommerce's admin, show only the key's last 7 characters.
        let tail_start = self.consumer_key.len().saturating_sub(7);
        let tail = self.consumer_key.get(tail_start..).unwrap_or("");
        f.debug_struct("Credentials")
            .field("consumer_key", &format_args!("…{tail}"))
            .field("consumer_secret", &format_args!("<redacted>"))
            .finish()
    }
}

/// The secret a webhook's deliveries are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

/// Why a webhook secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookSecretError {
    #[error("the webhook secret is empty")]
    Empty,
    /// WooCommerce HTML-entity-decodes the secret before signing (`&amp;` signs as `&`), so a
    /// secret with `&` may not be the key the store actually uses.
    #[error("the webhook secret must not contain '&' (WooCommerce entity-decodes it)")]
    Ampersand,
}

impl WebhookSecret {
    pub fn new(secret: impl Into<String>) -> Result<WebhookSecret, WebhookSecretError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(WebhookSecretError::Empty);
        }
        if secret.contains('&') {
            return Err(WebhookSecretError::Ampersand);
        }
        Ok(WebhookSecret(secret))
    }

    /// A fresh random secret of 48 letters and digits: alphanumeric, so no entity decoding or
    /// encoding step anywhere can change it.
    pub fn generate() -> WebhookSecret {
        let secret: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(48)
            .map(char::from)
            .collect();
        WebhookSecret(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::new(
            " ck_0123456789abcdef0123456789abcdef01234567 ",
            "cs_topsecret0123456789",
        )
        .unwrap();
        assert_eq!(
            c.consumer_key(),
            "ck_0123456789abcdef0123456789abcdef01234567"
        );
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("topsecret"), "{dbg}");
        assert!(!dbg.contains("ck_0123"), "{dbg}");
        assert!(dbg.contains("…1234567"), "{dbg}");

        let s = WebhookSecret::new("sampleSecret123").unwrap();
        assert!(!format!("{s:?}").contains("sample"));
        assert_eq!(s.as_bytes(), b"sampleSecret123");
    }

    #[test]
    fn rejects_empty_and_odd_values() {
        assert_eq!(Credentials::new("", "cs"), Err(CredentialsError::EmptyKey));
        assert_eq!(
            Credentials::new("ck", "  "),
            Err(CredentialsError::EmptySecret)
        );
        assert_eq!(
            Credentials::new("ck 1", "cs"),
            Err(CredentialsError::BadCharacters("consumer key"))
        );
        assert_eq!(
            Credentials::new("ck", "cs\n1"),
            Err(CredentialsError::BadCharacters("consumer secret"))
        );
        assert_eq!(WebhookSecret::new(""), Err(WebhookSecretError::Empty));
        assert_eq!(
            WebhookSecret::new("a&amp;b"),
            Err(WebhookSecretError::Ampersand)
        );
    }

    #[test]
    fn generated_secrets_are_alphanumeric_and_distinct() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        assert_eq!(a.expose().len(), 48);
        assert!(a.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
