//! REST authentication exactly as `WC_REST_Authentication` does it.
//!
//! Over https: `?consumer_key=&consumer_secret=` first, else HTTP Basic; an unknown key falls
//! through silently, a known key with the wrong secret is refused. If that found no user:
//! OAuth 1.0a one-legged (HMAC-SHA1/SHA256) from the query, the form body and the
//! `Authorization: OAuth` header. Over plain http only OAuth is looked at: Basic and query keys
//! are ignored and the request goes on anonymous. The signature base string is computed here,
//! independently of any client, from WooCommerce's own algorithm (sort by raw key, rawurlencode
//! keys and values, rawurlencode each `k=v` pair again, join with `%26`).

use axum::http::{HeaderMap, Method};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::error::RestError;
use crate::store::{Store, now};

/// Who the request runs as after authentication.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub user_id: u64,
    pub permissions: String,
}

/// Everything authentication looks at.
pub(crate) struct AuthInput<'a> {
    pub method: &'a Method,
    /// The request path as sent (REQUEST_URI without the query), not decoded.
    pub raw_path: &'a str,
    /// `$_GET` then `$_POST` merged (later keys win), decoded.
    pub params: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub https: bool,
    /// The store's home URL, e.g. `http://127.0.0.1:8080`.
    pub home: &'a str,
    /// Simulates a host that drops the `Authorization` header before PHP sees it.
    pub strip_authorization: bool,
}

fn auth_error(message: &str) -> RestError {
    RestError::new(401, "woocommerce_rest_authentication_error", message)
}

fn get<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `wc_rest_urlencode_rfc3986`: rawurlencode (RFC 3986 unreserved kept).
pub(crate) fn rawurlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Authenticates a REST request. `Ok(None)` = anonymous.
pub(crate) fn authenticate(
    store: &mut Store,
    input: &AuthInput<'_>,
) -> Result<Option<Authenticated>, RestError> {
    let authorization = if input.strip_authorization {
        None
    } else {
        input
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let mut pending_error = None;
    if input.https {
        match basic(store, input.params, authorization) {
            Ok(Some(user)) => return permissions(input.method, user),
            Ok(None) => {}
            Err(e) => pending_error = Some(e),
        }
    }
    match oauth(store, input, authorization) {
        Ok(Some(user)) => permissions(input.method, user),
        Ok(None) => match pending_error {
            Some(e) => Err(e),
            None => Ok(None),
        },
        Err(e) => Err(e),
    }
}

fn basic(
    store: &mut Store,
    params: &[(String, String)],
    authorization: Option<&str>,
) -> Result<Option<Authenticated>, RestError> {
    let mut creds = None;
    if let (Some(ck), Some(cs)) = (get(params, "consumer_key"), get(params, "consumer_secret"))
        && !ck.is_empty()
        && !cs.is_empty()
    {
        creds = Some((ck.to_owned(), cs.to_owned()));
    }
    if creds.is_none()
        && let Some(encoded) = authorization.and_then(|h| h.strip_prefix("Basic "))
        && let Ok(decoded) = STANDARD.decode(encoded.trim())
    {
        let text = String::from_utf8_lossy(&decoded).into_owned();
        if let Some((user, pass)) = text.split_once(':')
            && !user.is_empty()
            && !pass.is_empty()
        {
            creds = Some((user.to_owned(), pass.to_owned()));
        }
    }
    let Some((ck, cs)) = creds else {
        return Ok(None);
    };
    let Some(key) = store.key_by_consumer_key(ck.trim()) else {
        return Ok(None);
    };
    if !constant_time_eq(key.consumer_secret.as_bytes(), cs.as_bytes()) {
        return Err(auth_error("Consumer secret is invalid."));
    }
    key.last_access = Some(now());
    Ok(Some(Authenticated {
        user_id: key.user_id,
        permissions: key.permissions.clone(),
    }))
}

/// `parse_header`: only `oauth_*` members, values urldecoded.
fn parse_oauth_header(header: &str) -> Vec<(String, String)> {
    let Some(rest) = header.strip_prefix("OAuth ") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if !k.starts_with("oauth_") {
            continue;
        }
        let v = v.trim().trim_matches('"');
        out.push((k.to_owned(), urldecode(v)));
    }
    out
}

