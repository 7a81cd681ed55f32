//! The wizard's steps (`/api/wizard/*`) and WooCommerce's key handshake (wc-auth callback and
//! return).

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::connection::{self, ConnectRequest, StepError};
use crate::store::{self};
use crate::web::session::{self, Session, WizardState};
use crate::web::{ApiError, WebState, client_ip};

use super::connections::summary;
use super::signin::count_failure;
use super::{Body, GRANT_TTL, answer, body, guarded, req_lang, step_error};

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
    // What the page shows, through the display helper: names and addresses come from
    // TrackingTech, the address from the merchant. Ids stay exact (the page sends them back).
    use crate::display::{NAME, TEXT, URL, shown};
    let stores: Vec<Value> = w
        .stores
        .iter()
        .map(|s| json!({"id": s.id, "name": shown(&s.name, NAME), "address": shown(&s.address, TEXT)}))
        .collect();
    json!({
        "step": step,
        "store_url": w.started.as_ref().map(|s| shown(&s.store_url, URL)),
        "tenant_name": w.started.as_ref().map(|s| shown(&s.tenant_name, NAME)),
        "stores": stores,
        "chosen": w.chosen,
        "denied": w.denied,
        "connection_id": w.done,
        "user": session.user.as_ref().map(|u| json!({"name": shown(&u.name, NAME), "email": shown(&u.email, TEXT)})),
    })
}

pub async fn wizard_start(
    State(st): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    b: Body<StartBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    // Counted before any work: each start resolves a courier code and probes a store.
    st.starts
        .check(client_ip(&st.app, peer, &headers))
        .map_err(|wait| step_error(lang, StepError::TooManyAttempts(Some(wait))))?;
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
    // A visitor's first action: the session is stored now, under an id of its own.
    session.save(&st.app).await?;
    Ok(answer(&st.app, &session, wizard_view(&session, &wizard)))
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
    let ip = client_ip(&st.app, peer, &headers);
    st.limiter
        .admit(ip, &b.email)
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
    .map_err(|e| {
        count_failure(&st, ip, &b.email, &e);
        step_error(lang, e)
    })?;
    let stores = connection::stores(&st.app, &user, &token)
        .await
        .map_err(|e| step_error(lang, e))?;
    // A new id and CSRF token: a cookie planted before signing in is dead now.
    session.sign_in(&st.app, user, &token);
    wizard.stores = stores;
    wizard.chosen = None;
    wizard.grant = None;
    wizard.done = None;
    session.set_wizard(&st.app, &wizard);
    session.save(&st.app).await?;
    // The answer carries the new cookie and CSRF token; the page continues with them.
    Ok(answer(&st.app, &session, wizard_view(&session, &wizard)))
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
    // A store another TrackingTech account holds is refused here, before a key is asked for.
    if let Some(user) = &session.user {
        connection::check_owner(&st.app, &started.store_url, user)
            .await
            .map_err(|e| step_error(lang, e))?;
    }
    // The page may send the id as the number or the text it showed.
    let wanted = b.store_id.to_string().trim_matches('"').to_owned();
    let chosen = wizard
        .stores
        .iter()
        .find(|s| s.id.to_string() == wanted)
        .cloned()
        .ok_or_else(|| step_error(lang, StepError::UnknownStore))?;
    wizard.chosen = Some(chosen.clone());
    wizard.denied = false;
    wizard.done = None;
    // The same TrackingTech user reconnecting a store whose keys still work: no new key.
    if let (Some(user), Some(token)) = (session.user.clone(), session.tt_token(&st.app))
        && let Some((credentials, scope)) = connection::reusable_keys(&st.app, &started, &user)
            .await
            .map_err(|e| step_error(lang, e))?
    {
        let row = connection::connect(
            &st.app,
            ConnectRequest {
                started: &started,
                user: &user,
                token: &token,
                store: &chosen,
                credentials,
                permissions: Some(scope),
            },
        )
        .await
        .map_err(|e| step_error(lang, e))?;
        wizard.done = Some(row.id.clone());
        wizard.grant = None;
        session.set_wizard(&st.app, &wizard);
        session.save(&st.app).await?;
        return Ok(Json(json!({
            "step": "done",
            "keys_reused": true,
            "connection": summary(&st.app, &row, lang).await?,
        }))
        .into_response());
    }
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
        app_name: connection::APP_NAME.to_owned(),
        scope: woocommerce::wc_auth::Scope::ReadWrite,
        user_id: grant.to_owned(),
        return_url: parse("/wc-auth/return")?,
        callback_url: parse("/wc-auth/callback")?,
    };
    Ok(woocommerce::wc_auth::authorize_url(&store, &request).to_string())
}

