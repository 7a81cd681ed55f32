//! A whole installation on loopback for the end-to-end and drain benchmarks: the TrackingTech
//! sandbox, one woo-sim store per connection, the connector (receiver and engine) on a fresh
//! database, and connections made by the wizard's own steps, so the engine really sends.
//!
//! The fakes and the load generator run on runtimes of their own, each on one thread named after
//! it (`sandbox`, `woo-sim`, `bench-client`), and the connector on the main runtime (`ttwc`
//! threads, plus sqlx's SQLite threads): `/proc/self/task` then tells which side burned the CPU.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use connector::connection::{self, ConnectRequest};
use connector::engine::EngineConfig;
use connector::{App, AppOptions, Settings};
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use crate::KEY;

/// The runtimes the fakes and the load generator run on, each on one named thread.
#[derive(Clone)]
pub struct Runtimes {
    pub sandbox: tokio::runtime::Handle,
    pub woo: tokio::runtime::Handle,
    pub client: tokio::runtime::Handle,
}

impl Runtimes {
    pub fn start() -> anyhow::Result<Runtimes> {
        Ok(Runtimes {
            sandbox: side_runtime("sandbox")?,
            woo: side_runtime("woo-sim")?,
            client: side_runtime("bench-client")?,
        })
    }
}

/// A single-threaded runtime on a thread of its own named `name`, running until the process
/// exits.
fn side_runtime(name: &str) -> anyhow::Result<tokio::runtime::Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(format!("{name}-blocking"))
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    Ok(handle)
}

/// Which database the connector runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// With SQLite's `synchronous` setting (`full`, the product's default, or `normal`).
    Sqlite(String),
    /// `TTWC_BENCH_POSTGRES_URL`; each run gets a fresh schema in that database.
    Postgres(String),
}

impl Backend {
    /// SQLite always; PostgreSQL too when `TTWC_BENCH_POSTGRES_URL` is set.
    pub fn from_env(synchronous: &str) -> Vec<Backend> {
        let mut out = vec![Backend::Sqlite(synchronous.to_ascii_lowercase())];
        match std::env::var("TTWC_BENCH_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => out.push(Backend::Postgres(url)),
            _ => eprintln!(
                "PostgreSQL skipped: set TTWC_BENCH_POSTGRES_URL (a database the bench may create schemas in) to include it"
            ),
        }
        out
    }

    pub fn label(&self) -> String {
        match self {
            Backend::Sqlite(s) if s == "full" => "SQLite".into(),
            Backend::Sqlite(s) => format!("SQLite (synchronous={})", s.to_uppercase()),
            Backend::Postgres(_) => "PostgreSQL".into(),
        }
    }
}

/// A database URL for one run: a file in `dir` for SQLite; for PostgreSQL the schema `schema`
/// dropped and created afresh with `psql`, and the URL's `search_path` pointed at it.
fn database_url(backend: &Backend, dir: &std::path::Path, schema: &str) -> anyhow::Result<String> {
    match backend {
        Backend::Sqlite(synchronous) => Ok(format!(
            "sqlite://{}?synchronous={synchronous}",
            dir.join("bench.db").display()
        )),
        Backend::Postgres(base) => {
            anyhow::ensure!(
                schema.starts_with("ttwc_bench_")
                    && schema
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "refusing to drop schema {schema:?}: the bench only drops its own ttwc_bench_* schemas"
            );
            let url = url::Url::parse(base).context("TTWC_BENCH_POSTGRES_URL is not a URL")?;
            // Keep the user's query parameters but `options`, then add our search_path, encoded
            // with %20 and %3D so both libpq (psql) and sqlx read it the same way.
            let mut query: Vec<String> = url
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("options="))
                .map(str::to_owned)
                .collect();
            query.push(format!("options=-c%20search_path%3D{schema}"));
            let mut run_url = url.clone();
            run_url.set_query(Some(&query.join("&")));
            let status = std::process::Command::new("psql")
                .arg(run_url.as_str())
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
                .arg(format!(
                    "SET client_min_messages = warning; DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
                ))
                .status()
                .context("running psql to make a fresh schema (is the PostgreSQL client installed?)")?;
            anyhow::ensure!(status.success(), "psql could not recreate schema {schema}");
            Ok(run_url.to_string())
        }
    }
}