/// PHP `urldecode`: `+` is a space, then percent-decoding.
pub(crate) fn urldecode(s: &str) -> String {
    let replaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

const OAUTH_REQUIRED: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

fn oauth(
    store: &mut Store,
    input: &AuthInput<'_>,
    authorization: Option<&str>,
) -> Result<Option<Authenticated>, RestError> {
    // array_merge($_GET, $_POST) then the header's members on top; later keys win.
    let mut params: Vec<(String, String)> = Vec::new();
    let put = |k: &str, v: &str, params: &mut Vec<(String, String)>| {
        if let Some(slot) = params.iter_mut().find(|(key, _)| key == k) {
            slot.1 = v.to_owned();
        } else {
            params.push((k.to_owned(), v.to_owned()));
        }
    };
    for (k, v) in input.params {
        put(k, v, &mut params);
    }
    if let Some(h) = authorization {
        for (k, v) in parse_oauth_header(h) {
            put(&k, &v, &mut params);
        }
    }
    let missing: Vec<&str> = OAUTH_REQUIRED
        .iter()
        .copied()
        .filter(|name| get(&params, name).is_none_or(|v| v.is_empty() || v == "0"))
        .collect();
    if missing.len() == OAUTH_REQUIRED.len() {
        return Ok(None);
    }
    if !missing.is_empty() {
        let noun = if missing.len() == 1 {
            "parameter"
        } else {
            "parameters"
        };
        return Err(RestError::new(
            401,
            "woocommerce_rest_authentication_missing_parameter",
            format!("Missing OAuth {noun} {}", missing.join(", ")),
        ));
    }
    let consumer_key = get(&params, "oauth_consumer_key")
        .unwrap_or_default()
        .to_owned();
    let home = input.home;
    let Some(key) = store.key_by_consumer_key(&consumer_key) else {
        return Err(auth_error("Consumer key is invalid."));
    };

    // check_oauth_signature
    let provided = get(&params, "oauth_signature")
        .unwrap_or_default()
        .replace(' ', "+");
    let provided = percent_encoding::percent_decode_str(&provided)
        .decode_utf8_lossy()
        .into_owned();
    let mut signed: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .cloned()
        .collect();
    signed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let joined = signed
        .iter()
        .map(|(k, v)| rawurlencode(&format!("{}={}", rawurlencode(k), rawurlencode(v))))
        .collect::<Vec<_>>()
        .join("%26");
    let base_uri = format!("{home}{}", input.raw_path);
    let string_to_sign = format!(
        "{}&{}&{}",
        input.method.as_str().to_uppercase(),
        rawurlencode(&base_uri),
        joined
    );
    let method = get(&params, "oauth_signature_method").unwrap_or_default();
    let secret = format!("{}&", key.consumer_secret);
    let computed = match method {
        "HMAC-SHA1" => Hmac::<Sha1>::new_from_slice(secret.as_bytes()).map(|mut m| {
            m.update(string_to_sign.as_bytes());
            STANDARD.encode(m.finalize().into_bytes())
        }),
        "HMAC-SHA256" => Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map(|mut m| {
            m.update(string_to_sign.as_bytes());
            STANDARD.encode(m.finalize().into_bytes())
        }),
        _ => {
            return Err(auth_error(
                "Invalid signature - signature method is invalid.",
            ));
        }
    };
    let Ok(computed) = computed else {
        return Err(auth_error(
            "Invalid signature - signature method is invalid.",
        ));
    };
    if !constant_time_eq(computed.as_bytes(), provided.as_bytes()) {
        tracing::debug!(string_to_sign, "oauth signature mismatch");
        return Err(auth_error(
            "Invalid signature - provided signature does not match.",
        ));
    }

    // check_oauth_timestamp_and_nonce
    let window = 15 * 60;
    let server_time = now().unix_timestamp();
    let timestamp: i64 = get(&params, "oauth_timestamp")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    if timestamp < server_time - window || timestamp > server_time + window {
        return Err(auth_error("Invalid timestamp."));
    }
    let nonce = get(&params, "oauth_nonce").unwrap_or_default().to_owned();
    if key.nonces.values().any(|n| *n == nonce) {
        return Err(auth_error("Invalid nonce - nonce has already been used."));
    }
    // Keyed by timestamp, like WooCommerce's serialized array: a second request carrying the
    // same timestamp replaces the earlier nonce.
    key.nonces.insert(timestamp, nonce);
    key.nonces.retain(|ts, _| *ts >= server_time - window);
    key.last_access = Some(now());
    Ok(Some(Authenticated {
        user_id: key.user_id,
        permissions: key.permissions.clone(),
    }))
}

/// `check_permissions`: the key's read/write permission against the method.
fn permissions(method: &Method, user: Authenticated) -> Result<Option<Authenticated>, RestError> {
    let p = user.permissions.as_str();
    match *method {
        Method::GET | Method::HEAD => {
            if p != "read" && p != "read_write" {
                return Err(auth_error(
                    "The API key provided does not have read permissions.",
                ));
            }
        }
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            if p != "write" && p != "read_write" {
                return Err(auth_error(
                    "The API key provided does not have write permissions.",
                ));
            }
        }
        Method::OPTIONS => {}
        _ => return Err(auth_error("Unknown request method.")),
    }
    Ok(Some(user))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rawurlencode_matches_php() {
        assert_eq!(rawurlencode("a b+c~d/é,"), "a%20b%2Bc~d%2F%C3%A9%2C");
    }

    #[test]
    fn oauth_header_members_are_parsed() {
        let p = parse_oauth_header(
            r#"OAuth realm="x", oauth_consumer_key="ck_1", oauth_nonce="a%2Bb""#,
        );
        assert_eq!(
            p,
            vec![
                ("oauth_consumer_key".into(), "ck_1".into()),
                ("oauth_nonce".into(), "a+b".into())
            ]
        );
    }
}
