//! A connection's lifecycle: the wizard's steps (resolve → login → store → keys → link) and
//! disconnect. The web wizard and `ttwc connect` both call these functions, so both make the
//! same checks and leave the same state behind.
//!
//! Each step either succeeds or fails with a [`StepError`] a merchant can act on, and a failed
//! step leaves nothing behind: a webhook created for a link that then fails is deleted again,
//! and an existing connection of the same store is only replaced once the new one is linked.
//!
//! A store's connection belongs to the TrackingTech account that made it (its `owner`): only
//! that account reconnects it, and another is refused before anything is asked of the store or
//! TrackingTech, until the owner disconnects it or an operator takes it over ([`take_over`]).

use crate::text::{Code, Text};
use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use trackingtech::{ErrorClass, Secret};
use woocommerce::{AuthProblem, CertProblem, Credentials, StoreUrl, WebhookCreate, WebhookSecret};

use crate::app::App;
use crate::store::{self, ConnectionRow, ConnectionState, StoreError};

/// The longest courier code accepted (real ones are a handful of letters).
const MAX_CODE_LEN: usize = 32;
/// The longest store URL accepted.
const MAX_URL_LEN: usize = 2048;
/// The name of ttwc's webhook in the store's WooCommerce > Settings > Advanced > Webhooks.
pub const WEBHOOK_NAME: &str = "TrackingTech (ttwc)";
/// The app name ttwc gives wc-auth; WooCommerce describes the key it creates as
/// "<app name> - API (<date and time of the approval>)".
pub const APP_NAME: &str = "TrackingTech (ttwc)";
/// Where a store lists its REST API keys (WooCommerce › Settings › Advanced › REST API).
pub const KEYS_PAGE: &str = "/wp-admin/admin.php?page=wc-settings&tab=advanced&section=keys";

/// Why a step failed, in terms a merchant can act on. The web layer words each one in Spanish
/// and English; nothing here holds a secret or personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("the store URL is not valid: {0}")]
    InvalidStoreUrl(String),
    #[error("the store could not be reached")]
    StoreUnreachable,
    /// The address names or resolves to a private, loopback or otherwise non-public address
    /// that the operator has not allowed (`TTWC_ALLOWED_PRIVATE_NETS`).
    #[error("that address is not a public store")]
    StoreNotPublic,
    #[error("the store calls itself {0}; use that address")]
    UseStoreAddress(String),
    #[error("the store's certificate is not valid: {0:?}")]
    StoreCertificate(CertProblem),
    #[error("the store URL redirects to {0:?}")]
    StoreRedirects(Option<String>),
    #[error("the site does not look like a WooCommerce store")]
    NotWooCommerce,
    #[error("the courier code is not valid: {0}")]
    InvalidCode(CodeProblem),
    #[error("no courier has this code")]
    UnknownCode,
    #[error("this courier is not active")]
    CourierInactive,
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("too many attempts")]
    TooManyAttempts(Option<Duration>),
    #[error("the TrackingTech account has no stores")]
    NoStores,
    #[error("that TrackingTech store is not one of the account's")]
    UnknownStore,
    #[error("the TrackingTech session expired; sign in again")]
    SessionExpired,
    #[error("TrackingTech did not accept the request: {0}")]
    TrackingTechRefused(String),
    #[error("TrackingTech is not answering right now")]
    TrackingTechUnavailable,
    #[error("the API keys are not valid: {0}")]
    InvalidKeys(String),
    #[error("WooCommerce refused the API keys (unknown key, or a signature not matching)")]
    WooAccessDenied,
    #[error("WooCommerce does not know this consumer key (never made, or revoked)")]
    WooUnknownKey,
    #[error("the consumer secret is not the consumer key's")]
    WooWrongSecret,
    #[error(
        "the signature did not match: a wrong consumer secret, or a store address other than {0}"
    )]
    WooSignature(String),
    #[error("the API keys have no write permission")]
    KeysReadOnly,
    #[error("WooCommerce refused to create the webhook: {0}")]
    WebhookRefused(String),
    #[error("the previous step is missing; start again")]
    OutOfOrder,
    /// The store's connection belongs to another TrackingTech account (its `owner`), which
    /// must disconnect it first; only an operator takes it over (`ttwc connect --take-over`).
    #[error(
        "{store_url} is connected to another TrackingTech account ({owner}), which must disconnect it first"
    )]
    HeldByAnotherAccount {
        store_url: String,
        owner: String,
        connection_id: String,
    },
    #[error("internal error")]
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    Empty,
    Spaces,
    TooLong,
    Characters,
}

impl std::fmt::Display for CodeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CodeProblem::Empty => "empty",
            CodeProblem::Spaces => "contains spaces",
            CodeProblem::TooLong => "too long",
            CodeProblem::Characters => "contains characters other than letters, digits, - and _",
        })
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> StepError {
        tracing::error!(error = %e, "storage failed during a wizard step");
        StepError::Internal
    }
}

/// A courier code as TrackingTech expects it: trimmed, upper case, letters, digits, `-`, `_`.
pub fn parse_code(input: &str) -> Result<String, StepError> {
    let code = input.trim();
    if code.is_empty() {
        return Err(StepError::InvalidCode(CodeProblem::Empty));
    }
    if code.chars().count() > MAX_CODE_LEN {
        return Err(StepError::InvalidCode(CodeProblem::TooLong));
    }
    if code.chars().any(char::is_whitespace) {
        return Err(StepError::InvalidCode(CodeProblem::Spaces));
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(StepError::InvalidCode(CodeProblem::Characters));
    }
    Ok(code.to_ascii_uppercase())
}

