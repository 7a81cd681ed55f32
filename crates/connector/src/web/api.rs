//! The JSON actions the pages call, the wc-auth callback and return, and the webhook receiver.
//!
//! Every action that changes state needs the session's CSRF token (`X-CSRF-Token`) and answers
//! 403 without it, before touching anything; actions on a connection answer 404 unless the
//! session's TrackingTech user owns it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::i18n::{self, Lang};
use super::session::{self, Session, WizardState};
use super::{ApiError, WebState, client_ip, lang};
use crate::app::App;
use crate::connection::{self, ConnectRequest, StepError};
use crate::store::{self, ConnectionRow, ConnectionState};

/// How long keys WooCommerce delivered wait for their wizard.
const GRANT_TTL: time::Duration = time::Duration::hours(1);

type Body<T> = Result<Json<T>, JsonRejection>;

fn body<T>(b: Body<T>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {}", e.body_text()),
        )
    })
}

fn step_error(lang: Lang, e: StepError) -> ApiError {
    let (status, field) = match &e {
        StepError::InvalidStoreUrl(_) | StepError::StoreRedirects(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("store_url"))
        }
        StepError::StoreUnreachable | StepError::NotWooCommerce => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("store_url"))
        }
        StepError::InvalidCode(_) | StepError::UnknownCode | StepError::CourierInactive => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("code"))
        }
        StepError::WrongCredentials => (StatusCode::UNPROCESSABLE_ENTITY, Some("password")),
        StepError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, None),
        StepError::UnknownStore => (StatusCode::UNPROCESSABLE_ENTITY, Some("store_id")),
        StepError::InvalidKeys(_) | StepError::WooAccessDenied | StepError::KeysReadOnly => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("consumer_key"))
        }
        StepError::NoStores | StepError::TrackingTechRefused(_) | StepError::WebhookRefused(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        StepError::SessionExpired | StepError::OutOfOrder => (StatusCode::CONFLICT, None),
        StepError::TrackingTechUnavailable => (StatusCode::SERVICE_UNAVAILABLE, None),
        StepError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, None),
    };
    let mut err = ApiError::new(status, i18n::step_error(lang, &e));
    if let Some(field) = field {
        err = err.field(field);
    }
    err
}

/// The session of a state-changing action, CSRF checked.
async fn guarded(app: &App, headers: &HeaderMap, lang: Lang) -> Result<Session, ApiError> {
    let session = session::load(app, headers).await?;
    match session {
        Some(s) if s.csrf_ok(headers) => Ok(s),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            lang.t().session_expired,
        )),
    }
}

fn req_lang(headers: &HeaderMap) -> Lang {
    lang(headers, None)
}

// ---- The wizard ----

#[derive(Deserialize)]
pub struct StartBody {
    store_url: String,
    code: String,
}

pub async fn wizard_state(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(session) = session::load(&st.app, &headers).await? else {
        return Ok(Json(json!({"step": "start"})).into_response());
    };
    let wizard = session.wizard(&st.app);
    Ok(Json(wizard_view(&session, &wizard)).into_response())
}

fn wizard_view(session: &Session, w: &WizardState) -> Value {
    let step = if w.done.is_some() {
        "done"
    } else if w.chosen.is_some() {
        "keys"
    } else if w.started.is_some() && session.user.is_some() && !w.stores.is_empty() {
        "store"
    } else if w.started.is_some() {
        "login"
    } else {
        "start"
    };
    json!({
        "step": step,
        "store_url": w.started.as_ref().map(|s| &s.store_url),
        "tenant_name": w.started.as_ref().map(|s| &s.tenant_name),
        "stores": w.stores,
        "chosen": w.chosen,
        "denied": w.denied,
        "connection_id": w.done,
        "user": session.user.as_ref().map(|u| json!({"name": u.name, "email": u.email})),
    })
}