/// A wc-auth attempt id, `<random>.<issued, Unix seconds>.<tag>`: the tag (an HMAC only this
/// installation can compute) lets the callback refuse ids it never issued without a lookup, and
/// the time it covers lets it refuse attempts older than [`GRANT_TTL`], whose rows the purge
/// may already have removed (so "delivered once" holds past the purge too).
fn new_grant(app: &App) -> String {
    let random = session::random_token();
    let issued = store::now().unix_timestamp();
    format!("{random}.{issued}.{}", grant_tag(app, &random, issued))
}

fn grant_tag(app: &App, random: &str, issued: i64) -> String {
    let tag = app
        .key()
        .mac("wc-auth grant", format!("{random}.{issued}").as_bytes());
    hex::encode(&tag[..16])
}

/// Whether this installation issued `grant`, and if so when.
fn grant_issued(app: &App, grant: &str) -> Option<time::OffsetDateTime> {
    use subtle::ConstantTimeEq;
    let mut parts = grant.splitn(3, '.');
    let (random, issued, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if random.len() > 64 || issued.len() > 20 {
        return None;
    }
    let issued: i64 = issued.parse().ok()?;
    let ours: bool = tag
        .as_bytes()
        .ct_eq(grant_tag(app, random, issued).as_bytes())
        .into();
    ours.then(|| time::OffsetDateTime::from_unix_timestamp(issued).ok())
        .flatten()
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
        return Ok(Json(
            json!({"step": "done", "connection": summary(&st.app, &row, lang).await?}),
        )
        .into_response());
    }
    let (Some(started), Some(chosen), Some(user), Some(token)) = (
        wizard.started.clone(),
        wizard.chosen.clone(),
        session.user.clone(),
        session.tt_token(&st.app),
    ) else {
        return Err(step_error(lang, StepError::OutOfOrder));
    };
    // Asked again before any key is taken: another account may have connected the store since
    // the store step.
    connection::check_owner(&st.app, &started.store_url, &user)
        .await
        .map_err(|e| step_error(lang, e))?;
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
    Ok(
        Json(json!({"step": "done", "connection": summary(&st.app, &row, lang).await?}))
            .into_response(),
    )
}

pub async fn wizard_reset(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let mut session = guarded(&st.app, &headers, lang).await?;
    // A visitor with nothing stored has nothing to reset, and gets no row for asking.
    if session.is_stored() {
        session.set_wizard(&st.app, &WizardState::default());
        session.save(&st.app).await?;
    }
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
    let Some(issued) = grant_issued(&st.app, &callback.user_id) else {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Unknown user_id."));
    };
    if issued < store::now() - GRANT_TTL {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "This key request has expired; start the connection again.",
        ));
    }
    let grant_hash = session::hash(&callback.user_id);
    let keys = GrantedKeys {
        consumer_key: callback.credentials.consumer_key().to_owned(),
        consumer_secret: callback.credentials.consumer_secret().to_owned(),
        permissions: callback.key_permissions.as_str().to_owned(),
    };
    let json = serde_json::to_vec(&keys).map_err(ApiError::internal)?;
    let sealed = st.app.key().seal(&format!("grant/{grant_hash}"), &json);
    // Accepted once per attempt: a second callback (a replay, or a second approval) changes
    // nothing, and WooCommerce deletes the key it made when the callback is not a 200.
    if !st
        .app
        .store()
        .put_granted_keys(&grant_hash, &sealed)
        .await?
    {
        tracing::warn!(
            key_id = callback.key_id,
            "wc-auth callback refused: this key request already delivered its keys"
        );
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "This key request already delivered its keys.",
        ));
    }
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