/// The store URL checked and normalized, as both APIs will see it.
pub fn parse_store_url(input: &str) -> Result<(String, StoreUrl), StepError> {
    if input.len() > MAX_URL_LEN {
        return Err(StepError::InvalidStoreUrl("too long".into()));
    }
    let normalized = trackingtech::normalize_store_url(input)
        .map_err(|e| StepError::InvalidStoreUrl(e.to_string()))?;
    let store =
        StoreUrl::parse(&normalized).map_err(|e| StepError::InvalidStoreUrl(e.to_string()))?;
    Ok((normalized, store))
}

/// Step 1's result: a WooCommerce store and an active courier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Started {
    pub store_url: String,
    pub device_id: String,
    pub tenant_code: String,
    pub tenant_name: String,
    /// The tenant's API base URL (its `api_url`, or the configured one).
    pub api_base: String,
}

/// Step 1: resolves the courier code, then checks the store answers as WooCommerce. Nothing is
/// sent to TrackingTech before this step is submitted, and an unknown code touches no store, so
/// the wizard cannot be used to probe addresses without a courier's code.
pub async fn start(app: &App, store_url: &str, code: &str) -> Result<Started, StepError> {
    let code = parse_code(code)?;
    let (normalized, store) = parse_store_url(store_url)?;
    let device_id = trackingtech::device_id(&normalized, &app.installation().salt)
        .map_err(|e| StepError::InvalidStoreUrl(e.to_string()))?;
    let resolved = app
        .trackingtech()
        .resolve(&trackingtech::ResolveRequest::new(&code, &device_id))
        .await
        .map_err(|e| match e.status() {
            Some(404) => StepError::UnknownCode,
            Some(409) => StepError::CourierInactive,
            _ => tt_error(e),
        })?;
    let api_base = app
        .trackingtech_for(&resolved)
        .map_err(|e| {
            // The courier's configuration, not the merchant's input: the operator hears why.
            tracing::warn!(tenant = %resolved.tenant.code, error = %e, "the tenant's api_url is refused");
            StepError::TrackingTechRefused("the courier's API address is not accepted".into())
        })?
        .base_url()
        .to_owned();
    probe_store(app, &normalized, &store).await?;
    Ok(Started {
        store_url: normalized,
        device_id,
        tenant_code: resolved.tenant.code,
        tenant_name: resolved.tenant.name,
        api_base,
    })
}

/// Asks the store's REST index, anonymously, whether it serves WooCommerce's API at that
/// address, and whether the store calls itself by it: WooCommerce signs and checks requests
/// against its own home address, so keys used at another spelling of it (`localhost` for
/// `127.0.0.1`, `http` for `https`, `www.`, a path) are refused as a bad signature. When the
/// address does not answer as WooCommerce, the other spellings are asked too, to tell the
/// merchant which address to use instead.
async fn probe_store(app: &App, given: &str, store: &StoreUrl) -> Result<(), StepError> {
    let failure = match rest_index(app, store).await? {
        Ok(index) if index.has_namespace("wc/v3") => {
            return match own_address(&index) {
                Some(home) if !same_address(given, &home) => Err(StepError::UseStoreAddress(home)),
                _ => Ok(()),
            };
        }
        Ok(_) => StepError::NotWooCommerce,
        Err(e) => {
            if let Some(refused) = e.refused() {
                refused_store(refused);
                return Err(StepError::StoreNotPublic);
            }
            if let Some(problem) = e.cert_problem() {
                return Err(StepError::StoreCertificate(problem));
            }
            match e {
                woocommerce::Error::Redirected { location, .. } => {
                    StepError::StoreRedirects(location)
                }
                e => match e.class() {
                    woocommerce::ErrorClass::Transient { .. } if e.status().is_none() => {
                        StepError::StoreUnreachable
                    }
                    _ => StepError::NotWooCommerce,
                },
            }
        }
    };
    let others = other_spellings(given);
    let answers = futures_util::future::join_all(others.iter().map(|other| async move {
        let store = StoreUrl::parse(other).ok()?;
        match rest_index(app, &store).await {
            Ok(Ok(index)) if index.has_namespace("wc/v3") => own_address(&index),
            _ => None,
        }
    }))
    .await;
    match answers.into_iter().flatten().next() {
        Some(home) if home != given => Err(StepError::UseStoreAddress(home)),
        _ => Err(failure),
    }
}

async fn rest_index(
    app: &App,
    store: &StoreUrl,
) -> Result<Result<woocommerce::RestIndex, woocommerce::Error>, StepError> {
    let client = woocommerce::Client::anonymous(app.woo_http(), store.clone());
    Ok(client.rest_index().await)
}

/// The operator's side of a refused store address: which host and address, and how to allow a
/// private network on purpose. The merchant is told only that the address is not public.
fn refused_store(refused: &woocommerce::Refused) {
    tracing::warn!(
        host = %refused.host,
        addr = %refused.addr,
        "refused a store address that is not public (set TTWC_ALLOWED_PRIVATE_NETS to allow a private network)"
    );
}

/// The address the store calls its own (WordPress's home, else its site address), normalized
/// as a store URL given to ttwc is.
fn own_address(index: &woocommerce::RestIndex) -> Option<String> {
    [&index.home, &index.url]
        .into_iter()
        .flatten()
        .find_map(|a| trackingtech::normalize_store_url(a).ok())
}