pub async fn wizard_start(
    State(st): State<WebState>,
    headers: HeaderMap,
    b: Body<StartBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let _lock = st.wizard_locks.lock(&session.row.id_hash).await;
    let started = connection::start(&st.app, &b.store_url, &b.code)
        .await
        .map_err(|e| step_error(lang, e))?;
    // A new first step restarts the wizard: what later steps chose no longer applies.
    let mut wizard = WizardState {
        started: Some(started.clone()),
        ..WizardState::default()
    };
    // A merchant already signed in with this courier skips the login.
    if let (Some(user), Some(token)) = (session.user.clone(), session.tt_token(&st.app))
        && user.tenant_code == started.tenant_code
        && user.api_base == started.api_base
        && let Ok(stores) = connection::stores(&st.app, &user, &token).await
    {
        wizard.stores = stores;
    }
    session.set_wizard(&st.app, &wizard);
    session.save(&st.app).await?;
    Ok(Json(wizard_view(&session, &wizard)).into_response())
}

#[derive(Deserialize)]
pub struct LoginBody {
    email: String,
    password: String,
}

pub async fn wizard_login(
    State(st): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    b: Body<LoginBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let _lock = st.wizard_locks.lock(&session.row.id_hash).await;
    let mut wizard = session.wizard(&st.app);
    let Some(started) = wizard.started.clone() else {
        return Err(step_error(lang, StepError::OutOfOrder));
    };
    let ip = client_ip(&st.app, peer, &headers).to_string();
    st.limiter
        .check(&ip, &b.email)
        .map_err(|wait| step_error(lang, StepError::TooManyAttempts(Some(wait))))?;
    let (user, token) = connection::login(
        &st.app,
        &started.tenant_code,
        &started.tenant_name,
        &started.api_base,
        &b.email,
        &b.password,
    )
    .await
    .map_err(|e| step_error(lang, e))?;
    let stores = connection::stores(&st.app, &user, &token)
        .await
        .map_err(|e| step_error(lang, e))?;
    session.sign_in(&st.app, user, &token);
    wizard.stores = stores;
    wizard.chosen = None;
    wizard.grant = None;
    wizard.done = None;
    session.set_wizard(&st.app, &wizard);
    session.save(&st.app).await?;
    let mut view = wizard_view(&session, &wizard);
    // Signing in rotated the CSRF token; the page continues with the new one.
    view["csrf"] = json!(session.row.csrf_token);
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
pub struct StoreBody {
    store_id: Value,
}

pub async fn wizard_store(
    State(st): State<WebState>,
    headers: HeaderMap,
    b: Body<StoreBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let _lock = st.wizard_locks.lock(&session.row.id_hash).await;
    let mut wizard = session.wizard(&st.app);
    let Some(started) = wizard.started.clone() else {
        return Err(step_error(lang, StepError::OutOfOrder));
    };
    if session.user.is_none() || wizard.stores.is_empty() {
        return Err(step_error(lang, StepError::OutOfOrder));
    }
    // The page may send the id as the number or the text it showed.
    let wanted = b.store_id.to_string().trim_matches('"').to_owned();
    let chosen = wizard
        .stores
        .iter()
        .find(|s| s.id.to_string() == wanted)
        .cloned()
        .ok_or_else(|| step_error(lang, StepError::UnknownStore))?;
    wizard.chosen = Some(chosen);
    wizard.denied = false;
    wizard.done = None;
    let grant = new_grant(&st.app);
    wizard.grant = Some(grant.clone());
    session.set_wizard(&st.app, &wizard);
    session.save(&st.app).await?;
    let authorize_url =
        authorize_url(&st.app, &started.store_url, &grant).map_err(|e| step_error(lang, e))?;
    let mut view = wizard_view(&session, &wizard);
    view["authorize_url"] = json!(authorize_url);
    Ok(Json(view).into_response())
}

fn authorize_url(app: &App, store_url: &str, grant: &str) -> Result<String, StepError> {
    let store = woocommerce::StoreUrl::parse(store_url)
        .map_err(|e| StepError::InvalidStoreUrl(e.to_string()))?;
    let parse =
        |path: &str| url::Url::parse(&app.settings().public(path)).map_err(|_| StepError::Internal);
    let request = woocommerce::wc_auth::AuthorizeRequest {
        app_name: "TrackingTech (ttwc)".to_owned(),
        scope: woocommerce::wc_auth::Scope::ReadWrite,
        user_id: grant.to_owned(),
        return_url: parse("/wc-auth/return")?,
        callback_url: parse("/wc-auth/callback")?,
    };
    Ok(woocommerce::wc_auth::authorize_url(&store, &request).to_string())
}

/// A wc-auth attempt id: random, with a tag only this installation can compute, so the
/// callback can refuse ids it never issued without a lookup.
fn new_grant(app: &App) -> String {
    let random = session::random_token();
    format!("{random}.{}", grant_tag(app, &random))
}

fn grant_tag(app: &App, random: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ttwc wc-auth grant\0");
    h.update(app.installation().salt.as_bytes());
    h.update(random.as_bytes());
    hex::encode(&h.finalize()[..12])
}

fn grant_is_ours(app: &App, grant: &str) -> bool {
    use subtle::ConstantTimeEq;
    match grant.split_once('.') {
        Some((random, tag)) if random.len() <= 64 => tag
            .as_bytes()
            .ct_eq(grant_tag(app, random).as_bytes())
            .into(),
        _ => false,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KeysBody {
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
}

#[derive(serde::Serialize, Deserialize)]
struct GrantedKeys {
    consumer_key: String,
    consumer_secret: String,
    permissions: String,
}

pub async fn wizard_keys(
    State(st): State<WebState>,
    headers: HeaderMap,
    b: Body<KeysBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let _lock = st.wizard_locks.lock(&session.row.id_hash).await;
    let mut wizard = session.wizard(&st.app);
    // Posted twice: the second answer is the first one's result, not a second connection.
    if let Some(done) = &wizard.done
        && let Some(row) = st.app.store().connection(done).await?
    {
        return Ok(
            Json(json!({"step": "done", "connection": summary(&st.app, &row).await?}))
                .into_response(),
        );
    }
    let (Some(started), Some(chosen), Some(user), Some(token)) = (
        wizard.started.clone(),
        wizard.chosen.clone(),
        session.user.clone(),
        session.tt_token(&st.app),
    ) else {
        return Err(step_error(lang, StepError::OutOfOrder));
    };
    let pasted = b
        .consumer_key
        .as_deref()
        .is_some_and(|k| !k.trim().is_empty())
        || b.consumer_secret
            .as_deref()
            .is_some_and(|k| !k.trim().is_empty());
    let (credentials, permissions) = if pasted {
        let creds = woocommerce::Credentials::new(
            b.consumer_key.unwrap_or_default(),
            b.consumer_secret.unwrap_or_default(),
        )
        .map_err(|e| step_error(lang, StepError::InvalidKeys(e.to_string())))?;
        (creds, None)
    } else {
        let grant = wizard
            .grant
            .clone()
            .ok_or_else(|| step_error(lang, StepError::OutOfOrder))?;
        let grant_hash = session::hash(&grant);
        let sealed = st
            .app
            .store()
            .take_granted_keys(&grant_hash, store::now() - GRANT_TTL)
            .await?
            .ok_or_else(|| step_error(lang, StepError::OutOfOrder))?;
        let keys: GrantedKeys = st
            .app
            .key()
            .open(&format!("grant/{grant_hash}"), &sealed)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| step_error(lang, StepError::Internal))?;
        let creds = woocommerce::Credentials::new(keys.consumer_key, keys.consumer_secret)
            .map_err(|e| step_error(lang, StepError::InvalidKeys(e.to_string())))?;
        (creds, woocommerce::wc_auth::Scope::parse(&keys.permissions))
    };
    let row = connection::connect(
        &st.app,
        ConnectRequest {
            started: &started,
            user: &user,
            token: &token,
            store: &chosen,
            credentials,
            permissions,
        },
    )
    .await
    .map_err(|e| step_error(lang, e))?;
    wizard.done = Some(row.id.clone());
    wizard.grant = None;
    session.set_wizard(&st.app, &wizard);
    session.save(&st.app).await?;
    Ok(Json(json!({"step": "done", "connection": summary(&st.app, &row).await?})).into_response())
}

pub async fn wizard_reset(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    session.set_wizard(&st.app, &WizardState::default());
    session.save(&st.app).await?;
    Ok(Json(json!({"step": "start"})).into_response())
}

// ---- wc-auth ----

/// WooCommerce POSTs the keys here, server to server; it counts only an exact 200 as success.
pub async fn wc_auth_callback(
    State(st): State<WebState>,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let callback = woocommerce::wc_auth::CallbackBody::parse(&raw)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    if !grant_is_ours(&st.app, &callback.user_id) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Unknown user_id."));
    }
    let grant_hash = session::hash(&callback.user_id);
    let keys = GrantedKeys {
        consumer_key: callback.credentials.consumer_key().to_owned(),
        consumer_secret: callback.credentials.consumer_secret().to_owned(),
        permissions: callback.key_permissions.as_str().to_owned(),
    };
    let json = serde_json::to_vec(&keys).map_err(ApiError::internal)?;
    let sealed = st.app.key().seal(&format!("grant/{grant_hash}"), &json);
    st.app
        .store()
        .put_granted_keys(&grant_hash, &sealed)
        .await?;
    tracing::info!(key_id = callback.key_id, "wc-auth keys received");
    Ok((StatusCode::OK, Json(json!({"received": true}))).into_response())
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    success: Option<String>,
    user_id: Option<String>,
}

/// Where WooCommerce sends the merchant's browser back: on to the wizard.
pub async fn wc_auth_return(
    State(st): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<ReturnQuery>,
) -> Result<Response, ApiError> {
    let approved = q.success.as_deref() == Some("1");
    if let Some(mut session) = session::load(&st.app, &headers).await? {
        let mut wizard = session.wizard(&st.app);
        if wizard.grant.is_some() && wizard.grant == q.user_id {
            wizard.denied = !approved;
            session.set_wizard(&st.app, &wizard);
            session.save(&st.app).await?;
        }
    }
    let to = if approved {
        "/connect?wcauth=ok"
    } else {
        "/connect?wcauth=denied"
    };
    Ok(Redirect::to(to).into_response())
}

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

// ---- Connections ----

pub async fn summary(app: &App, row: &ConnectionRow) -> Result<Value, ApiError> {
    let activity = app.store().activity(&row.id, 10).await?;
    let fmt = |t: Option<time::OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    Ok(json!({
        "id": row.id,
        "store_url": row.store_url,
        "state": row.state.as_str(),
        "tenant_code": row.tenant_code,
        "tenant_name": row.tenant_name,
        "tt_store_id": serde_json::from_str::<Value>(&row.tt_store_id).unwrap_or(Value::Null),
        "tt_store_name": row.tt_store_name,
        "connected_at": fmt(row.connected_at),
        "disconnected_at": fmt(row.disconnected_at),
        "last_sent_at": fmt(row.last_sent_at),
        "last_error": row.last_error,
        "last_error_at": fmt(row.last_error_at),
        "queue_depth": app.store().queue_depth(&row.id).await?,
        "trigger_status": row.trigger_status,
        "mark_completed": row.mark_completed,
        "notify_customer": row.notify_customer,
        "activity": activity.iter().map(|a| json!({"at": fmt(Some(a.at)), "kind": a.kind, "message": a.message})).collect::<Vec<_>>(),
    }))
}

pub async fn list_connections(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let owner = session::load(&st.app, &headers)
        .await?
        .and_then(|s| s.owner())
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, lang.t().session_expired))?;
    let mut out = Vec::new();
    for row in st.app.store().connections(Some(&owner)).await? {
        out.push(summary(&st.app, &row).await?);
    }
    Ok(Json(json!({"connections": out})).into_response())
}

