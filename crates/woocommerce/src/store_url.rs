//! The store's home URL, checked once and then trusted everywhere.
//!
//! WooCommerce signs OAuth requests against `get_home_url()`, so every URL this crate builds is the
//! home URL followed by a path: the value kept here must be the home URL the store itself has,
//! with its scheme and any sub-folder WordPress lives in, and nothing else.

use std::fmt;

use url::Url;

/// A store's home URL: `http` or `https`, a host, an optional path (WordPress in a sub-folder),
/// no credentials, query or fragment, and no trailing slash.
///
/// The `url` crate normalises what it parses (lower-case scheme and host, default port dropped,
/// punycode for international host names, percent-encoding of non-ASCII path bytes). WordPress
/// keeps its home option as typed, so a store whose home differs from its normal form only in
/// those ways would see a different OAuth base URI; no real store seen so far does.
#[derive(Clone)]
pub struct StoreUrl {
    /// Always without a trailing slash, so `format!("{base}{path}")` with a `/`-led path is exact.
    base: String,
    /// The same, parsed; `url.path()` is `/` or the sub-folder without trailing slash.
    url: Url,
    https: bool,
}

/// Why a string is not a usable store URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreUrlError {
    #[error("the store URL is not a valid URL")]
    Invalid,
    #[error("the store URL must start with http:// or https://, not {0}:")]
    Scheme(String),
    #[error("the store URL has no host name")]
    MissingHost,
    #[error("the store URL must not contain a user name or password")]
    UserInfo,
    #[error("the store URL must not contain a query (?...) or fragment (#...)")]
    QueryOrFragment,
}

impl StoreUrl {
    /// Parses the home URL as the merchant gives it (surrounding spaces and trailing slashes are
    /// dropped).
    pub fn parse(input: &str) -> Result<StoreUrl, StoreUrlError> {
        let trimmed = input.trim();
        let url = Url::parse(trimmed).map_err(|_| StoreUrlError::Invalid)?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(StoreUrlError::Scheme(other.to_owned())),
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(StoreUrlError::MissingHost);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(StoreUrlError::UserInfo);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(StoreUrlError::QueryOrFragment);
        }
        let mut url = url;
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        let mut base = url.as_str().to_owned();
        while base.ends_with('/') {
            base.pop();
        }
        Ok(StoreUrl { base, url, https })
    }

    /// The home URL without a trailing slash, e.g. `https://shop.example.cl/tienda`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Whether the store is reached over TLS (Basic auth) rather than plain http (OAuth 1.0a).
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The home URL followed by `path`, which must start with `/`; no query string.
    ///
    /// This is also the OAuth base URI of a request to that path.
    pub fn join(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'), "paths are absolute: {path}");
        format!("{}{}", self.base, path)
    }

    /// The home URL followed by `path` (which must start with `/`), as a [`Url`].
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.url.clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}{path}"));
        url
    }

    /// The value WooCommerce puts in `X-WC-Webhook-Source`: the home URL with a trailing slash.
    pub fn webhook_source(&self) -> String {
        format!("{}/", self.base)
    }
}

impl PartialEq for StoreUrl {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
    }
}

impl Eq for StoreUrl {}

impl std::hash::Hash for StoreUrl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.base.hash(state);
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({})", self.base)
    }
}

impl std::str::FromStr for StoreUrl {
    type Err = StoreUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreUrl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_scheme_host_port_and_subfolder_without_trailing_slash() {
        let u = StoreUrl::parse(" https://Shop.Example.cl:8443/tienda/ ").unwrap();
        assert_eq!(u.as_str(), "https://shop.example.cl:8443/tienda");
        assert!(u.is_https());
        assert_eq!(
            u.join("/wp-json/wc/v3/orders"),
            "https://shop.example.cl:8443/tienda/wp-json/wc/v3/orders"
        );
        assert_eq!(u.webhook_source(), "https://shop.example.cl:8443/tienda/");
        assert_eq!(
            u.url("/wc-auth/v1/authorize").as_str(),
            "https://shop.example.cl:8443/tienda/wc-auth/v1/authorize"
        );

        let u = StoreUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080");
        assert!(!u.is_https());
        let u = StoreUrl::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080");
    }

    #[test]
    fn rejects_other_schemes_userinfo_queries_and_garbage() {
        assert_eq!(
            StoreUrl::parse("ftp://example.com"),
            Err(StoreUrlError::Scheme("ftp".into()))
        );
        assert_eq!(
            StoreUrl::parse("mailto:ana@example.cl"),
            Err(StoreUrlError::Scheme("mailto".into()))
        );
        assert_eq!(
            StoreUrl::parse("javascript:alert(1)"),
            Err(StoreUrlError::Scheme("javascript".into()))
        );
        assert_eq!(StoreUrl::parse("garbage"), Err(StoreUrlError::Invalid));
        assert_eq!(StoreUrl::parse(""), Err(StoreUrlError::Invalid));
        assert_eq!(
            StoreUrl::parse("shop.example.cl"),
            Err(StoreUrlError::Invalid)
        );
        assert_eq!(StoreUrl::parse("https://"), Err(StoreUrlError::Invalid));
        assert_eq!(
            StoreUrl::parse("https://admin:pw@shop.example.cl"),
            Err(StoreUrlError::UserInfo)
        );
        assert_eq!(
            StoreUrl::parse("https://shop.example.cl/?p=1"),
            Err(StoreUrlError::QueryOrFragment)
        );
        assert_eq!(
            StoreUrl::parse("https://shop.example.cl/#x"),
            Err(StoreUrlError::QueryOrFragment)
        );
    }
}
