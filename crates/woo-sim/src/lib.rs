#![recursion_limit = "256"]
//! woo-sim: a faithful WooCommerce simulator for tests and the demo.
//!
//! It serves, on one port, what an external service meets on a real WooCommerce 9.2.5 store:
//! the REST API under `/wp-json/wc/v3/` with WooCommerce's authentication (OAuth 1.0a over http,
//! Basic or query keys over https), signed webhooks delivered asynchronously like Action
//! Scheduler does, the `wc-auth` key handshake with a login and approval page, plus an admin API
//! under `/_sim/` to create orders, change statuses, inspect deliveries and inject faults.
//!
//! It shares no code with the `woocommerce` client crate: its wire structs, OAuth verifier and
//! webhook signer are its own, so a bug in the client cannot be mirrored here. Where it differs
//! from a real store, README.md says so.
//!
//! ```no_run
//! # async fn demo() -> Result<(), woo_sim::Error> {
//! let sim = woo_sim::spawn(woo_sim::Config::new(woo_sim::Seed::builtin())).await?;
//! println!("{}", sim.banner());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod auth;
mod chile;
mod error;
mod json;
mod locale;
mod products;
mod rest;
mod seed;
mod server;
mod store;
mod tls;
mod urls;
mod wcauth;
mod webhooks;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use locale::Locale;
pub use seed::{Seed, SeedError};
pub use tls::TlsFault;

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// The store's starting content.
    pub seed: Seed,
    /// Fixes the seeded read_write key's consumer key and secret (`--api-key CK:CS`); both must
    /// be WooCommerce-shaped (`ck_`/`cs_` + 40 hex). `None`: random ones.
    pub api_key: Option<(String, String)>,
    /// Serve https with a self-signed certificate for 127.0.0.1 and localhost.
    pub tls: bool,
    /// With `tls`, serve a broken certificate instead (`--tls-fault`); `cert.pem` still holds
    /// the certificate a client should trust.
    pub tls_fault: Option<TlsFault>,
    /// Where to write `cert.pem` with `tls` (default: a temp dir kept alive by the [`Handle`]).
    pub cert_dir: Option<PathBuf>,
    /// Let the wc-auth `callback_url` be plain http (real WooCommerce requires https).
    pub allow_http_callbacks: bool,
    /// Apply WordPress's `wp_http_validate_url` rules to deliveries, pings and callbacks.
    pub strict_urls: bool,
    /// How long a queued webhook delivery waits before it runs (Action Scheduler's latency).
    /// Saves of the same order within this window collapse into one delivery.
    pub delivery_delay: Duration,
    /// The site language (`--locale es_CL|en_US`): the words of the wc-auth pages.
    pub locale: Locale,
}

