//! Signing in to the dashboard with TrackingTech credentials, and out.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::connection::{self, StepError};
use crate::web::session::{self};
use crate::web::{ApiError, WebState, client_ip};

use super::{Body, body, guarded, req_lang, step_error};

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
    let ip = client_ip(&st.app, peer, &headers).to_string();
    st.limiter
        .check(&ip, &b.email)
        .map_err(|wait| step_error(lang, StepError::TooManyAttempts(Some(wait))))?;
    let (user, token) = connection::sign_in(&st.app, &b.code, &b.email, &b.password)
        .await
        .map_err(|e| step_error(lang, e))?;
    session.sign_in(&st.app, user, &token);
    session.save(&st.app).await?;
    Ok(Json(json!({"signed_in": true, "csrf": session.row.csrf_token})).into_response())
}

pub async fn sign_out(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    st.app.store().delete_session(&session.row.id_hash).await?;
    let clear = session::set_cookie(&st.app, session::COOKIE, "", Some(0));
    Ok((
        [(header::SET_COOKIE, clear)],
        Json(json!({"signed_out": true})),
    )
        .into_response())
}
