//! Signing in to the dashboard with TrackingTech credentials, and out.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::connection::{self, StepError};
use crate::web::session::{self};
use crate::web::{ApiError, WebState, client_ip};

use super::{Body, answer, body, guarded, req_lang, step_error};

// ---- Signing in and out ----

#[derive(Deserialize)]
pub struct SignInBody {
    code: String,
    email: String,
    password: String,
}

pub async fn sign_in(
    State(st): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    b: Body<SignInBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let ip = client_ip(&st.app, peer, &headers);
    st.limiter
        .admit(ip, &b.email)
        .map_err(|wait| step_error(lang, StepError::TooManyAttempts(Some(wait))))?;
    let (user, token) = connection::sign_in(&st.app, &b.code, &b.email, &b.password)
        .await
        .map_err(|e| {
            count_failure(&st, ip, &b.email, &e);
            step_error(lang, e)
        })?;
    // A new id and CSRF token: a cookie planted before signing in is dead now.
    session.sign_in(&st.app, user, &token);
    session.save(&st.app).await?;
    Ok(answer(&st.app, &session, json!({"signed_in": true})))
}

/// Counts a failed sign-in (dashboard or wizard) toward the limits: wrong credentials for the
/// client, the pair and the email; a courier code that does not resolve for the client alone.
/// Nothing else counts — an unavailable TrackingTech is no one's guess.
pub(super) fn count_failure(st: &WebState, ip: IpAddr, email: &str, e: &StepError) {
    match e {
        StepError::WrongCredentials => st.limiter.failed(ip, email),
        StepError::InvalidCode(_) | StepError::UnknownCode | StepError::CourierInactive => {
            st.limiter.failed_client(ip)
        }
        _ => {}
    }
}

/// Signs out: the row is deleted, and the browser gets a new visitor's cookie (and its CSRF
/// token), so nothing of the old session's id lives on.
pub async fn sign_out(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    if session.is_stored() {
        st.app.store().delete_session(&session.row.id_hash).await?;
    }
    let (visitor, cookie) = session::fresh_visitor(&st.app);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"signed_out": true, "csrf": visitor.row.csrf_token})),
    )
        .into_response())
}