/// Whether the address given names the store as it calls itself. A store behind a proxy that
/// ends TLS often believes its home is `http://` while it is served over https; WooCommerce
/// signs with the scheme the request came by, so the https spelling is the right one then.
fn same_address(given: &str, home: &str) -> bool {
    given == home
        || given
            .strip_prefix("https://")
            .is_some_and(|rest| home.strip_prefix("http://") == Some(rest))
}

/// The other spellings of a store address worth asking when it does not answer as a store: the
/// other scheme, and the site's root when a path was given (`/wp-admin/`, `/shop/`).
fn other_spellings(given: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(given) else {
        return Vec::new();
    };
    let Some(host) = url.host_str() else {
        return Vec::new();
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    let other = if url.scheme() == "https" {
        "http"
    } else {
        "https"
    };
    let mut out = vec![format!("{other}://{host}{port}{path}")];
    if !path.is_empty() {
        out.push(format!("{}://{host}{port}", url.scheme()));
        out.push(format!("{other}://{host}{port}"));
    }
    out
}

/// The signed-in TrackingTech user, as kept in the session (nothing secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub tenant_code: String,
    pub tenant_name: String,
    pub api_base: String,
    pub user_id: String,
    pub name: String,
    pub email: String,
}

impl UserInfo {
    /// Whose connections these are: one TrackingTech user of one courier.
    pub fn owner(&self) -> String {
        format!("{}:{}", self.tenant_code, self.user_id)
    }
}

/// Step 2 (and the returning merchant's sign-in): logs in with the courier code resolved.
/// The password is used for this one call and dropped.
pub async fn login(
    app: &App,
    tenant_code: &str,
    tenant_name: &str,
    api_base: &str,
    email: &str,
    password: &str,
) -> Result<(UserInfo, Secret), StepError> {
    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(StepError::WrongCredentials);
    }
    let tt = app.trackingtech_at(api_base).map_err(tt_error)?;
    let login = tt
        .login(&trackingtech::LoginRequest {
            email,
            password,
            code: Some(tenant_code),
        })
        .await
        .map_err(|e| match (e.status(), e.class()) {
            (Some(401), _) | (Some(403), _) => StepError::WrongCredentials,
            (Some(429), ErrorClass::Transient { retry_after }) => {
                StepError::TooManyAttempts(retry_after)
            }
            _ => tt_error(e),
        })?;
    let user = UserInfo {
        tenant_code: tenant_code.to_owned(),
        tenant_name: tenant_name.to_owned(),
        api_base: api_base.to_owned(),
        user_id: login.user.id.to_string(),
        name: login.user.name,
        email: if login.user.email.is_empty() {
            email.to_owned()
        } else {
            login.user.email
        },
    };
    Ok((user, login.token))
}

/// Resolves a courier code and logs in: the returning merchant's sign-in.
pub async fn sign_in(
    app: &App,
    code: &str,
    email: &str,
    password: &str,
) -> Result<(UserInfo, Secret), StepError> {
    let code = parse_code(code)?;
    // The deviceId of a sign-in names no store; it identifies this ttwc installation.
    let device_id =
        trackingtech::device_id(app.settings().public_url.as_str(), &app.installation().salt)
            .map_err(|_| StepError::Internal)?;
    let resolved = app
        .trackingtech()
        .resolve(&trackingtech::ResolveRequest::new(&code, &device_id))
        .await
        .map_err(|e| match e.status() {
            Some(404) => StepError::UnknownCode,
            Some(409) => StepError::CourierInactive,
            _ => tt_error(e),
        })?;
    let api_base = app
        .trackingtech_for(&resolved)
        .map_err(tt_error)?
        .base_url()
        .to_owned();
    login(
        app,
        &resolved.tenant.code,
        &resolved.tenant.name,
        &api_base,
        email,
        password,
    )
    .await
}

/// A TrackingTech store as the wizard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtStore {
    pub id: trackingtech::Id,
    pub name: String,
    pub address: String,
}

pub async fn stores(app: &App, user: &UserInfo, token: &Secret) -> Result<Vec<TtStore>, StepError> {
    let tt = app.trackingtech_at(&user.api_base).map_err(tt_error)?;
    let stores = tt.stores(token).await.map_err(tt_error)?;
    if stores.is_empty() {
        return Err(StepError::NoStores);
    }
    Ok(stores
        .into_iter()
        .map(|s| TtStore {
            id: s.id,
            name: s.name,
            address: s.address,
        })
        .collect())
}

/// What the last step needs.
pub struct ConnectRequest<'a> {
    pub started: &'a Started,
    pub user: &'a UserInfo,
    pub token: &'a Secret,
    pub store: &'a TtStore,
    pub credentials: Credentials,
    /// The permissions WooCommerce reported with wc-auth keys (pasted keys: unknown).
    pub permissions: Option<woocommerce::wc_auth::Scope>,
}

/// The connection of a store that a TrackingTech account other than `user` holds. A
/// disconnected connection holds nothing (its secrets are gone), so anyone may link that store
/// again; the owner itself always may.
fn held_by_another<'a>(
    existing: Option<&'a ConnectionRow>,
    user: &UserInfo,
) -> Option<&'a ConnectionRow> {
    existing.filter(|row| row.state != ConnectionState::Disconnected && row.owner != user.owner())
}

fn held_error(row: &ConnectionRow) -> StepError {
    StepError::HeldByAnotherAccount {
        store_url: row.store_url.clone(),
        owner: row.owner.clone(),
        connection_id: row.id.clone(),
    }
}

