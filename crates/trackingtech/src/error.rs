//! The one error type of the client and the classification every retry decision starts from.

use std::collections::BTreeMap;
use std::time::Duration;

/// Field errors of a 422 answer, keyed like Laravel (`products.0.quantity`).
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again later; the server may have said when.
    Transient { retry_after: Option<Duration> },
    /// The token or credentials are no longer accepted: a person must log in again.
    Auth,
    /// The request itself is wrong; sending it again unchanged will fail again.
    Rejected,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer: connection refused or reset, DNS, TLS, timeout, a body cut short.
    #[error("could not reach TrackingTech: {0}")]
    Transport(#[source] reqwest::Error),
    /// 408 and 5xx.
    #[error("TrackingTech is unavailable (HTTP {status}): {message}")]
    Unavailable {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// 429.
    #[error("TrackingTech asked to slow down (HTTP 429): {message}")]
    Throttled {
        message: String,
        retry_after: Option<Duration>,
    },
    /// 401 and 403.
    #[error("TrackingTech refused the credentials (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// Every other 4xx, with the server's message and field errors.
    #[error("TrackingTech rejected the request (HTTP {status}): {message}")]
    Rejected {
        status: u16,
        message: String,
        errors: FieldErrors,
    },
    /// An answer that does not follow the contract (not JSON, missing fields, a 3xx).
    #[error("TrackingTech sent an unreadable answer (HTTP {status}): {reason}")]
    InvalidResponse { status: u16, reason: String },
    /// A tenant's address that is not public (loopback, private, ...): no connection was made.
    #[error("{0}")]
    NotPublic(egress::Refused),
    /// A base URL that is not http(s).
    #[error("invalid TrackingTech base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
}

impl Error {
    /// A transport error, or the guard's refusal when that is what it was.
    pub(crate) fn transport(source: reqwest::Error) -> Error {
        match egress::refusal(&source) {
            Some(refused) => Error::NotPublic(refused.clone()),
            None => Error::Transport(source),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Transport(_) => ErrorClass::Transient { retry_after: None },
            // A tenant whose address turns private (a DNS mistake) may come back; orders wait.
            Error::NotPublic(_) => ErrorClass::Transient { retry_after: None },
            Error::Unavailable { retry_after, .. } | Error::Throttled { retry_after, .. } => {
                ErrorClass::Transient {
                    retry_after: *retry_after,
                }
            }
            // An unreadable answer is most often a proxy or a deploy in progress; the request
            // was well-formed, so retrying (with the same idempotency key) is safe and right.
            Error::InvalidResponse { .. } => ErrorClass::Transient { retry_after: None },
            Error::Unauthorized { .. } => ErrorClass::Auth,
            Error::Rejected { .. } | Error::InvalidBaseUrl { .. } => ErrorClass::Rejected,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Unavailable { status, .. }
            | Error::Unauthorized { status, .. }
            | Error::Rejected { status, .. }
            | Error::InvalidResponse { status, .. } => Some(*status),
            Error::Throttled { .. } => Some(429),
            Error::InvalidBaseUrl { .. } | Error::NotPublic(_) => None,
        }
    }

    /// The server's message, when it sent one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Unavailable { message, .. }
            | Error::Throttled { message, .. }
            | Error::Unauthorized { message, .. }
            | Error::Rejected { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Field errors of a 422, empty otherwise.
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            Error::Rejected { errors, .. } => Some(errors),
            _ => None,
        }
    }

    pub(crate) fn from_status(status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|b| b.message.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| default_message(status).to_owned());
        // A server's message is shown to merchants and written to logs; a runaway one (an HTML
        // page squeezed into `message`) is cut to a readable length.
        let message = truncate(message, 300);
        match status {
            401 | 403 => Error::Unauthorized { status, message },
            408 | 500..=599 => Error::Unavailable {
                status,
                message,
                retry_after,
            },
            429 => Error::Throttled {
                message,
                retry_after,
            },
            400..=499 => Error::Rejected {
                status,
                message,
                errors: parsed.and_then(|b| b.errors).unwrap_or_default(),
            },
            _ => Error::InvalidResponse {
                status,
                reason: format!("unexpected HTTP status {status}"),
            },
        }
    }
}

/// The [`Error`] the client makes of a non-2xx answer with this status, body and
/// `Retry-After` (in seconds).
///
/// For fuzzing and tests only: the client builds these itself, so nothing else should need it.
#[doc(hidden)]
pub fn error_from_answer(status: u16, body: &[u8], retry_after_secs: Option<u64>) -> Error {
    Error::from_status(status, body, retry_after_secs.map(Duration::from_secs))
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, deserialize_with = "lenient_errors")]
    errors: Option<FieldErrors>,
}

/// Laravel gives `{"field": ["msg", ...]}`; tolerate a bare string per field too.
fn lenient_errors<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<FieldErrors>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    let raw = Option::<BTreeMap<String, OneOrMany>>::deserialize(d).unwrap_or(None);
    Ok(raw.map(|m| {
        m.into_iter()
            .map(|(k, v)| match v {
                OneOrMany::Many(v) => (k, v),
                OneOrMany::One(s) => (k, vec![s]),
            })
            .collect()
    }))
}

fn default_message(status: u16) -> &'static str {
    match status {
        401 => "Unauthenticated.",
        403 => "Forbidden.",
        404 => "Not found.",
        409 => "Conflict.",
        422 => "The given data was invalid.",
        429 => "Too many requests.",
        _ => "No message.",
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        let t = |s| Error::from_status(s, b"{}", None).class();
        assert_eq!(t(408), ErrorClass::Transient { retry_after: None });
        assert_eq!(t(500), ErrorClass::Transient { retry_after: None });
        assert_eq!(t(503), ErrorClass::Transient { retry_after: None });
        assert_eq!(t(401), ErrorClass::Auth);
        assert_eq!(t(403), ErrorClass::Auth);
        for s in [400, 404, 409, 413, 422] {
            assert_eq!(t(s), ErrorClass::Rejected, "{s}");
        }
        let throttled = Error::from_status(429, b"{}", Some(Duration::from_secs(7)));
        assert_eq!(
            throttled.class(),
            ErrorClass::Transient {
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn keeps_message_and_field_errors() {
        let e = Error::from_status(
            422,
            br#"{"message":"The given data was invalid.","errors":{"products.0.quantity":["must be at least 1"],"x":"one"}}"#,
            None,
        );
        assert_eq!(e.message(), Some("The given data was invalid."));
        let errors = e.field_errors().cloned().unwrap_or_default();
        assert_eq!(errors["products.0.quantity"], ["must be at least 1"]);
        assert_eq!(errors["x"], ["one"]);
    }

    #[test]
    fn survives_non_json_error_bodies() {
        let e = Error::from_status(502, b"<html>Bad Gateway</html>", None);
        assert_eq!(e.message(), Some("No message."));
        let long = format!("{{\"message\":\"{}\"}}", "é".repeat(400));
        let e = Error::from_status(400, long.as_bytes(), None);
        assert!(e.message().map(|m| m.len() <= 304).unwrap_or(false));
    }
}
