//! HTTP plumbing shared by every handler: the JSON error type, body reading, bearer tokens.
//!
//! Handlers read the raw body themselves instead of using axum's `Json` extractor, because its
//! rejections are plain text and its status codes differ from the contract's (400 for malformed
//! JSON, 413 for too big, 422 for wrong fields; a missing Content-Type is no error at all).

use axum::Json;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use rand::Rng;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

/// The largest body the sandbox accepts, as the contract says.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// How much of an oversized body is read and thrown away before answering 413. Answering while
/// the client is still sending makes many clients see a reset connection instead of the 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// An answer other than success: always `{"message": ...}`, plus Laravel's `errors` for 422.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    errors: Option<Errors>,
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            errors: None,
            retry_after: None,
        }
    }

    pub(crate) fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthenticated.")
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// One-field validation failure.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let mut errors = Errors::default();
        errors.add(field, message);
        errors.into_error()
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a Errors>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            message: &self.message,
            errors: self.errors.as_ref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Laravel-style field errors, kept in the order they were found so that the summary message
/// names the first problem, as Laravel's does.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<(String, Vec<String>)>);

impl Errors {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        match self.0.iter_mut().find(|(f, _)| f == field) {
            Some((_, messages)) => messages.push(message.into()),
            None => self.0.push((field.to_owned(), vec![message.into()])),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The 422 answer: Laravel's message is the first error, plus a count of the others.
    pub(crate) fn into_error(self) -> ApiError {
        let total: usize = self.0.iter().map(|(_, m)| m.len()).sum();
        let first = self
            .0
            .first()
            .and_then(|(_, m)| m.first())
            .cloned()
            .unwrap_or_else(|| "The given data was invalid.".to_owned());
        let message = match total {
            0 | 1 => first,
            2 => format!("{first} (and 1 more error)"),
            n => format!("{first} (and {} more errors)", n - 1),
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
            errors: Some(self),
            retry_after: None,
        }
    }

    /// `Ok` when nothing was found, else the 422 answer.
    pub(crate) fn check(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }
}

impl Serialize for Errors {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, messages) in &self.0 {
            map.serialize_entry(field, messages)?;
        }
        map.end()
    }
}

/// A JSON success answer.
pub(crate) fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Reads the whole body, refusing more than [`BODY_LIMIT`] bytes with 413.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    let mut body = body;
    let mut buf = BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            tracing::debug!(%error, "request body could not be read");
            ApiError::new(StatusCode::BAD_REQUEST, "Could not read the request body.")
        })?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= BODY_LIMIT {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_LIMIT {
                break;
            }
        }
    }
    if seen > BODY_LIMIT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is larger than 1 MiB.",
        ));
    }
    Ok(buf.freeze())
}

/// Parses JSON; an empty body counts as `{}`, as it does for Laravel, so that it yields
/// "field is required" errors rather than a parse error.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("Malformed JSON: {e}")))
}

/// Reads and parses a JSON body.
pub(crate) async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes = read_body(body).await?;
    parse_json(&bytes)
}

/// The token of an `Authorization: Bearer ...` header, if there is one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Unknown paths: a JSON 404 instead of axum's empty one.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("The route {} could not be found.", uri.path()))
}

/// Known paths, wrong method: a JSON 405 instead of axum's empty one.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "The {method} method is not supported for route {}.",
            uri.path()
        ),
    )
}

/// `n` random characters from `alphabet`.
pub(crate) fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub(crate) const ALPHANUMERIC: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const LOWER_ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