/// Refuses a store whose connection another TrackingTech account holds. The wizard asks as soon
/// as a store is chosen, before any key is asked for, and `ttwc connect` right after the login;
/// [`connect`] asks again itself before it calls anyone.
pub async fn check_owner(app: &App, store_url: &str, user: &UserInfo) -> Result<(), StepError> {
    let existing = app.store().connection_by_store_url(store_url).await?;
    match held_by_another(existing.as_ref(), user) {
        Some(row) => Err(held_error(row)),
        None => Ok(()),
    }
}

/// Whether a link may replace another TrackingTech account's connection of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takeover {
    Refuse,
    Allow,
}

/// Step 4: checks the keys, creates ttwc's webhook, links the store at TrackingTech and stores
/// the connection (replacing an earlier one of the same store in place). A store another
/// TrackingTech account holds is refused with [`StepError::HeldByAnotherAccount`] before the
/// store or TrackingTech is asked anything: otherwise whoever got a store admin to approve a
/// key request would receive the store's next orders.
pub async fn connect(app: &App, req: ConnectRequest<'_>) -> Result<ConnectionRow, StepError> {
    link_store(app, req, Takeover::Refuse).await
}

/// Step 4 for a store another TrackingTech account may hold: `ttwc connect --take-over`, an
/// operator's deliberate act when that account can no longer disconnect it. The orders queued
/// for the previous account are cancelled (they were paid while the store was its), its
/// integration is uninstalled at TrackingTech with its own token when the link gave another
/// customer, and the activity records who took the store from whom.
pub async fn take_over(app: &App, req: ConnectRequest<'_>) -> Result<ConnectionRow, StepError> {
    link_store(app, req, Takeover::Allow).await
}