/// Where a connection's deliveries go.
pub struct Target {
    pub connection_id: String,
    pub url: String,
    pub secret: String,
    pub store_url: String,
}

/// What a rig is made with.
pub struct RigOptions<'a> {
    pub connections: usize,
    pub backend: &'a Backend,
    /// The PostgreSQL schema for this run (`ttwc_bench_…`).
    pub schema: &'a str,
    /// Engine overrides; `None` keeps the product's defaults.
    pub engine_concurrency: Option<usize>,
    pub per_connection: Option<u32>,
    /// How many sandboxes take the orders (see [`Sandboxes`]).
    pub sandboxes: usize,
}

/// The TrackingTech side. With one sandbox: the builtin fixtures, courier `DEMO`, every
/// connection on it. With K > 1: K couriers `DEMO1..DEMOK`, each served by a sandbox of its
/// own, and one more sandbox as the tenant registry (the configured TrackingTech URL) whose
/// `resolve` answers each courier's `api_url` — as TrackingTech does for a courier hosted
/// apart; connection i uses courier i mod K. It spreads the orders over K fakes: the sandbox
/// checks a new tracking id against every order it holds, so one sandbox slows down as it
/// fills (a few ms per order at 100,000).
pub struct Sandboxes {
    handles: Vec<sandbox::Handle>,
    /// The configured TrackingTech URL (resolve).
    pub registry_url: String,
    /// The sandboxes that take orders, and their courier codes.
    pub admins: Admins,
    pub codes: Vec<String>,
}

/// The admin APIs of the sandboxes that take orders; cheap to clone.
#[derive(Clone)]
pub struct Admins(Vec<Admin>);

impl Admins {
    pub async fn set_faults(&self, faults: Value) -> anyhow::Result<()> {
        for a in &self.0 {
            a.set_faults(faults.clone()).await?;
        }
        Ok(())
    }

    pub async fn clear_faults(&self) -> anyhow::Result<()> {
        for a in &self.0 {
            a.clear_faults().await?;
        }
        Ok(())
    }

    /// Each sandbox's order list, read once and added up.
    pub async fn accepted(&self) -> anyhow::Result<Accepted> {
        let mut total = Accepted::default();
        for a in &self.0 {
            let one = a.accepted().await?;
            total.orders += one.orders;
            total.distinct += one.distinct;
            total.duplicates += one.duplicates;
            total.send_requests += one.send_requests;
        }
        Ok(total)
    }
}

fn sandbox_config(fixtures: sandbox::Fixtures) -> sandbox::Config {
    let mut config = sandbox::Config::new(fixtures);
    // Statuses stay `created`: no order changes after acceptance.
    config.advance_every = None;
    config.login_attempts_per_minute = 0;
    config
}

impl Sandboxes {
    async fn start(runtime: &tokio::runtime::Handle, k: usize) -> anyhow::Result<Sandboxes> {
        let spawn = |fixtures: sandbox::Fixtures| {
            runtime.spawn(async move { sandbox::spawn(sandbox_config(fixtures)).await })
        };
        let admin = |h: &sandbox::Handle| Admin {
            base_url: h.base_url(),
            admin_token: h.admin_token().to_owned(),
            http: reqwest::Client::new(),
        };
        if k <= 1 {
            let h = spawn(sandbox::Fixtures::builtin())
                .await
                .context("sandbox task")?
                .context("starting the sandbox")?;
            return Ok(Sandboxes {
                registry_url: h.base_url(),
                admins: Admins(vec![admin(&h)]),
                codes: vec!["DEMO".into()],
                handles: vec![h],
            });
        }
        let codes: Vec<String> = (1..=k).map(|i| format!("DEMO{i}")).collect();
        // The demo account, with the couriers `codes` (served by this sandbox, or at a URL).
        let fixtures = |urls: &[Option<String>]| {
            sandbox::Fixtures::builtin().with_tenants(
                codes
                    .iter()
                    .zip(urls)
                    .map(|(c, url)| (c.clone(), format!("Courier {c}"), url.clone())),
            )
        };
        let mut handles = Vec::with_capacity(k + 1);
        for _ in 0..k {
            let fixtures = fixtures(&vec![None; k]).context("the bench's courier fixtures")?;
            handles.push(
                spawn(fixtures)
                    .await
                    .context("sandbox task")?
                    .context("starting a sandbox")?,
            );
        }
        let urls: Vec<Option<String>> = handles.iter().map(|h| Some(h.base_url())).collect();
        let registry = spawn(fixtures(&urls).context("the bench's registry fixtures")?)
            .await
            .context("sandbox task")?
            .context("starting the registry sandbox")?;
        let admins = Admins(handles.iter().map(admin).collect());
        let registry_url = registry.base_url();
        handles.push(registry);
        Ok(Sandboxes {
            handles,
            registry_url,
            admins,
            codes,
        })
    }
}