/// The connection, if the session's user owns it; 404 otherwise (never 403: another merchant's
/// connection ids are not confirmed to exist).
pub(super) async fn owned(
    app: &App,
    session: &Session,
    id: &str,
    lang: Lang,
) -> Result<ConnectionRow, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            i18n::actions::connection_not_found(lang),
        )
    };
    let owner = session.owner().ok_or_else(not_found)?;
    match app.store().connection(id).await? {
        Some(row) if row.owner == owner => Ok(row),
        _ => Err(not_found()),
    }
}

#[derive(Deserialize)]
pub struct SettingsBody {
    trigger_status: Option<String>,
    mark_completed: Option<bool>,
    notify_customer: Option<bool>,
}

pub async fn update_settings(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<SettingsBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let mut row = owned(&st.app, &session, &id, lang).await?;
    if let Some(status) = b.trigger_status {
        row.trigger_status = connection::parse_trigger_status(&status).ok_or_else(|| {
            let msg = if lang == Lang::Es {
                format!("\"{}\" no es un estado de WooCommerce válido (letras, números, - y _; por ejemplo processing o wc-listo-para-envio).", status.chars().take(60).collect::<String>())
            } else {
                format!("\"{}\" is not a valid WooCommerce status (letters, digits, - and _; e.g. processing or wc-ready-to-ship).", status.chars().take(60).collect::<String>())
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg).field("trigger_status")
        })?;
    }
    if let Some(v) = b.mark_completed {
        row.mark_completed = v;
    }
    if let Some(v) = b.notify_customer {
        row.notify_customer = v;
    }
    row.updated_at = store::now();
    st.app.update_connection(&row).await?;
    st.app
        .store()
        .add_activity(
            &row.id,
            "settings",
            &format!(
                "Trigger status: {}; mark completed: {}; notify customer: {}",
                row.trigger_status, row.mark_completed, row.notify_customer
            ),
        )
        .await?;
    Ok(Json(json!({"connection": summary(&st.app, &row).await?})).into_response())
}