async fn link_store(
    app: &App,
    req: ConnectRequest<'_>,
    takeover: Takeover,
) -> Result<ConnectionRow, StepError> {
    if let Some(scope) = req.permissions
        && scope != woocommerce::wc_auth::Scope::ReadWrite
    {
        return Err(StepError::KeysReadOnly);
    }
    let store_url = StoreUrl::parse(&req.started.store_url)
        .map_err(|e| StepError::InvalidStoreUrl(e.to_string()))?;
    let woo = woocommerce::Client::new(app.woo_http(), store_url, req.credentials.clone());
    let existing = app
        .store()
        .connection_by_store_url(&req.started.store_url)
        .await?;
    let replacing = match held_by_another(existing.as_ref(), req.user) {
        Some(row) if takeover == Takeover::Refuse => return Err(held_error(row)),
        Some(row) => Some(row.owner.clone()),
        None => None,
    };
    let id = existing
        .as_ref()
        .map(|c| c.id.clone())
        .unwrap_or_else(new_connection_id);
    let delivery_url = app
        .settings()
        .public(&format!("/webhooks/woocommerce/{id}"));

    // Reading the webhooks proves the keys work and have the manage_woocommerce capability
    // ttwc needs; it also finds webhooks an interrupted earlier attempt left behind.
    let webhooks = woo
        .list_webhooks()
        .await
        .map_err(|e| woo_error(e, &req.started.store_url))?;
    for stale in webhooks.iter().filter(|w| w.delivery_url == delivery_url) {
        if existing.as_ref().and_then(|c| c.webhook_id) != Some(stale.id as i64)
            && let Err(e) = woo.delete_webhook(stale.id).await
        {
            tracing::warn!(connection_id = %id, webhook_id = stale.id, error = %e, "could not delete a stale webhook");
        }
    }

    let secret = WebhookSecret::generate();
    let webhook = woo
        .create_webhook(&WebhookCreate {
            name: WEBHOOK_NAME.to_owned(),
            topic: "order.updated".to_owned(),
            delivery_url: delivery_url.clone(),
            secret: secret.clone(),
        })
        .await
        .map_err(|e| match &e {
            woocommerce::Error::Unauthorized { .. } => StepError::KeysReadOnly,
            woocommerce::Error::Rejected { message, .. } => {
                StepError::WebhookRefused(message.clone().unwrap_or_else(|| e.to_string()))
            }
            _ => woo_error(e, &req.started.store_url),
        })?;

    // What "new since the connection" is measured against. A store that does not say now is
    // asked again at the first reconcile.
    let order_id_at_connect = match woo.highest_order_id().await {
        Ok(id) => Some(id.map_or(0, |id| i64::try_from(id).unwrap_or(i64::MAX))),
        Err(e) => {
            tracing::warn!(connection_id = %id, error = %e, "could not read the store's highest order id");
            None
        }
    };

    let tt = app.trackingtech_at(&req.user.api_base).map_err(tt_error)?;
    let linked = tt
        .link(
            req.token,
            &trackingtech::LinkRequest::new(
                &req.store.id,
                &req.started.store_url,
                &req.started.device_id,
            ),
        )
        .await;
    let linked = match linked {
        Ok(linked) => linked,
        Err(e) => {
            // Nothing half-made: the webhook goes again; an earlier connection stays as it was.
            if let Err(del) = woo.delete_webhook(webhook.id).await {
                tracing::warn!(connection_id = %id, error = %del, "could not delete the webhook of a failed link");
            }
            return Err(match e.class() {
                ErrorClass::Auth => StepError::SessionExpired,
                ErrorClass::Rejected => {
                    StepError::TrackingTechRefused(e.message().unwrap_or("").to_owned())
                }
                ErrorClass::Transient { .. } => StepError::TrackingTechUnavailable,
            });
        }
    };

    // What the store says about itself. Neither is needed to connect: a store that does not
    // answer keeps the zone unknown (read again at the next reconcile) and notes in Spanish.
    let (store_timezone, store_utc_offset) = match woo.rest_index().await {
        Ok(index) => crate::site::StoreZone::columns_from_index(&index),
        Err(e) => {
            tracing::warn!(connection_id = %id, error = %e, "could not read the store's time zone");
            (None, None)
        }
    };
    let store_language = match woo.store_language().await {
        Ok(language) => language,
        Err(e) => {
            tracing::warn!(connection_id = %id, error = %e, "could not read the store's language");
            None
        }
    };

    // The calls above take a while, and another account may have connected the store meanwhile:
    // asked again, so that its connection is not replaced unseen, and what this link made is
    // undone. A take-over replaces only the account the operator was told about.
    let existing = app
        .store()
        .connection_by_store_url(&req.started.store_url)
        .await?;
    if let Some(holder) = held_by_another(existing.as_ref(), req.user)
        && replacing.as_deref() != Some(holder.owner.as_str())
    {
        if let Err(e) = woo.delete_webhook(webhook.id).await {
            tracing::warn!(connection_id = %id, error = %e, "could not delete the webhook of a refused link");
        }
        // The same customer would be the holder's own: uninstalling it would revoke its token.
        if holder.customer_id.as_deref() != Some(linked.customer_id.as_str())
            && let Err(e) = tt
                .uninstall(
                    &linked.integration_token,
                    &trackingtech::UninstallRequest {
                        store_url: &req.started.store_url,
                        customer_id: &linked.customer_id,
                    },
                )
                .await
        {
            tracing::warn!(connection_id = %id, error = %e, "could not uninstall a refused link");
        }
        return Err(held_error(holder));
    }
    let taken_from = held_by_another(existing.as_ref(), req.user).cloned();

    let key = app.key();
    let now = store::now();
    let row = ConnectionRow {
        id: id.clone(),
        owner: req.user.owner(),
        owner_email: req.user.email.clone(),
        tenant_code: req.started.tenant_code.clone(),
        tenant_name: req.started.tenant_name.clone(),
        api_base_url: req.user.api_base.clone(),
        store_url: req.started.store_url.clone(),
        device_id: req.started.device_id.clone(),
        tt_store_id: serde_json::to_string(&req.store.id).unwrap_or_default(),
        tt_store_name: req.store.name.clone(),
        customer_id: Some(linked.customer_id.clone()),
        integration_token: Some(key.seal_str(
            &secret_context(&id, "integration_token"),
            linked.integration_token.expose(),
        )),
        woo_consumer_key: Some(key.seal_str(
            &secret_context(&id, "woo_consumer_key"),
            req.credentials.consumer_key(),
        )),
        woo_consumer_secret: Some(key.seal_str(
            &secret_context(&id, "woo_consumer_secret"),
            req.credentials.consumer_secret(),
        )),
        woo_permissions: req
            .permissions
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "read_write".to_owned()),
        webhook_id: Some(webhook.id as i64),
        webhook_secret: Some(key.seal_str(&secret_context(&id, "webhook_secret"), secret.expose())),
        state: ConnectionState::Connected,
        trigger_status: "processing".to_owned(),
        mark_completed: false,
        notify_customer: false,
        created_at: now,
        connected_at: Some(now),
        disconnected_at: None,
        updated_at: now,
        last_sent_at: None,
        last_error: None,
        last_error_at: None,
        order_id_at_connect,
        store_timezone,
        store_utc_offset,
        store_language,
    };
    // Orders queued for the previous account were paid while the store was its: they are not
    // sent to the new one unasked (an operator can resend them), and none waits half-sent with
    // a payload naming the previous customer.
    let cancelled = match &taken_from {
        Some(old) => app.store().cancel_queue(&old.id).await?,
        None => 0,
    };
    let stored = app.upsert_connection(&row).await?;
    if let Some(old) = existing.as_ref().and_then(|c| c.webhook_id)
        && old != webhook.id as i64
        && let Err(e) = woo.delete_webhook(old as u64).await
        && !e.is_not_found()
    {
        tracing::warn!(connection_id = %id, error = %e, "could not delete the previous webhook");
    }
    let Some(old) = taken_from else {
        let (what, code) = if existing.is_some() {
            ("reconnected", Code::Reconnected)
        } else {
            ("connected", Code::Connected)
        };
        app.store()
            .add_activity(
                &stored.id,
                what,
                &Text::new(code)
                    .with("store_url", &stored.store_url)
                    .with("tt_store", &stored.tt_store_name)
                    .with("courier", &stored.tenant_code),
            )
            .await?;
        tracing::info!(connection_id = %stored.id, tenant = %stored.tenant_code, "store {what}");
        return Ok(stored);
    };

    // Taken over: the replaced integration is uninstalled after the new connection is stored,
    // so that a TrackingTech that does not answer cannot leave the store half taken.
    let uninstalled = match uninstall_replaced(app, &old, &linked.customer_id).await {
        Ok(uninstalled) => uninstalled,
        Err(detail) => {
            // Written first, so the newest entry says the store was taken over.
            app.store()
                .add_activity(
                    &stored.id,
                    "warning",
                    &Text::new(Code::TakeOverUninstallFailed)
                        .with("old_owner", &old.owner)
                        .with("detail", detail),
                )
                .await?;
            false
        }
    };
    app.store()
        .add_activity(
            &stored.id,
            "taken_over",
            &Text::new(Code::TakenOver)
                .with("store_url", &stored.store_url)
                .with("tt_store", &stored.tt_store_name)
                .with("courier", &stored.tenant_code)
                .with("old_owner", &old.owner)
                .with("new_owner", &stored.owner)
                .with("cancelled", cancelled)
                .with("uninstalled", uninstalled),
        )
        .await?;
    tracing::info!(
        connection_id = %stored.id,
        old_owner = %old.owner,
        new_owner = %stored.owner,
        cancelled,
        uninstalled,
        "store taken over"
    );
    Ok(stored)
}

