//! The client's one error type and the classification every retry decision starts from.
//!
//! The classes are the same as the TrackingTech client's: transient (try again later), auth (a
//! person must fix the keys) and rejected (the request itself is wrong). Display never contains
//! secrets (URLs are stripped from transport errors, because query-string auth puts the secret
//! in the URL) nor response bodies, which hold customers' names and addresses: a non-JSON body
//! is described only by its content type and length.

use std::fmt;
use std::time::Duration;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again later; the store may have said when.
    Transient { retry_after: Option<Duration> },
    /// The keys are not accepted (revoked, wrong, lacking permission): a person must act.
    Auth,
    /// The request itself is wrong; sending it again unchanged will fail again.
    Rejected,
}

/// Which part of the exchange failed when there was no usable HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// DNS, refused or reset connection, TLS handshake.
    Connect,
    Timeout,
    /// The answer's body was cut short or could not be read.
    Body,
    /// Anything else reqwest reports (a connection closed mid-request, a protocol error).
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Body => "body",
            TransportKind::Other => "request",
        })
    }
}

/// Why a 2xx body could not be read as the expected JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProblem {
    /// Not JSON at all: an HTML page from a cache, firewall or PHP fatal error, or empty.
    NotJson,
    /// JSON that stops early: a connection or PHP process cut off mid-answer.
    Truncated,
    /// Valid JSON of the wrong shape (a field of the wrong type, an object for a list).
    UnexpectedShape { line: usize, column: usize },
    /// Larger than the client accepts.
    TooLarge,
}

impl fmt::Display for BodyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyProblem::NotJson => f.write_str("not JSON"),
            BodyProblem::Truncated => f.write_str("truncated JSON"),
            BodyProblem::UnexpectedShape { line, column } => {
                write!(
                    f,
                    "JSON of an unexpected shape at line {line} column {column}"
                )
            }
            BodyProblem::TooLarge => f.write_str("too large"),
        }
    }
}

/// What is wrong with the certificate a store presented over https.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertProblem {
    /// Out of its validity period (expired, or not yet valid).
    Expired,
    /// Issued for other names than the store's host.
    WrongHost,
    /// Signed by an authority the client does not trust (self-signed, or a missing
    /// intermediate certificate).
    UnknownIssuer,
    /// Any other certificate failure (revoked, bad signature, unsupported).
    Other,
}

/// Why WooCommerce refused the keys, read from its 401's message. WooCommerce answers
/// `woocommerce_rest_authentication_error` for all of these, so only the message tells them
/// apart (`includes/class-wc-rest-authentication.php`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProblem {
    /// "Consumer key is invalid.": no key with this consumer key (never made, or revoked).
    UnknownKey,
    /// "Consumer secret is invalid." (keys sent over https): the key exists, the secret is not its.
    WrongSecret,
    /// "Invalid signature - provided signature does not match." (OAuth over http): the secret
    /// is not the key's, or the request was signed for another address than the store's home.
    Signature,
    /// A message not recognised (another language, a plugin's): either cause is possible.
    Unknown,
}

/// The messages of WooCommerce 9.2.5's REST authentication, in English (the source). Stores
/// in other languages send them translated; those read as [`AuthProblem::Unknown`].
const AUTH_MESSAGES: &[(&str, AuthProblem)] = &[
    ("Consumer key is invalid.", AuthProblem::UnknownKey),
    ("Consumer secret is invalid.", AuthProblem::WrongSecret),
    (
        "Invalid signature - provided signature does not match.",
        AuthProblem::Signature,
    ),
];

/// Every way a call to a store can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable answer: connection refused or reset, DNS, TLS, timeout, a body cut short.
    #[error("could not reach the store ({kind}): {source}")]
    Transport {
        kind: TransportKind,
        /// Without its URL (see the module doc).
        #[source]
        source: reqwest::Error,
    },
    /// 408 and 5xx.
    #[error("the store is unavailable (HTTP {status}){}", wc_suffix(code, message))]
    Unavailable {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// 429.
    #[error("the store asked to slow down (HTTP 429){}", wc_suffix(code, message))]
    Throttled {
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// 401 and 403: the keys are wrong, revoked, or lack the permission.
    #[error(
        "the store refused the API keys (HTTP {status}){}",
        wc_suffix(code, message)
    )]
    Unauthorized {
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    /// Every other 4xx (and 1xx), with WooCommerce's `code` and `message` when it sent them.
    #[error(
        "the store rejected the request (HTTP {status}){}",
        wc_suffix(code, message)
    )]
    Rejected {
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    /// The store's address is not public (loopback, private, link-local, ...) nor allowed by
    /// the operator: no connection was made.
    #[error("{0}")]
    NotPublic(egress::Refused),
    /// A 3xx: the store URL is not the store's home URL (http vs https, `www.`), so every
    /// request would be redirected, and a redirected OAuth request or POST is not what we sent.
    #[error("the store redirected the request (HTTP {status}) to {}; check the store URL",
        location.as_deref().unwrap_or("nowhere"))]
    Redirected {
        status: u16,
        /// The target's scheme and host only (its path and query could repeat our credentials).
        location: Option<String>,
    },
    /// A 2xx whose body is not the JSON asked for.
    #[error("the store sent an unreadable answer (HTTP {status}, {}, {length} bytes): {problem}",
        content_type.as_deref().unwrap_or("no content type"))]
    InvalidResponse {
        status: u16,
        content_type: Option<String>,
        length: usize,
        problem: BodyProblem,
    },
}