#[derive(Deserialize)]
pub struct DisconnectBody {
    #[serde(default)]
    confirm: bool,
}

pub async fn disconnect(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<DisconnectBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    if !b.confirm {
        return Err(
            ApiError::new(StatusCode::BAD_REQUEST, lang.t().disconnect_confirm).field("confirm"),
        );
    }
    let report = connection::disconnect(&st.app, &row.id)
        .await
        .map_err(|e| step_error(lang, e))?;
    let row = st.app.store().connection(&row.id).await?.unwrap_or(row);
    Ok(
        Json(json!({"report": report, "connection": summary(&st.app, &row).await?}))
            .into_response(),
    )
}

// ---- Resend and backfill ----

#[derive(Deserialize)]
pub struct ResendBody {
    order_id: Option<i64>,
    #[serde(default)]
    all: bool,
}

/// `POST /api/connections/{id}/resend`: `{"order_id": N}` puts that order back in the queue
/// (when failed, rejected, skipped or cancelled); `{"all": true}` puts back every failed and
/// rejected order of the connection — not the skipped or cancelled ones, which were left alone
/// on purpose. Both answer `{"queued": n}`.
pub async fn resend(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<ResendBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    if row.state == ConnectionState::Disconnected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            i18n::actions::disconnected(lang),
        ));
    }
    let store = st.app.store();
    let queued = match (b.order_id, b.all) {
        (Some(order_id), false) => {
            let n = store.resend(&row.id, Some(order_id)).await?;
            if n == 0 {
                return Err(match store.order(&row.id, order_id).await? {
                    None => ApiError::new(
                        StatusCode::NOT_FOUND,
                        i18n::actions::order_not_found(lang, order_id),
                    ),
                    Some(o) => ApiError::new(
                        StatusCode::CONFLICT,
                        i18n::actions::not_resendable(
                            lang,
                            &o.order_number,
                            &lang.t().order_state(o.state).to_lowercase(),
                        ),
                    ),
                });
            }
            n
        }
        // The store takes every failed and rejected order in one statement.
        (None, true) => store.resend(&row.id, None).await?,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                i18n::actions::resend_body(lang),
            ));
        }
    };
    if queued > 0 {
        st.app.wakeup().notify_one();
        store
            .add_activity(
                &row.id,
                "resend",
                &format!(
                    "{queued} pedidos puestos en cola de nuevo desde el panel | {queued} orders queued again from the dashboard"
                ),
            )
            .await?;
    }
    Ok(Json(json!({"queued": queued})).into_response())
}