/// Uninstalls at TrackingTech, with its own token, the integration a take-over replaced: no
/// one else can any more, and it would stay installed for the previous account. Whether it was
/// uninstalled (false when there was nothing to uninstall), or why it failed.
async fn uninstall_replaced(
    app: &App,
    old: &ConnectionRow,
    new_customer: &str,
) -> Result<bool, String> {
    let Some(customer) = old.customer_id.as_deref() else {
        return Ok(false);
    };
    // TrackingTech answered the link with the same customer (the same account behind another
    // user): its integration is the new one, and uninstalling it would revoke the new token.
    if customer == new_customer {
        return Ok(false);
    }
    let Some(token) = Secrets::open(app, old).integration_token else {
        return Err("the previous integration token is not readable".to_owned());
    };
    let tt = app
        .trackingtech_at(&old.api_base_url)
        .map_err(|e| e.to_string())?;
    match tt
        .uninstall(
            &token,
            &trackingtech::UninstallRequest {
                store_url: &old.store_url,
                customer_id: customer,
            },
        )
        .await
    {
        Ok(()) => Ok(true),
        // A token TrackingTech already revoked means it is uninstalled there.
        Err(e) if e.class() == ErrorClass::Auth => Ok(true),
        Err(e) => {
            tracing::warn!(connection_id = %old.id, error = %e, "uninstalling the replaced integration failed");
            Err(e.to_string())
        }
    }
}

/// The keys of this store's connection, when the same TrackingTech user owns it and they still
/// work (one cheap authenticated read says so): reconnecting then uses them instead of making
/// WooCommerce create another key. Anyone else goes through WooCommerce's approval.
pub async fn reusable_keys(
    app: &App,
    started: &Started,
    user: &UserInfo,
) -> Result<Option<(Credentials, woocommerce::wc_auth::Scope)>, StepError> {
    let Some(row) = app
        .store()
        .connection_by_store_url(&started.store_url)
        .await?
    else {
        return Ok(None);
    };
    if row.owner != user.owner() || row.state == ConnectionState::Disconnected {
        return Ok(None);
    }
    let Some(scope) = woocommerce::wc_auth::Scope::parse(&row.woo_permissions)
        .filter(|s| *s == woocommerce::wc_auth::Scope::ReadWrite)
    else {
        return Ok(None);
    };
    let Some(credentials) = Secrets::open(app, &row).woo else {
        return Ok(None);
    };
    let Ok(store_url) = StoreUrl::parse(&row.store_url) else {
        return Ok(None);
    };
    let woo = woocommerce::Client::new(app.woo_http(), store_url, credentials.clone());
    match woo.weight_unit().await {
        Ok(_) => Ok(Some((credentials, scope))),
        Err(e) => {
            tracing::info!(connection_id = %row.id, error = %e, "the stored keys do not work; asking for new ones");
            Ok(None)
        }
    }
}

/// The REST API key a disconnect leaves in the store, named as WooCommerce's key list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyLeft {
    /// The start of the key's description when WooCommerce created it through wc-auth
    /// ("<app name> - API (<date>)"; ttwc is not told the date).
    pub description: String,
    /// "…" and the consumer key's last 7 characters, as the list's "Consumer key ending in".
    pub ending: String,
    /// The store's key list, where the merchant revokes it.
    pub keys_url: String,
}

impl KeyLeft {
    pub fn new(store_url: &str, consumer_key: &str) -> KeyLeft {
        let tail: String = {
            let chars: Vec<char> = consumer_key.chars().collect();
            chars[chars.len().saturating_sub(7)..].iter().collect()
        };
        KeyLeft {
            description: format!("{APP_NAME} - API (…)"),
            ending: format!("…{tail}"),
            keys_url: format!("{}{KEYS_PAGE}", store_url.trim_end_matches('/')),
        }
    }

    /// The text telling the merchant the key stays until they revoke it.
    pub fn text(&self) -> Text {
        Text::new(Code::KeyLeftInStore)
            .with("description", &self.description)
            .with("ending", &self.ending)
            .with("keys_url", &self.keys_url)
    }
}

/// What a disconnect did at each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisconnectReport {
    pub uninstalled: bool,
    pub webhook_deleted: bool,
    pub already_disconnected: bool,
    /// The REST API key that stays in the store: WooCommerce's REST API cannot delete a key.
    pub key_left: Option<KeyLeft>,
}