/// `": <code>: <message>"` when WooCommerce sent them; the message is cut to 200 characters.
fn wc_suffix(code: &Option<String>, message: &Option<String>) -> String {
    let mut out = String::new();
    if let Some(code) = code {
        out.push_str(": ");
        out.push_str(code);
    }
    if let Some(message) = message {
        out.push_str(": ");
        out.extend(message.chars().take(200));
    }
    out
}

impl Error {
    /// The one retry decision: see [`ErrorClass`].
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Transport { .. } => ErrorClass::Transient { retry_after: None },
            // Refused by the guard. Kept transient so a store whose name points somewhere
            // private for a while (a DNS mistake) loses no order; its last error names the
            // address, and the wizard refuses such a store before it is ever connected.
            Error::NotPublic(_) => ErrorClass::Transient { retry_after: None },
            Error::Unavailable { retry_after, .. } | Error::Throttled { retry_after, .. } => {
                ErrorClass::Transient {
                    retry_after: *retry_after,
                }
            }
            // A 2xx with an unreadable body is nearly always passing: a caching or security
            // plugin serving an HTML page, a PHP notice or fatal error, a process killed
            // mid-answer. The request was accepted, so asking again is the right move; if the
            // store keeps answering garbage the caller's capped backoff and its last-error
            // display are what surface it to a person.
            Error::InvalidResponse { .. } => ErrorClass::Transient { retry_after: None },
            Error::Unauthorized { .. } => ErrorClass::Auth,
            Error::Rejected { .. } | Error::Redirected { .. } => ErrorClass::Rejected,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            Error::Throttled { .. } => Some(429),
            Error::NotPublic(_) => None,
            Error::Unavailable { status, .. }
            | Error::Unauthorized { status, .. }
            | Error::Rejected { status, .. }
            | Error::Redirected { status, .. }
            | Error::InvalidResponse { status, .. } => Some(*status),
        }
    }

    /// WooCommerce's error `code` (e.g. `woocommerce_rest_shop_order_invalid_id`).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Unavailable { code, .. }
            | Error::Throttled { code, .. }
            | Error::Unauthorized { code, .. }
            | Error::Rejected { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// WooCommerce's error `message`.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Unavailable { message, .. }
            | Error::Throttled { message, .. }
            | Error::Unauthorized { message, .. }
            | Error::Rejected { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// The guard's refusal, when the store's address is not public.
    pub fn refused(&self) -> Option<&egress::Refused> {
        match self {
            Error::NotPublic(refused) => Some(refused),
            _ => None,
        }
    }

    /// Why the keys were refused, when this is WooCommerce's 401 authentication error.
    pub fn auth_problem(&self) -> Option<AuthProblem> {
        let Error::Unauthorized {
            status: 401,
            code,
            message,
        } = self
        else {
            return None;
        };
        if code.as_deref() != Some("woocommerce_rest_authentication_error") {
            return None;
        }
        let message = message.as_deref().unwrap_or("").trim();
        Some(
            AUTH_MESSAGES
                .iter()
                .find(|(text, _)| *text == message)
                .map_or(AuthProblem::Unknown, |(_, problem)| *problem),
        )
    }

    /// What is wrong with the store's certificate, when the TLS handshake failed on it. Found by
    /// walking the transport error's causes to rustls's own error (hyper wraps it in
    /// `io::Error`s, whose `source()` skips the error each carries, so those are opened instead).
    pub fn cert_problem(&self) -> Option<CertProblem> {
        let Error::Transport { source, .. } = self else {
            return None;
        };
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(source);
        while let Some(e) = next {
            if let Some(problem) = rustls_cert_problem(e) {
                return Some(problem);
            }
            next = match e.downcast_ref::<std::io::Error>() {
                Some(io) => io.get_ref().map(|inner| inner as _),
                None => e.source(),
            };
        }
        None
    }

    /// A 404 (or WooCommerce's 400 "Invalid ID." on update): the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Rejected { status: 404, .. } => true,
            Error::Rejected {
                code: Some(code), ..
            } => code.ends_with("_invalid_id"),
            _ => false,
        }
    }

    /// Builds the error for a non-2xx answer. `code`/`message` come from WooCommerce's error JSON
    /// when the body was one.
    pub(crate) fn from_status(
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<Duration>,
        location: Option<String>,
    ) -> Error {
        match status {
            429 => Error::Throttled {
                code,
                message,
                retry_after,
            },
            408 | 500..=599 => Error::Unavailable {
                status,
                code,
                message,
                retry_after,
            },
            401 | 403 => Error::Unauthorized {
                status,
                code,
                message,
            },
            300..=399 => Error::Redirected { status, location },
            _ => Error::Rejected {
                status,
                code,
                message,
            },
        }
    }

    pub(crate) fn transport(source: reqwest::Error) -> Error {
        if let Some(refused) = egress::refusal(&source) {
            return Error::NotPublic(refused.clone());
        }
        let kind = if source.is_timeout() {
            TransportKind::Timeout
        } else if source.is_connect() {
            TransportKind::Connect
        } else if source.is_body() || source.is_decode() {
            TransportKind::Body
        } else {
            TransportKind::Other
        };
        Error::Transport {
            kind,
            source: source.without_url(),
        }
    }
}