#[derive(Deserialize)]
pub struct BackfillBody {
    since: String,
}

/// `POST /api/connections/{id}/backfill {"since": "YYYY-MM-DD"}`: starts queueing the store's
/// orders at the trigger status created since that day (00:00 UTC) that ttwc never had; 202, and
/// the page polls the GET for progress.
pub async fn start_backfill(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<BackfillBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    let since = parse_since(lang, &b.since)?;
    if row.state != ConnectionState::Connected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            i18n::actions::needs_connected(lang),
        ));
    }
    if !st.backfills.start(&st.app, &row.id, since) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            i18n::actions::backfill_running(lang),
        ));
    }
    tracing::info!(connection_id = %row.id, %since, "backfill started");
    Ok((StatusCode::ACCEPTED, Json(json!({"started": true}))).into_response())
}

/// A day as `YYYY-MM-DD`, not in the future, as the start of that day in UTC.
fn parse_since(lang: Lang, value: &str) -> Result<time::OffsetDateTime, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let value = value.trim();
    let date = time::Date::parse(value, &format).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::actions::bad_date(lang, value),
        )
        .field("since")
    })?;
    if date > store::now().date() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::actions::future_date(lang, value),
        )
        .field("since"));
    }
    Ok(date.midnight().assume_utc())
}