/// Uninstalls at TrackingTech, deletes ttwc's webhook, forgets the secrets ttwc kept and keeps
/// the history. The REST API key stays in the store (WooCommerce's REST API has no call to
/// delete one): the report and the activity name it for the merchant to revoke.
/// The remote calls are best effort — a revoked token or a store that no longer answers must
/// not keep a merchant connected — and their outcome is recorded in the activity.
pub async fn disconnect(app: &App, id: &str) -> Result<DisconnectReport, StepError> {
    let Some(mut row) = app.store().connection(id).await? else {
        return Err(StepError::OutOfOrder);
    };
    if row.state == ConnectionState::Disconnected {
        return Ok(DisconnectReport {
            uninstalled: false,
            webhook_deleted: false,
            already_disconnected: true,
            key_left: None,
        });
    }
    let secrets = Secrets::open(app, &row);
    let mut report = DisconnectReport {
        uninstalled: false,
        webhook_deleted: false,
        already_disconnected: false,
        key_left: secrets
            .woo
            .as_ref()
            .map(|c| KeyLeft::new(&row.store_url, c.consumer_key())),
    };

    if let (Some(token), Some(customer)) = (&secrets.integration_token, &row.customer_id) {
        match app.trackingtech_at(&row.api_base_url) {
            Ok(tt) => match tt
                .uninstall(
                    token,
                    &trackingtech::UninstallRequest {
                        store_url: &row.store_url,
                        customer_id: customer,
                    },
                )
                .await
            {
                Ok(()) => report.uninstalled = true,
                // A token TrackingTech already revoked means it is uninstalled there.
                Err(e) if e.class() == ErrorClass::Auth => report.uninstalled = true,
                Err(e) => {
                    tracing::warn!(connection_id = %row.id, error = %e, "uninstall at TrackingTech failed");
                    app.store()
                        .add_activity(
                            &row.id,
                            "warning",
                            &Text::new(Code::UninstallFailed).with("detail", e.to_string()),
                        )
                        .await?;
                }
            },
            Err(e) => {
                tracing::warn!(connection_id = %row.id, error = %e, "bad TrackingTech base URL")
            }
        }
    }
    if let (Some(credentials), Some(webhook_id)) = (&secrets.woo, row.webhook_id)
        && let Ok(store_url) = StoreUrl::parse(&row.store_url)
    {
        let woo = woocommerce::Client::new(app.woo_http(), store_url, credentials.clone());
        match woo.delete_webhook(webhook_id as u64).await {
            Ok(_) => report.webhook_deleted = true,
            Err(e) if e.is_not_found() => report.webhook_deleted = true,
            Err(e) => {
                tracing::warn!(connection_id = %row.id, error = %e, "deleting the webhook failed");
                app.store()
                    .add_activity(
                        &row.id,
                        "warning",
                        &Text::new(Code::WebhookDeleteFailed).with("detail", e.to_string()),
                    )
                    .await?;
            }
        }
    }
    let cancelled = app.store().cancel_queue(&row.id).await?;
    let now = store::now();
    row.integration_token = None;
    row.woo_consumer_key = None;
    row.woo_consumer_secret = None;
    row.webhook_secret = None;
    row.webhook_id = None;
    row.state = ConnectionState::Disconnected;
    row.disconnected_at = Some(now);
    row.updated_at = now;
    app.update_connection(&row).await?;
    // Written first, so the newest entry still says the store is disconnected.
    if let Some(key) = &report.key_left {
        app.store()
            .add_activity(&row.id, "key_left", &key.text())
            .await?;
    }
    app.store()
        .add_activity(
            &row.id,
            "disconnected",
            &Text::new(Code::Disconnected).with("cancelled", cancelled),
        )
        .await?;

    tracing::info!(connection_id = %row.id, "store disconnected");
    Ok(report)
}

/// A connection's secrets, opened. A value that does not open is treated as absent (and
/// logged): the connection then needs a reconnect, which replaces it.
pub struct Secrets {
    pub integration_token: Option<Secret>,
    pub woo: Option<Credentials>,
    pub webhook_secret: Option<WebhookSecret>,
}

impl Secrets {
    /// Opens only the webhook secret (what the receiver needs).
    pub fn open_webhook_secret(app: &App, row: &ConnectionRow) -> Option<WebhookSecret> {
        let sealed = row.webhook_secret.as_ref()?;
        match app
            .key()
            .open_string(&secret_context(&row.id, "webhook_secret"), sealed)
        {
            Ok(s) => WebhookSecret::new(s).ok(),
            Err(e) => {
                tracing::error!(connection_id = %row.id, field = "webhook_secret", error = %e, "a stored secret does not open");
                None
            }
        }
    }

    pub fn open(app: &App, row: &ConnectionRow) -> Secrets {
        let open = |field: &str, sealed: &Option<Vec<u8>>| -> Option<String> {
            let sealed = sealed.as_ref()?;
            match app
                .key()
                .open_string(&secret_context(&row.id, field), sealed)
            {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(connection_id = %row.id, field, error = %e, "a stored secret does not open");
                    None
                }
            }
        };
        let ck = open("woo_consumer_key", &row.woo_consumer_key);
        let cs = open("woo_consumer_secret", &row.woo_consumer_secret);
        Secrets {
            integration_token: open("integration_token", &row.integration_token).map(Secret::new),
            woo: match (ck, cs) {
                (Some(ck), Some(cs)) => Credentials::new(ck, cs).ok(),
                _ => None,
            },
            webhook_secret: Secrets::open_webhook_secret(app, row),
        }
    }
}

/// Binds a sealed value to its row and column.
pub fn secret_context(connection_id: &str, field: &str) -> String {
    format!("connection/{connection_id}/{field}")
}

/// An opaque connection id: `con_` + 20 lowercase letters and digits.
pub fn new_connection_id() -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(|c| (c as char).to_ascii_lowercase())
        .collect();
    format!("con_{tail}")
}

/// What decides whether an order is new since its store was connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSince {
    pub connected_at: time::OffsetDateTime,
    /// The highest order id the store had when connected; `None` while unknown.
    pub order_id_at_connect: Option<i64>,
}

