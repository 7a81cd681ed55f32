//! The per-installation device identifier sent to the tenant validator and on `link`.
//!
//! The official plugin hashes the site URL with the WordPress auth salt. ttwc hashes the
//! *normalized* store URL with its installation's salt, so that `HTTPS://Shop.example:443/` and
//! `https://shop.example` — the same store typed twice — give the same identifier, and a store
//! reconnected later keeps it (its idempotency keys depend on it).

use sha2::{Digest, Sha256};
use url::Url;

/// Why a store URL cannot identify a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreUrlError {
    #[error("the store URL is not a valid URL: {0}")]
    Invalid(String),
    #[error("the store URL must start with http:// or https://, not {0}://")]
    Scheme(String),
    #[error("the store URL has no host name")]
    NoHost,
    #[error("the store URL must not contain a user name or password")]
    Credentials,
}

/// Normalizes a store URL: lowercase scheme and host, default port dropped, no trailing slash,
/// no query or fragment; `www.` and the path (WordPress may live in a folder) are kept.
pub fn normalize_store_url(input: &str) -> Result<String, StoreUrlError> {
    let url = Url::parse(input.trim()).map_err(|e| StoreUrlError::Invalid(e.to_string()))?;
    // `Url` has already lowercased the scheme and host and dropped a port that is the scheme's
    // default; what is left is to refuse what is not a web store and trim what does not name it.
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(StoreUrlError::Scheme(other.to_owned())),
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(StoreUrlError::NoHost)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(StoreUrlError::Credentials);
    }
    let mut normalized = format!("{}://{}", url.scheme(), host);
    if let Some(port) = url.port() {
        normalized.push_str(&format!(":{port}"));
    }
    normalized.push_str(url.path().trim_end_matches('/'));
    Ok(normalized)
}

/// `deviceId`: lowercase hex SHA-256 of the normalized store URL followed by the salt.
pub fn device_id(store_url: &str, salt: &str) -> Result<String, StoreUrlError> {
    let normalized = normalize_store_url(store_url)?;
    let mut hasher = Sha256::new();
    hasher.update(normalized.as_bytes());
    hasher.update(salt.as_bytes());
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_store_url(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn lowercases_scheme_and_host() {
        assert_eq!(norm("HTTPS://Shop.Example.CL"), "https://shop.example.cl");
    }

    #[test]
    fn drops_default_ports_only() {
        assert_eq!(norm("https://shop.example:443"), "https://shop.example");
        assert_eq!(norm("http://shop.example:80"), "http://shop.example");
        assert_eq!(norm("http://shop.example:8080"), "http://shop.example:8080");
        assert_eq!(norm("https://shop.example:80"), "https://shop.example:80");
    }

    #[test]
    fn removes_trailing_slashes() {
        assert_eq!(norm("https://shop.example/"), "https://shop.example");
        assert_eq!(
            norm("https://shop.example/tienda/"),
            "https://shop.example/tienda"
        );
        assert_eq!(
            norm("https://shop.example/tienda//"),
            "https://shop.example/tienda"
        );
    }

    #[test]
    fn removes_query_and_fragment() {
        assert_eq!(
            norm("https://shop.example/?utm=x#top"),
            "https://shop.example"
        );
        assert_eq!(
            norm("https://shop.example/tienda?p=1"),
            "https://shop.example/tienda"
        );
    }

    #[test]
    fn keeps_www_and_path_case() {
        assert_eq!(norm("https://WWW.shop.example"), "https://www.shop.example");
        assert_eq!(
            norm("https://shop.example/Tienda"),
            "https://shop.example/Tienda"
        );
    }

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(norm("  https://shop.example/ \n"), "https://shop.example");
    }

    #[test]
    fn rejects_other_schemes() {
        assert_eq!(
            normalize_store_url("ftp://shop.example"),
            Err(StoreUrlError::Scheme("ftp".into()))
        );
        assert!(matches!(
            normalize_store_url("mailto:admin@shop.example"),
            Err(StoreUrlError::Scheme(_))
        ));
        assert!(matches!(
            normalize_store_url("javascript:alert(1)"),
            Err(StoreUrlError::Scheme(_))
        ));
    }

    #[test]
    fn rejects_non_urls_and_credentials() {
        assert!(matches!(
            normalize_store_url("shop.example"),
            Err(StoreUrlError::Invalid(_))
        ));
        assert!(matches!(
            normalize_store_url(""),
            Err(StoreUrlError::Invalid(_))
        ));
        assert_eq!(
            normalize_store_url("https://user:pw@shop.example"),
            Err(StoreUrlError::Credentials)
        );
    }

    #[test]
    fn device_id_is_sha256_of_normalized_url_and_salt() {
        // Independently: printf '%s' 'https://shop.examplesalt123' | sha256sum
        let expected = "1d9a507bec89c8c3621f68fd02878b81f59798f1ab2154bf6fe0ea03168dd88a";
        let got = device_id("HTTPS://Shop.Example/", "salt123").unwrap_or_default();
        assert_eq!(got, expected);
        assert_ne!(
            got,
            device_id("https://shop.example", "salt124").unwrap_or_default()
        );
    }
}