/// `GET /api/connections/{id}/backfill`: the latest backfill's progress; 404 when none was
/// started in this process.
pub async fn backfill_status(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            i18n::actions::connection_not_found(lang),
        )
    };
    let session = session::load(&st.app, &headers)
        .await?
        .ok_or_else(not_found)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    let status = st
        .backfills
        .get(&row.id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, i18n::actions::no_backfill(lang)))?;
    Ok(Json(backfill_view(lang, &status)).into_response())
}

pub(super) fn backfill_view(lang: Lang, s: &super::backfills::BackfillStatus) -> Value {
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    json!({
        "running": s.running,
        "seen": s.seen,
        "queued": s.queued,
        "error": s.error.as_deref().map(|e| i18n::localized(lang, e)),
        "since": s.since.date().to_string(),
        "started_at": fmt(s.started_at),
        "finished_at": s.finished_at.and_then(fmt),
    })
}

// ---- Webhooks ----

/// `POST /webhooks/woocommerce/{connection}`.
///
/// The ping WooCommerce sends inside the very call that creates the webhook is answered 200
/// whatever the connection's state. A delivery must name a live connection (404 otherwise,
/// which WooCommerce counts as a failure), carry a valid signature (401), be an order topic
/// (400) with an order body (400). An order at the trigger status, created after the store was
/// connected, is committed to the outbox *before* the 2xx; a database failure answers 503, so
/// the delivery counts as failed and reconcile finds the order later. Duplicates, ttwc's own
/// write-backs and `checkout-draft` orders queue nothing new.
pub async fn webhook(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let metrics = st.app.metrics();
    match receive(&st, &id, &headers, &raw).await {
        Ok((outcome, response)) => {
            metrics.delivery(outcome);
            response
        }
        Err((reason, error)) => {
            metrics.refused(reason);
            error.into_response()
        }
    }
}