impl NewSince {
    /// Whether an order is new since the connection, and so sent without a backfill: its id is
    /// above the highest the store had then (ids only grow), or it was paid after connecting
    /// (WooCommerce sets the payment date on the move to a paid status; wp-admin's order form
    /// does not ask for it). Neither can be back-dated, unlike the creation date wp-admin lets a
    /// merchant change. While the highest id is unknown, a creation date after connecting also
    /// counts. WooCommerce dates have whole seconds: the second of the connection counts as
    /// after it.
    pub fn is_new(
        &self,
        order_id: u64,
        created_gmt: Option<time::OffsetDateTime>,
        paid_gmt: Option<time::OffsetDateTime>,
    ) -> bool {
        let second = self
            .connected_at
            .replace_nanosecond(0)
            .unwrap_or(self.connected_at);
        let after = |at: Option<time::OffsetDateTime>| at.is_some_and(|at| at >= second);
        match self.order_id_at_connect {
            Some(highest) => {
                i64::try_from(order_id).map_or(true, |id| id > highest) || after(paid_gmt)
            }
            None => created_gmt.is_none_or(|created| created >= second) || after(paid_gmt),
        }
    }
}

impl From<&ConnectionRow> for NewSince {
    fn from(row: &ConnectionRow) -> NewSince {
        NewSince {
            connected_at: row.connected_at.unwrap_or(row.created_at),
            order_id_at_connect: row.order_id_at_connect,
        }
    }
}

/// The activity entry for an order the rule leaves out: which order, and the day a backfill
/// must start from to find it (backfills take orders created strictly after 00:00 UTC of a
/// day, so the day of the second before its creation).
pub fn left_out_text(
    number: &str,
    created_gmt: Option<time::OffsetDateTime>,
    connected_at: time::OffsetDateTime,
) -> Text {
    let created = created_gmt.unwrap_or(connected_at);
    let day = (created - time::Duration::SECOND)
        .to_offset(time::UtcOffset::UTC)
        .date();
    let since = format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    Text::new(Code::LeftOut)
        .with("number", number)
        .with("since", since)
}

/// Trigger statuses: WooCommerce slugs without the `wc-` prefix its REST API drops.
pub fn parse_trigger_status(input: &str) -> Option<String> {
    let s = input.trim().to_ascii_lowercase();
    let s = s.strip_prefix("wc-").unwrap_or(&s).to_owned();
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    // `checkout-draft` orders are unpaid carts; sending them would ship what nobody bought.
    (ok && s != "checkout-draft" && s != "trash").then_some(s)
}

fn tt_error(e: trackingtech::Error) -> StepError {
    match e.class() {
        ErrorClass::Transient { .. } => StepError::TrackingTechUnavailable,
        ErrorClass::Auth => StepError::SessionExpired,
        ErrorClass::Rejected => {
            StepError::TrackingTechRefused(e.message().unwrap_or("").to_owned())
        }
    }
}

fn woo_error(e: woocommerce::Error, store_url: &str) -> StepError {
    if let Some(refused) = e.refused() {
        refused_store(refused);
        return StepError::StoreNotPublic;
    }
    if let Some(problem) = e.cert_problem() {
        return StepError::StoreCertificate(problem);
    }
    match e.auth_problem() {
        Some(AuthProblem::UnknownKey) => return StepError::WooUnknownKey,
        Some(AuthProblem::WrongSecret) => return StepError::WooWrongSecret,
        Some(AuthProblem::Signature) => return StepError::WooSignature(store_url.to_owned()),
        Some(AuthProblem::Unknown) | None => {}
    }
    match e {
        woocommerce::Error::Redirected { location, .. } => StepError::StoreRedirects(location),
        e => match e.class() {
            woocommerce::ErrorClass::Auth => StepError::WooAccessDenied,
            woocommerce::ErrorClass::Transient { .. } => StepError::StoreUnreachable,
            woocommerce::ErrorClass::Rejected => StepError::WebhookRefused(e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn courier_codes() {
        assert_eq!(parse_code("  demo "), Ok("DEMO".into()));
        assert_eq!(parse_code("LMT_2"), Ok("LMT_2".into()));
        assert_eq!(
            parse_code(""),
            Err(StepError::InvalidCode(CodeProblem::Empty))
        );
        assert_eq!(
            parse_code("DE MO"),
            Err(StepError::InvalidCode(CodeProblem::Spaces))
        );
        assert_eq!(
            parse_code(&"A".repeat(10_000)),
            Err(StepError::InvalidCode(CodeProblem::TooLong))
        );
        assert_eq!(
            parse_code("DEMO;--"),
            Err(StepError::InvalidCode(CodeProblem::Characters))
        );
    }

    #[test]
    fn store_urls() {
        assert_eq!(
            parse_store_url("HTTPS://Tienda.cl/").map(|p| p.0),
            Ok("https://tienda.cl".into())
        );
        assert!(matches!(
            parse_store_url("tienda.cl"),
            Err(StepError::InvalidStoreUrl(_))
        ));
        assert!(matches!(
            parse_store_url("ftp://tienda.cl"),
            Err(StepError::InvalidStoreUrl(_))
        ));
        assert!(matches!(
            parse_store_url(&format!("https://t.cl/{}", "a".repeat(3000))),
            Err(StepError::InvalidStoreUrl(_))
        ));
    }

    #[test]
    fn trigger_statuses() {
        assert_eq!(
            parse_trigger_status("wc-processing"),
            Some("processing".into())
        );
        assert_eq!(
            parse_trigger_status("Listo-Para-Envio"),
            Some("listo-para-envio".into())
        );
        assert_eq!(parse_trigger_status(""), None);
        assert_eq!(parse_trigger_status("checkout-draft"), None);
        assert_eq!(parse_trigger_status("a b"), None);
    }

    #[test]
    fn connection_ids_are_opaque_and_distinct() {
        let a = new_connection_id();
        assert!(a.starts_with("con_") && a.len() == 24);
        assert_ne!(a, new_connection_id());
    }
}
