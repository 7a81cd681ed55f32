//! A TrackingTech-compatible server for tests and the demo.
//!
//! The sandbox serves the contract in `docs/trackingtech-api.yaml` at the root of its address,
//! so a client's base URL is exactly [`Handle::base_url`]. Tenants, accounts and stores come from
//! [`Fixtures`]; what clients create (customers, tokens, orders) lives in memory and, when
//! [`Config::state_file`] is set, in a JSON file rewritten after every change.
//!
//! Beside the contract, an admin API under `/_sandbox/` (bearer [`Handle::admin_token`]) shows
//! the orders and requests received, moves statuses along, revokes tokens and injects faults
//! (latency, errors, throttling, downtime, dropped connections).
//!
//! The sandbox deliberately shares no types with the `trackingtech` client crate: it keeps its
//! own idea of the wire format, so a serialization bug cannot hide by being on both sides.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sandbox::Error> {
//! let handle = sandbox::spawn(sandbox::Config::new(sandbox::Fixtures::builtin())).await?;
//! println!("{}", handle.banner());
//! handle.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod admin;
mod clock;
mod contract;
mod faults;
mod fixtures;
mod state;
mod status;
mod validate;
mod web;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use fixtures::{FixtureError, Fixtures};

use state::App;

/// How long [`Handle::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How the sandbox behaves. Build with [`Config::new`], then change fields as needed.
pub struct Config {
    pub fixtures: Fixtures,
    /// Bearer token for `/_sandbox/`.
    pub admin_token: String,
    /// Where state is kept between runs; `None` keeps it in memory only.
    pub state_file: Option<PathBuf>,
    /// Lifetime of a login token.
    pub token_ttl: Duration,
    /// Every period, each non-final order moves one status step; `None` moves them only through
    /// `POST /_sandbox/advance`.
    pub advance_every: Option<Duration>,
    /// Failed logins allowed per email within a sliding minute before further attempts get 429;
    /// 0 turns throttling off.
    pub login_attempts_per_minute: u32,
}

impl Config {
    /// Defaults: a random 32-character admin token, memory only, one-hour tokens, a status step
    /// every 30 seconds, 5 failed logins a minute.
    pub fn new(fixtures: Fixtures) -> Config {
        Config {
            fixtures,
            admin_token: web::random_from(web::ALPHANUMERIC, 32),
            state_file: None,
            token_ttl: Duration::from_secs(3600),
            advance_every: Some(Duration::from_secs(30)),
            login_attempts_per_minute: 5,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The admin token stays out of debug output, as every secret does.
        f.debug_struct("Config")
            .field("fixtures", &self.fixtures)
            .field("admin_token", &"<redacted>")
            .field("state_file", &self.state_file)
            .field("token_ttl", &self.token_ttl)
            .field("advance_every", &self.advance_every)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .finish()
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("could not read the state file {path}")]
    StateRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file {path} is corrupt (delete it to start afresh)")]
    StateCorrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the state file {path} has version {version}; this sandbox reads version 1")]
    StateVersion { path: PathBuf, version: u32 },
}

/// Starts the sandbox on `127.0.0.1` and a free port; for tests.
pub async fn spawn(config: Config) -> Result<Handle, Error> {
    bind(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
}

/// Starts the sandbox on `addr`.
pub async fn bind(config: Config, addr: SocketAddr) -> Result<Handle, Error> {
    let app = Arc::new(App::new(config)?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let router = router(app.clone());
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            // A dropped sender (Handle dropped without shutdown) also stops the server.
            let _ = stopped.await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "the sandbox server stopped");
        }
    });
    tracing::info!(addr = %local, "sandbox listening");
    Ok(Handle {
        addr: local,
        app,
        stop: Some(stop),
        server: Some(server),
    })
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/external/tenants/resolve", post(contract::resolve))
        .route("/external/login", post(contract::login))
        .route("/external/stores", get(contract::stores))
        .route("/external/woocommerce/link", post(contract::link))
        .route("/external/woocommerce/orders", post(contract::send_order))
        .route(
            "/external/woocommerce/orders/status",
            post(contract::order_status),
        )
        .route("/external/woocommerce/uninstall", post(contract::uninstall))
        .route("/_sandbox/orders", get(admin::orders))
        .route("/_sandbox/requests", get(admin::requests))
        .route("/_sandbox/customers", get(admin::customers))
        .route("/_sandbox/advance", post(admin::advance))
        .route("/_sandbox/orders/{id}/status", post(admin::set_status))
        .route("/_sandbox/revoke", post(admin::revoke))
        .route(
            "/_sandbox/faults",
            get(admin::get_faults)
                .put(admin::put_faults)
                .delete(admin::delete_faults),
        )
        .fallback(web::not_found)
        .method_not_allowed_fallback(web::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            faults::middleware,
        ))
        .with_state(app)
}

/// A running sandbox. Dropping it stops the server without saving; prefer [`Handle::shutdown`].
pub struct Handle {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Handle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, without a trailing slash: the contract is served at the root.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn admin_token(&self) -> &str {
        &self.app.admin_token
    }

    /// What `ttwc sandbox` prints at start: where it listens, the admin token, the fixtures.
    pub fn banner(&self) -> String {
        format!(
            "TrackingTech sandbox listening on {url}\n\
             Client base URL: {url}\n\
             Admin API: {url}/_sandbox/ (Authorization: Bearer {token})\n\
             {fixtures}",
            url = self.base_url(),
            token = self.app.admin_token,
            fixtures = self.app.fixtures.describe(),
        )
    }

    /// Stops accepting connections, lets open requests finish (for a few seconds at most), then
    /// writes the state file.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
                .await
                .is_err()
        {
            tracing::warn!("open connections did not close in time; cutting them");
            server.abort();
        }
        self.app.flush().await;
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The admin token stays out of debug output.
        f.debug_struct("Handle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
