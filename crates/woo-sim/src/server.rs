//! The HTTP server: shared state, the router and the listener (plain or TLS).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};

use crate::store::Store;

/// State shared by every handler and background task.
pub(crate) struct App {
    store: Mutex<Store>,
    /// The home URL, no trailing slash; OAuth base strings and links use it.
    pub base_url: String,
    pub https: bool,
    pub allow_http_callbacks: bool,
    pub strict_urls: bool,
    pub delivery_delay: Duration,
    /// The site language: the words of the wc-auth pages.
    pub locale: crate::locale::Locale,
    pub delivery_client: reqwest::Client,
    pub ping_client: reqwest::Client,
    pub callback_client: reqwest::Client,
}

impl App {
    #[allow(
        clippy::too_many_arguments,
        reason = "plain constructor called once, from lib.rs"
    )]
    pub fn new(
        store: Store,
        base_url: String,
        https: bool,
        allow_http_callbacks: bool,
        strict_urls: bool,
        delivery_delay: Duration,
        clients: (reqwest::Client, reqwest::Client, reqwest::Client),
    ) -> App {
        App {
            store: Mutex::new(store),
            base_url,
            https,
            allow_http_callbacks,
            strict_urls,
            delivery_delay,
            locale: crate::locale::Locale::default(),
            delivery_client: clients.0,
            ping_client: clients.1,
            callback_client: clients.2,
        }
    }

    /// Locks the store. A handler that panicked while holding the lock cannot leave it half
    /// written in a way that matters to a simulator, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `WooCommerce/<WC_VERSION> Hookshot (WordPress/<wp_version>)`.
    pub fn hookshot_user_agent(&self) -> String {
        let s = self.lock();
        format!(
            "WooCommerce/{} Hookshot (WordPress/{})",
            s.settings.wc_version, s.settings.wp_version
        )
    }

    /// `WordPress/<wp_version>; <home>`.
    pub fn wordpress_user_agent(&self) -> String {
        let s = self.lock();
        format!("WordPress/{}; {}", s.settings.wp_version, self.base_url)
    }
}

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/wp-json", any(rest_root))
        .route("/wp-json/", any(rest_root))
        .route("/wp-json/{*route}", any(rest_route))
        .route(
            "/wc-auth/v1/{route}",
            get(crate::wcauth::endpoint).post(crate::wcauth::login_post),
        )
        .route(
            "/wc-auth/v1/{route}/",
            get(crate::wcauth::endpoint).post(crate::wcauth::login_post),
        )
        .route("/_sim/orders", post(crate::admin::create_orders))
        .route("/_sim/orders/{id}", get(crate::admin::get_order))
        .route("/_sim/orders/{id}/status", post(crate::admin::set_status))
        .route(
            "/_sim/orders/{id}/date_created",
            post(crate::admin::set_date_created),
        )
        .route(
            "/_sim/deliveries",
            get(crate::admin::deliveries).delete(crate::admin::clear_deliveries),
        )
        .route(
            "/_sim/deliveries/pending",
            get(crate::admin::pending_deliveries),
        )
        .route("/_sim/webhooks", get(crate::admin::webhooks))
        .route("/_sim/keys", get(crate::admin::keys))
        .route("/_sim/keys/{key_id}", delete(crate::admin::revoke_key))
        .route(
            "/_sim/faults",
            put(crate::admin::put_faults)
                .get(crate::admin::get_faults)
                .delete(crate::admin::clear_faults),
        )
        .fallback(fallback)
        .with_state(app)
}

async fn rest_root(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    crate::rest::handle(
        app,
        method,
        "/".into(),
        path,
        uri.query().map(str::to_owned),
        headers,
        body,
    )
    .await
}

async fn rest_route(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let route = path.strip_prefix("/wp-json").unwrap_or(&path).to_owned();
    let route = percent_encoding::percent_decode_str(&route)
        .decode_utf8_lossy()
        .into_owned();
    crate::rest::handle(
        app,
        method,
        route,
        path,
        uri.query().map(str::to_owned),
        headers,
        body,
    )
    .await
}

/// `?rest_route=/wc/v3/...` on any path, else WordPress's 404 page.
async fn fallback(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let rest = parts.uri.query().and_then(|q| {
        crate::rest::parse_pairs(q)
            .into_iter()
            .rev()
            .find(|(k, _)| k == "rest_route")
            .map(|(_, v)| v)
    });
    if let Some(route) = rest {
        let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        };
        let path = parts.uri.path().to_owned();
        return crate::rest::handle(
            app,
            parts.method,
            route,
            path,
            parts.uri.query().map(str::to_owned),
            parts.headers,
            bytes,
        )
        .await;
    }
    (
        StatusCode::NOT_FOUND,
        Html("<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Page not found</h1><p>woo-sim serves <code>/wp-json/</code>, <code>/wc-auth/v1/</code> and <code>/_sim/</code>.</p></body></html>"),
    )
        .into_response()
}