/// A delivery refused: the metric's reason and the answer.
type Refusal = (&'static str, ApiError);

#[tracing::instrument(name = "delivery", skip_all, fields(connection_id = %id, order_id = tracing::field::Empty))]
async fn receive(
    st: &WebState,
    id: &str,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Result<(&'static str, Response), Refusal> {
    let unavailable = |e: crate::store::StoreError| {
        tracing::error!(connection_id = %id, error = %e, "cannot record a delivery");
        (
            "storage",
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Storage unavailable; try again.",
            ),
        )
    };
    let incoming = woocommerce::webhook::classify(headers, raw).map_err(|e| {
        (
            "bad_request",
            ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
        )
    })?;
    let delivery = match incoming {
        woocommerce::webhook::Incoming::Ping { .. } => {
            return Ok(("ping", (StatusCode::OK, "pong").into_response()));
        }
        woocommerce::webhook::Incoming::Delivery(d) => d,
    };
    let live = |t: Option<Arc<crate::targets::Target>>| {
        t.filter(|t| t.state != ConnectionState::Disconnected)
            .ok_or_else(|| {
                let e = ApiError::new(StatusCode::NOT_FOUND, "Unknown connection.");
                ("unknown_connection", e)
            })
    };
    let bad_signature = |message: String| {
        (
            "bad_signature",
            ApiError::new(StatusCode::UNAUTHORIZED, message),
        )
    };
    let check = |row: &crate::targets::Target| match &row.webhook_secret {
        Some(secret) => delivery
            .verify(secret.as_bytes(), raw)
            .map_err(|e| bad_signature(e.to_string())),
        None => Err(bad_signature("No webhook secret.".into())),
    };
    let mut row = live(st.app.delivery_target(id).await.map_err(unavailable)?)?;
    if let Err(refused) = check(&row) {
        // The secret may have changed since it was cached (a reconnect, maybe on another
        // replica): refuse only what a fresh read refuses too.
        row = live(
            st.app
                .fresh_delivery_target(id)
                .await
                .map_err(unavailable)?,
        )?;
        if check(&row).is_err() {
            return Err(refused);
        }
    }
    if delivery.resource != "order" || !matches!(delivery.event.as_str(), "created" | "updated") {
        let message = format!(
            "Unexpected topic {:?}: ttwc takes order.created and order.updated.",
            delivery.topic
        );
        return Err((
            "wrong_topic",
            ApiError::new(StatusCode::BAD_REQUEST, message),
        ));
    }
    // Only the head: the body is stored as it came, and the engine reads the rest when it maps
    // the order (fetching it again from the store if the stored body does not read).
    let order = woocommerce::webhook::parse_order_head(raw).map_err(|e| {
        let e = ApiError::new(StatusCode::BAD_REQUEST, format!("Not an order: {e}"));
        ("bad_request", e)
    })?;
    let status = order.status.as_str();
    let order_id = i64::try_from(order.id).unwrap_or(i64::MAX);
    tracing::Span::current().record("order_id", order_id);
    let eligible = status == row.trigger_status
        && status != woocommerce::OrderStatus::CHECKOUT_DRAFT
        && connection::created_after_connecting(order.date_created_gmt, row.connected_at);
    let store = st.app.store();
    if eligible {
        let source = st
            .app
            .key()
            .seal(&crate::engine::source_context(&row.id, order_id), raw);
        let queued = store
            .enqueue_order(crate::store::NewOrder {
                connection_id: row.id.clone(),
                order_id,
                order_number: order.number_or_id(),
                woo_status: status.to_owned(),
                source: Some(source),
            })
            .await
            .map_err(unavailable)?;
        if queued {
            st.app.wakeup().notify_one();
            tracing::info!(connection_id = %row.id, order_id, "order queued");
            return Ok(("queued", queued_answer(true)));
        }
    }
    // A known order changing status: warn when one already sent is cancelled or refunded
    // (the contract has no cancel call, so a person must tell the courier).
    let previous = store
        .note_woo_status(&row.id, order_id, status)
        .await
        .map_err(unavailable)?;
    if let Some(previous) = previous.as_deref()
        && previous != status
        && matches!(status, "cancelled" | "refunded")
        && let Ok(Some(o)) = store.order(&row.id, order_id).await
        && o.state == crate::store::OrderState::Sent
    {
        let _ = store
            .add_activity(
                &row.id,
                "warning",
                &format!(
                    "El pedido #{} ya enviado a TrackingTech quedó {status} en WooCommerce: avisa al courier (tracking {}) | Order #{} was already sent and is now {status}: tell the courier",
                    o.order_number,
                    o.tracking_id.unwrap_or_default(),
                    o.order_number
                ),
            )
            .await;
    }
    let outcome = if previous.is_some() {
        "known"
    } else {
        "ignored"
    };
    Ok((outcome, queued_answer(false)))
}

/// `{"queued": true|false}`, written out: the answer to every delivery, not worth building a
/// JSON value for.
fn queued_answer(queued: bool) -> Response {
    let body = if queued {
        r#"{"queued":true}"#
    } else {
        r#"{"queued":false}"#
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
