//! Fault injection and the request log: a middleware in front of every contract path.
//!
//! Admin paths (`/_sandbox/...`) pass straight through, so a test can always reach the controls
//! even while the contract is "down". Every other request (unknown paths included) is logged
//! first, then may be delayed, refused (503 down, 429 throttled, 500 error) or dropped mid-answer;
//! a faulted request never reaches its handler, so a faulted send creates nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rand::Rng;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::state::{App, LoggedRequest};
use crate::validate::display;
use crate::web::{ApiError, Errors};
use crate::{clock, state};

/// The faults in force; all zero means none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Faults {
    pub(crate) latency_ms: u64,
    pub(crate) error_rate: f64,
    pub(crate) throttle_rate: f64,
    pub(crate) retry_after_secs: u64,
    pub(crate) down_for_secs: u64,
    pub(crate) drop_rate: f64,
}

impl Faults {
    /// Reads a `PUT /_sandbox/faults` body: every field optional (absent means off), unknown
    /// fields and rates outside 0..=1 refused.
    pub(crate) fn parse(body: &Map<String, Value>) -> Result<Faults, ApiError> {
        let mut errors = Errors::default();
        crate::validate::only(
            body,
            &[
                "latency_ms",
                "error_rate",
                "throttle_rate",
                "retry_after_secs",
                "down_for_secs",
                "drop_rate",
            ],
            "",
            &mut errors,
        );
        let int = |name: &str, errors: &mut Errors| match body.get(name) {
            None | Some(Value::Null) => 0,
            Some(v) => crate::validate::integer_value(v, name, 0, errors).unwrap_or(0),
        };
        let rate = |name: &str, errors: &mut Errors| match body.get(name) {
            None | Some(Value::Null) => 0.0,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(r) if (0.0..=1.0).contains(&r) => r,
                _ => {
                    errors.add(
                        name,
                        format!("The {} field must be between 0 and 1.", display(name)),
                    );
                    0.0
                }
            },
            Some(_) => {
                errors.add(
                    name,
                    format!("The {} field must be a number.", display(name)),
                );
                0.0
            }
        };
        let faults = Faults {
            latency_ms: int("latency_ms", &mut errors),
            error_rate: rate("error_rate", &mut errors),
            throttle_rate: rate("throttle_rate", &mut errors),
            retry_after_secs: int("retry_after_secs", &mut errors),
            down_for_secs: int("down_for_secs", &mut errors),
            drop_rate: rate("drop_rate", &mut errors),
        };
        errors.check()?;
        Ok(faults)
    }
}

/// What the middleware decided for one request.
enum Outcome {
    Pass,
    Down(u64),
    Throttle(u64),
    Error,
    Drop,
}

pub(crate) fn is_admin_path(path: &str) -> bool {
    path == "/_sandbox" || path.starts_with("/_sandbox/")
}

pub(crate) async fn middleware(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_admin_path(&path) {
        return next.run(req).await;
    }
    let latency = {
        let mut runtime = app.runtime();
        if runtime.requests.len() >= state::REQUEST_LOG_LIMIT {
            runtime.requests.pop_front();
        }
        runtime.requests.push_back(LoggedRequest {
            method: req.method().to_string(),
            path,
            at_ms: clock::now_ms(),
        });
        runtime.faults.latency_ms
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match decide(&app) {
        Outcome::Pass => next.run(req).await,
        Outcome::Down(secs) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
                .retry_after(secs)
                .into_response()
        }
        Outcome::Throttle(secs) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.")
                .retry_after(secs)
                .into_response()
        }
        Outcome::Error => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Server Error").into_response()
        }
        Outcome::Drop => dropped(),
    }
}

fn decide(app: &App) -> Outcome {
    let mut runtime = app.runtime();
    if let Some(until) = runtime.down_until {
        let now = Instant::now();
        if now < until {
            let remaining = (until - now).as_secs_f64().ceil() as u64;
            return Outcome::Down(remaining.max(1));
        }
        runtime.down_until = None;
    }
    let faults = &runtime.faults;
    let mut rng = rand::rng();
    // Each rate is drawn on its own, checked in the order a real outage would show them.
    if faults.throttle_rate > 0.0 && rng.random::<f64>() < faults.throttle_rate {
        return Outcome::Throttle(faults.retry_after_secs.max(1));
    }
    if faults.error_rate > 0.0 && rng.random::<f64>() < faults.error_rate {
        return Outcome::Error;
    }
    if faults.drop_rate > 0.0 && rng.random::<f64>() < faults.drop_rate {
        return Outcome::Drop;
    }
    Outcome::Pass
}

/// A 200 that promises a body it never finishes: the stream fails after the first bytes, so
/// hyper aborts the connection and the client sees a transport error, not an answer.
fn dropped() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"message\":")),
        Err(std::io::Error::other(
            "connection dropped by the sandbox (drop_rate fault)",
        )),
    ];
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(1024u32));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
