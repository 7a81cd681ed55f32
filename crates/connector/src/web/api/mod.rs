//! The JSON actions the pages call, the wc-auth callback and return, and the webhook receiver,
//! one file per concern: `wizard` (the steps and wc-auth), `signin` (signing in and out),
//! `connections` (the dashboard's actions on a connection) and `webhook` (the receiver).
//!
//! Every action that changes state needs the session's CSRF token (`X-CSRF-Token`) and answers
//! 403 without it, before touching anything; actions on a connection answer 404 unless the
//! session's TrackingTech user owns it.

mod connections;
mod signin;
mod webhook;
mod wizard;

pub use connections::*;
pub use signin::*;
pub use webhook::*;
pub use wizard::*;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::i18n::{self, Lang};
use super::session::{self, Session};
use super::{ApiError, lang};
use crate::app::App;
use crate::connection::StepError;

/// How long keys WooCommerce delivered wait for their wizard (and a wc-auth attempt lives).
pub(crate) const GRANT_TTL: time::Duration = time::Duration::hours(1);

pub(super) type Body<T> = Result<Json<T>, JsonRejection>;

pub(super) fn body<T>(b: Body<T>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {}", e.body_text()),
        )
    })
}

pub(super) fn step_error(lang: Lang, e: StepError) -> ApiError {
    let (status, field) = match &e {
        StepError::InvalidStoreUrl(_) | StepError::StoreRedirects(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("store_url"))
        }
        StepError::StoreUnreachable
        | StepError::StoreNotPublic
        | StepError::NotWooCommerce
        | StepError::UseStoreAddress(_)
        | StepError::StoreCertificate(_) => (StatusCode::UNPROCESSABLE_ENTITY, Some("store_url")),
        StepError::InvalidCode(_) | StepError::UnknownCode | StepError::CourierInactive => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("code"))
        }
        StepError::WrongCredentials => (StatusCode::UNPROCESSABLE_ENTITY, Some("password")),
        StepError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, None),
        StepError::UnknownStore => (StatusCode::UNPROCESSABLE_ENTITY, Some("store_id")),
        StepError::InvalidKeys(_)
        | StepError::WooAccessDenied
        | StepError::WooUnknownKey
        | StepError::KeysReadOnly => (StatusCode::UNPROCESSABLE_ENTITY, Some("consumer_key")),
        StepError::WooWrongSecret | StepError::WooSignature(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("consumer_secret"))
        }
        StepError::NoStores | StepError::TrackingTechRefused(_) | StepError::WebhookRefused(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        StepError::SessionExpired | StepError::OutOfOrder => (StatusCode::CONFLICT, None),
        StepError::HeldByAnotherAccount { .. } => (StatusCode::CONFLICT, None),
        StepError::TrackingTechUnavailable => (StatusCode::SERVICE_UNAVAILABLE, None),
        StepError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, None),
    };
    let mut err = ApiError::new(status, i18n::step_error(lang, &e));
    if let Some(field) = field {
        err = err.field(field);
    }
    if let StepError::TooManyAttempts(wait) = e {
        err = err.retry_after(wait.unwrap_or(std::time::Duration::from_secs(60)));
    }
    err
}

/// A JSON answer for `session`: when its id changed, the new cookie goes with it, and the new
/// CSRF token as `csrf` (the page's script keeps it for the next action).
pub(super) fn answer(app: &App, session: &Session, mut body: Value) -> Response {
    let Some(cookie) = session.cookie(app) else {
        return Json(body).into_response();
    };
    body["csrf"] = json!(session.row.csrf_token);
    ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
}

/// The session of a state-changing action, CSRF checked: a stored one, or a visitor's not
/// stored yet (written, under a new id, when the action saves it).
pub(super) async fn guarded(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<Session, ApiError> {
    let session = session::acting(app, headers).await?;
    match session {
        Some(s) if s.csrf_ok(headers) => Ok(s),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            lang.t().session_expired,
        )),
    }
}

pub(super) fn req_lang(headers: &HeaderMap) -> Lang {
    lang(headers, None)
}
