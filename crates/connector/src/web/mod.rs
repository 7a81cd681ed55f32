//! The HTTP app: the connection wizard, the dashboard and its orders pages, the wc-auth callback,
//! the webhook receiver and health. Only this module (of the connector) knows axum.

mod api;
mod backfills;
mod forwarded;
pub mod i18n;
mod limit;
mod pages;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App;
pub(crate) use api::GRANT_TTL;
use i18n::Lang;

/// Request bodies the app accepts (JSON actions, the wc-auth callback); webhooks have their own.
const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// Failed sign-ins (dashboard and wizard login) per client, per client and email, per email.
    pub limiter: Arc<limit::LoginLimiter>,
    /// Wizard starts per client.
    pub starts: Arc<limit::StartLimiter>,
    /// When `serve` last warned of forwarding headers from an untrusted peer.
    pub forwarded_warned: Arc<forwarded::Warned>,
    /// Serializes the steps of one session's wizard, so a form posted twice runs once at a time.
    pub wizard_locks: Arc<limit::KeyedLocks>,
    /// Each connection's latest backfill started from the dashboard, in this process.
    pub backfills: Arc<backfills::Backfills>,
}

pub fn router(app: App) -> Router {
    let state = WebState {
        app,
        limiter: Arc::new(limit::LoginLimiter::default()),
        starts: Arc::new(limit::StartLimiter::default()),
        forwarded_warned: Arc::new(forwarded::Warned::default()),
        wizard_locks: Arc::new(limit::KeyedLocks::default()),
        backfills: Arc::new(backfills::Backfills::default()),
    };
    Router::new()
        .route("/", get(pages::home))
        .route("/connect", get(pages::connect))
        .route("/connections/{id}/orders", get(pages::orders))
        .route("/static/app.js", get(pages::script))
        .route("/static/app.css", get(pages::style))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/wizard", get(api::wizard_state))
        .route("/api/wizard/start", post(api::wizard_start))
        .route("/api/wizard/login", post(api::wizard_login))
        .route("/api/wizard/store", post(api::wizard_store))
        .route("/api/wizard/keys", post(api::wizard_keys))
        .route("/api/wizard/reset", post(api::wizard_reset))
        .route("/api/session/login", post(api::sign_in))
        .route("/api/session/logout", post(api::sign_out))
        .route("/api/connections", get(api::list_connections))
        .route("/api/connections/{id}/settings", post(api::update_settings))
        .route("/api/connections/{id}/disconnect", post(api::disconnect))
        .route("/api/connections/{id}/resend", post(api::resend))
        .route(
            "/api/connections/{id}/backfill",
            get(api::backfill_status).post(api::start_backfill),
        )
        .route("/wc-auth/callback", post(api::wc_auth_callback))
        .route("/wc-auth/return", get(api::wc_auth_return))
        .route(
            "/webhooks/woocommerce/{id}",
            post(api::webhook).layer(DefaultBodyLimit::max(2 * 1024 * 1024)),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "Not found.") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            forwarded::warn_untrusted,
        ))
        .with_state(state)
}

/// Ready: the database answers and its schema is current (503 otherwise, with why).
async fn readyz(State(st): State<WebState>) -> Response {
    match st.app.store().ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}")).into_response()
        }
    }
}

/// Prometheus' text format.
async fn metrics(State(st): State<WebState>) -> Response {
    match st.app.metrics().render(st.app.store()).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable").into_response()
        }
    }
}

/// Serves the app until `shutdown` resolves.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A JSON error: `{"error": "<message for a person>"}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    field: Option<&'static str>,
    /// Whole seconds for `Retry-After` (a 429's).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn field(mut self, field: &'static str) -> ApiError {
        self.field = Some(field);
        self
    }
    /// Adds `Retry-After`, rounded up to whole seconds (at least 1).
    pub fn retry_after(mut self, wait: std::time::Duration) -> ApiError {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.retry_after = Some(secs.max(1));
        self
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        // The cause is logged once here; the merchant gets a message without internals.
        tracing::error!(error = %e, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error. / Error interno.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The pages show the message as it comes, and it may quote a store or TrackingTech.
        let message = crate::display::shown(&self.message, crate::display::TEXT);
        let body = serde_json::json!({"error": message, "field": self.field});
        let mut response = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

/// The page language: `?lang=`, then the cookie, then Accept-Language.
pub fn lang(headers: &HeaderMap, query_lang: Option<&str>) -> Lang {
    query_lang
        .and_then(Lang::parse)
        .or_else(|| {
            session::cookie_value(headers, session::LANG_COOKIE).and_then(|v| Lang::parse(&v))
        })
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        })
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the nearest
/// untrusted address in `X-Forwarded-For`.
pub fn client_ip(app: &App, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: &IpAddr| {
        app.settings()
            .trusted_proxies
            .iter()
            .any(|net| net.contains(ip))
    };
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`; IPv4 ranges must still match.
    let peer = peer.ip().to_canonical();
    if !trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted(ip))
        .unwrap_or(peer)
}