fn rustls_cert_problem(e: &(dyn std::error::Error + 'static)) -> Option<CertProblem> {
    use rustls::CertificateError as C;
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(cert) => Some(match cert {
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => CertProblem::Expired,
            C::NotValidForName | C::NotValidForNameContext { .. } => CertProblem::WrongHost,
            C::UnknownIssuer => CertProblem::UnknownIssuer,
            _ => CertProblem::Other,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16) -> ErrorClass {
        Error::from_status(status, None, None, None, None).class()
    }

    #[test]
    fn classes_follow_the_status() {
        assert_eq!(class(408), ErrorClass::Transient { retry_after: None });
        assert_eq!(class(500), ErrorClass::Transient { retry_after: None });
        assert_eq!(class(503), ErrorClass::Transient { retry_after: None });
        assert_eq!(class(401), ErrorClass::Auth);
        assert_eq!(class(403), ErrorClass::Auth);
        assert_eq!(class(400), ErrorClass::Rejected);
        assert_eq!(class(404), ErrorClass::Rejected);
        assert_eq!(class(301), ErrorClass::Rejected);
        let e = Error::from_status(429, None, None, Some(Duration::from_secs(7)), None);
        assert_eq!(
            e.class(),
            ErrorClass::Transient {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(e.status(), Some(429));
        let e = Error::InvalidResponse {
            status: 200,
            content_type: Some("text/html".into()),
            length: 10,
            problem: BodyProblem::NotJson,
        };
        assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });
    }

    #[test]
    fn display_keeps_code_and_message_and_cuts_long_messages() {
        let e = Error::from_status(
            404,
            Some("woocommerce_rest_shop_order_invalid_id".into()),
            Some("Invalid ID.".into()),
            None,
            None,
        );
        assert_eq!(
            e.to_string(),
            "the store rejected the request (HTTP 404): woocommerce_rest_shop_order_invalid_id: Invalid ID."
        );
        assert!(e.is_not_found());
        let long = "x".repeat(1000);
        let e = Error::from_status(400, None, Some(long), None, None);
        assert!(e.to_string().len() < 300);
    }

    #[test]
    fn auth_problems_are_read_from_woocommerce_messages() {
        let refused = |status: u16, code: &str, message: &str| {
            Error::from_status(status, Some(code.into()), Some(message.into()), None, None)
                .auth_problem()
        };
        let auth = "woocommerce_rest_authentication_error";
        assert_eq!(
            refused(401, auth, "Consumer key is invalid."),
            Some(AuthProblem::UnknownKey)
        );
        assert_eq!(
            refused(401, auth, "Consumer secret is invalid."),
            Some(AuthProblem::WrongSecret)
        );
        assert_eq!(
            refused(
                401,
                auth,
                "Invalid signature - provided signature does not match."
            ),
            Some(AuthProblem::Signature)
        );
        assert_eq!(
            refused(401, auth, "La clave no es válida."),
            Some(AuthProblem::Unknown)
        );
        // A permission refusal is not an authentication failure.
        assert_eq!(
            refused(
                403,
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources."
            ),
            None
        );
    }
}