/// The sandbox's admin API (`/_sandbox/`); cheap to clone.
#[derive(Clone)]
pub struct Admin {
    base_url: String,
    admin_token: String,
    http: reqwest::Client,
}

/// What the sandbox holds after a run.
#[derive(Debug, Default, Clone)]
pub struct Accepted {
    /// Orders the sandbox created.
    pub orders: u64,
    /// Distinct (customer, WooCommerce order id): each order counted once.
    pub distinct: u64,
    /// Orders created more than once (`orders - distinct`).
    pub duplicates: u64,
    /// Send requests that reached the sandbox's handler (replays of a key included).
    pub send_requests: u64,
}

impl Admin {
    /// `PUT /_sandbox/faults` (fields left out are turned off).
    pub async fn set_faults(&self, faults: Value) -> anyhow::Result<()> {
        let r = self
            .http
            .put(format!("{}/_sandbox/faults", self.base_url))
            .bearer_auth(&self.admin_token)
            .json(&faults)
            .send()
            .await
            .context("setting sandbox faults")?;
        anyhow::ensure!(
            r.status().is_success(),
            "sandbox refused faults {faults}: {}",
            r.status()
        );
        Ok(())
    }

    /// `DELETE /_sandbox/faults`.
    pub async fn clear_faults(&self) -> anyhow::Result<()> {
        let r = self
            .http
            .delete(format!("{}/_sandbox/faults", self.base_url))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .context("clearing sandbox faults")?;
        anyhow::ensure!(
            r.status().is_success(),
            "sandbox refused to clear faults: {}",
            r.status()
        );
        Ok(())
    }

    /// Reads `GET /_sandbox/orders` once (the whole list: use it after a run, not to poll) and
    /// counts each order once.
    pub async fn accepted(&self) -> anyhow::Result<Accepted> {
        let r = self
            .http
            .get(format!("{}/_sandbox/orders", self.base_url))
            .bearer_auth(&self.admin_token)
            .timeout(Duration::from_secs(300))
            .send()
            .await
            .context("listing sandbox orders")?;
        anyhow::ensure!(r.status().is_success(), "sandbox orders: {}", r.status());
        let body: Value = r.json().await.context("reading sandbox orders")?;
        let list = body["data"].as_array().cloned().unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        let mut send_requests = 0;
        for o in &list {
            let customer = o["customer_id"].as_str().unwrap_or_default().to_owned();
            let order_id = o["order"]["order_id"].as_u64().unwrap_or(0);
            seen.insert((customer, order_id));
            send_requests += o["requests"].as_u64().unwrap_or(0);
        }
        let orders = list.len() as u64;
        let distinct = seen.len() as u64;
        Ok(Accepted {
            orders,
            distinct,
            duplicates: orders - distinct,
            send_requests,
        })
    }
}