impl Config {
    /// Defaults: random key, plain http, https-only callbacks, lenient URLs, 200 ms delivery delay,
    /// pages in Spanish (Chile).
    pub fn new(seed: Seed) -> Config {
        Config {
            seed,
            api_key: None,
            tls: false,
            tls_fault: None,
            cert_dir: None,
            allow_http_callbacks: false,
            strict_urls: false,
            delivery_delay: Duration::from_millis(200),
            locale: Locale::EsCl,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// `api_key` is not `ck_`+40 hex and `cs_`+40 hex.
    #[error("invalid API key: {0}")]
    ApiKey(String),
    /// The certificate could not be generated or written, or TLS could not be set up.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The HTTP client used for deliveries could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A running simulator. Dropping it leaves the server running until the runtime stops; call
/// [`Handle::shutdown`] to stop it.
pub struct Handle {
    addr: SocketAddr,
    base_url: String,
    consumer_key: String,
    consumer_secret: String,
    cert_pem_path: Option<PathBuf>,
    admin: (String, String),
    _cert_dir: Option<tempfile::TempDir>,
    shutdown: ShutdownHandle,
    task: tokio::task::JoinHandle<()>,
}

enum ShutdownHandle {
    Plain(tokio::sync::oneshot::Sender<()>),
    Tls(axum_server::Handle<SocketAddr>),
}

/// Starts the simulator on `127.0.0.1` with a free port.
pub async fn spawn(config: Config) -> Result<Handle, Error> {
    bind(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts the simulator on `addr`.
pub async fn bind(config: Config, addr: SocketAddr) -> Result<Handle, Error> {
    if let Some((ck, cs)) = &config.api_key
        && (!seed::is_key(ck, "ck_") || !seed::is_key(cs, "cs_"))
    {
        return Err(Error::ApiKey("expected ck_ + 40 hex : cs_ + 40 hex".into()));
    }
    let std_listener =
        std::net::TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
    std_listener
        .set_nonblocking(true)
        .map_err(|source| Error::Bind { addr, source })?;
    let local = std_listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let scheme = if config.tls { "https" } else { "http" };
    // The home URL is what a client must sign against: an unspecified bind address is shown as
    // 127.0.0.1.
    let host = if local.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        local.ip().to_string()
    };
    let host = if local.is_ipv6() && !local.ip().is_unspecified() {
        format!("[{host}]")
    } else {
        host
    };
    let base_url = format!("{scheme}://{host}:{}", local.port());

    let (store, key) = store::Store::from_seed(&config.seed, config.api_key.as_ref());
    let admin = (store.admin.username.clone(), store.admin.password.clone());
    let clients = webhooks::clients().map_err(|e| Error::Client(e.to_string()))?;
    let mut app = server::App::new(
        store,
        base_url.clone(),
        config.tls,
        config.allow_http_callbacks,
        config.strict_urls,
        config.delivery_delay,
        clients,
    );
    app.locale = config.locale;
    let app = Arc::new(app);
    let router = server::router(Arc::clone(&app));

    let (shutdown, task, cert_pem_path, cert_dir) = if config.tls {
        let (dir, keep) = match &config.cert_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::tempdir().map_err(|e| Error::Tls(e.to_string()))?;
                (t.path().to_owned(), Some(t))
            }
        };
        let cert = tls::generate(&dir, config.tls_fault).map_err(Error::Tls)?;
        let rustls = axum_server::tls_rustls::RustlsConfig::from_pem(
            cert.cert_pem.into_bytes(),
            cert.key_pem.into_bytes(),
        )
        .await
        .map_err(|e| Error::Tls(e.to_string()))?;
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(std_listener, rustls)
            .map_err(|source| Error::Bind { addr, source })?
            .handle(handle.clone());
        let task = tokio::spawn(async move {
            if let Err(error) = server.serve(router.into_make_service()).await {
                tracing::error!(%error, "woo-sim TLS server stopped");
            }
        });
        (
            ShutdownHandle::Tls(handle),
            task,
            Some(cert.cert_path),
            keep,
        )
    } else {
        let listener = tokio::net::TcpListener::from_std(std_listener)
            .map_err(|source| Error::Bind { addr, source })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(error) = served.await {
                tracing::error!(%error, "woo-sim server stopped");
            }
        });
        (ShutdownHandle::Plain(tx), task, None, None)
    };
    tracing::info!(%base_url, "woo-sim listening");
    Ok(Handle {
        addr: local,
        base_url,
        consumer_key: key.consumer_key,
        consumer_secret: key.consumer_secret,
        cert_pem_path,
        admin,
        _cert_dir: cert_dir,
        shutdown,
        task,
    })
}

impl Handle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store's home URL (`http://127.0.0.1:PORT`, no trailing slash). OAuth signatures are
    /// checked against this host exactly.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The seeded read_write key's consumer key.
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The seeded read_write key's consumer secret.
    pub fn consumer_secret(&self) -> &str {
        &self.consumer_secret
    }

    /// The self-signed certificate (PEM) with `tls`.
    pub fn cert_pem_path(&self) -> Option<&Path> {
        self.cert_pem_path.as_deref()
    }

    /// A few lines telling a human how to use this store.
    pub fn banner(&self) -> String {
        let mut out = format!(
            "woo-sim: simulated WooCommerce 9.2.5 store at {url}\n\
             \x20 REST API:      {url}/wp-json/wc/v3/ ({auth})\n\
             \x20 consumer key:  {ck}\n\
             \x20 consumer secret: {cs}\n\
             \x20 wc-auth:       {url}/wc-auth/v1/authorize?... (log in as {user} / {pass})\n\
             \x20 admin API:     {url}/_sim/ (orders, deliveries, webhooks, faults)\n",
            url = self.base_url,
            auth = if self.cert_pem_path.is_some() {
                "Basic auth or ?consumer_key=&consumer_secret= over https, or OAuth 1.0a"
            } else {
                "OAuth 1.0a only over http"
            },
            ck = self.consumer_key,
            cs = self.consumer_secret,
            user = self.admin.0,
            pass = self.admin.1,
        );
        if let Some(p) = &self.cert_pem_path {
            out.push_str(&format!(
                "  certificate:   {} (self-signed, trust it in your client)\n",
                p.display()
            ));
        }
        out
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(self) {
        match self.shutdown {
            ShutdownHandle::Plain(tx) => {
                let _ = tx.send(());
            }
            ShutdownHandle::Tls(h) => h.graceful_shutdown(Some(Duration::from_secs(1))),
        }
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}