/// Everything one run needs, started; [`Rig::stop`] takes it down.
pub struct Rig {
    pub app: App,
    pub sandbox: Sandboxes,
    pub targets: Arc<Vec<Target>>,
    woos: Vec<woo_sim::Handle>,
    engine_stop: watch::Sender<bool>,
    engine: tokio::task::JoinHandle<()>,
    web_stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start(runtimes: &Runtimes, options: &RigOptions<'_>) -> anyhow::Result<Rig> {
        let sandbox = Sandboxes::start(&runtimes.sandbox, options.sandboxes).await?;
        let n = options.connections;
        let woos = runtimes
            .woo
            .spawn(async move {
                let mut woos = Vec::with_capacity(n);
                for _ in 0..n {
                    woos.push(
                        woo_sim::spawn(woo_sim::Config::new(woo_sim::Seed::builtin())).await?,
                    );
                }
                Ok::<_, woo_sim::Error>(woos)
            })
            .await
            .context("woo-sim task")?
            .context("starting woo-sim")?;

        let dir = tempfile::tempdir()?;
        let database = database_url(options.backend, dir.path(), options.schema)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut settings = Settings::defaults();
        settings.listen = addr;
        settings.public_url = url::Url::parse(&format!("http://{addr}"))?;
        settings.database_url = database.clone();
        settings.master_key = Some(KEY.to_owned());
        settings.trackingtech_url = sandbox.registry_url.clone();
        settings.allowed_private_nets = egress::loopback();
        // No status polling or reconcile during a run: only sends (and their write-backs).
        settings.status_interval = Duration::from_secs(86_400);
        settings.reconcile_interval = Duration::from_secs(86_400);
        let app = App::open(settings.clone(), AppOptions::default())
            .await
            .context("opening the connector")?;
        let (web_stop, web_stopped) = oneshot::channel::<()>();
        tokio::spawn(connector::web::serve(app.clone(), listener, async move {
            let _ = web_stopped.await;
        }));

        let mut targets = Vec::with_capacity(n);
        for (i, woo) in woos.iter().enumerate() {
            let code = &sandbox.codes[i % sandbox.codes.len()];
            targets.push(connect(&app, woo, addr, code).await?);
        }

        let mut engine = EngineConfig::from_settings(&settings);
        if let Some(c) = options.engine_concurrency {
            engine.concurrency = c;
        }
        if let Some(p) = options.per_connection {
            engine.per_connection = p;
        }
        let (engine_stop, engine_stopped) = watch::channel(false);
        let engine = connector::engine::spawn(app.clone(), engine, engine_stopped);
        Ok(Rig {
            app,
            sandbox,
            targets: Arc::new(targets),
            woos,
            engine_stop,
            engine,
            web_stop,
            _dir: dir,
        })
    }

    pub async fn stop(self) {
        let _ = self.engine_stop.send(true);
        if tokio::time::timeout(Duration::from_secs(60), self.engine)
            .await
            .is_err()
        {
            eprintln!("the engine did not stop within 60 s");
        }
        let _ = self.web_stop.send(());
        for h in self.sandbox.handles {
            h.shutdown().await;
        }
        for woo in self.woos {
            woo.shutdown().await;
        }
    }
}

/// The wizard's steps, as `ttwc connect` and the demo run them: probe and resolve, log in,
/// pick the first TrackingTech store, check the keys, create the webhook, link. Returns where
/// deliveries go and the webhook secret the wizard chose.
async fn connect(
    app: &App,
    woo: &woo_sim::Handle,
    connector_addr: std::net::SocketAddr,
    code: &str,
) -> anyhow::Result<Target> {
    let fail = |what: &'static str| move |e: connection::StepError| anyhow::anyhow!("{what}: {e}");
    let started = connection::start(app, &woo.base_url(), code)
        .await
        .map_err(fail("resolve"))?;
    let (user, token) = connection::login(
        app,
        &started.tenant_code,
        &started.tenant_name,
        &started.api_base,
        "demo@trackingtech.test",
        "demo1234",
    )
    .await
    .map_err(fail("login"))?;
    let stores = connection::stores(app, &user, &token)
        .await
        .map_err(fail("stores"))?;
    let store = stores
        .first()
        .context("the sandbox's demo account has no store")?;
    let credentials = woocommerce::Credentials::new(woo.consumer_key(), woo.consumer_secret())?;
    let row = connection::connect(
        app,
        ConnectRequest {
            started: &started,
            user: &user,
            token: &token,
            store,
            credentials,
            permissions: None,
        },
    )
    .await
    .map_err(fail("connect"))?;
    let secret = connection::Secrets::open_webhook_secret(app, &row)
        .context("the new connection's webhook secret does not open")?;
    Ok(Target {
        connection_id: row.id.clone(),
        url: format!("http://{connector_addr}/webhooks/woocommerce/{}", row.id),
        secret: secret.expose().to_owned(),
        store_url: row.store_url,
    })
}
