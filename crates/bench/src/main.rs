//! `ttwc-bench`: measures what the operators' targets are about and prints a table.
//!
//! - `ingest`: signed webhook deliveries from many concurrent connections over loopback into
//!   the connector's receiver (each one committing a new outbox row), on SQLite and — when
//!   `TTWC_BENCH_POSTGRES_URL` is set — on PostgreSQL, side by side with the ceiling: a bare
//!   axum handler that answers 200. Closed loop (throughput, p50, p99) and open loop at a fixed
//!   rate (p50, p99).
//! - `memory`: peak RSS of a real `ttwc serve` process with N connections idle, then under the
//!   ingest load.
//! - `e2e`: orders per second from webhook delivery to acceptance by the TrackingTech sandbox,
//!   with the sandbox answering at once and with added latency (`flow.rs`, on the installation
//!   `rig.rs` builds: sandbox, woo-sim stores, connector, connections made by the wizard).
//! - `drain`: N orders queued while the sandbox is down, then the time until all are accepted
//!   after it comes back.
//!
//! Numbers go to BENCHMARKS.md with the command that produced them. No assertion here: speed is
//! a measurement, not a test.

mod cpu;
mod flow;
mod rig;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use connector::store::{ConnectionRow, ConnectionState};
use connector::{App, AppOptions, Settings};

#[derive(Parser)]
#[command(about = "ttwc benchmarks")]
struct Cli {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Webhook ingest: closed-loop throughput and latency, and latency at a fixed rate.
    Ingest {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 50)]
        connections: usize,
        /// Deliveries per second for the open-loop run.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// Run only these targets (for profiling one): ceiling, sqlite, postgres.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// SQLite's `synchronous` setting for the SQLite target: full (the default) or normal.
        #[arg(long, default_value = "full")]
        synchronous: String,
        /// The closed loop's `seconds` are split into this many rounds, each running every
        /// target in turn: this VM's speed drifts (the ceiling alone measured 18,000 to 47,000
        /// deliveries/s in one day), and targets run one after another would each meet a
        /// different machine.
        #[arg(long, default_value_t = 5)]
        rounds: u64,
    },
    /// Peak RSS of `ttwc serve` with N idle connections, then under ingest load.
    Memory {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
    /// End to end: orders per second from delivery to acceptance by the TrackingTech sandbox.
    E2e {
        #[arg(long, default_value_t = 20_000)]
        orders: u64,
        #[arg(long, default_value_t = 10)]
        connections: usize,
        /// Latency the sandbox adds to every call, one run per value.
        #[arg(long, value_delimiter = ',', default_value = "0,50")]
        latency_ms: Vec<u64>,
        /// Concurrent delivery clients (closed loop).
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Deliver at this fixed rate per second instead (open loop), to see per-order latency
        /// below the engine's capacity.
        #[arg(long)]
        rate: Option<u64>,
        #[command(flatten)]
        engine: EngineArgs,
        /// Give up waiting for acceptance after this long.
        #[arg(long, default_value_t = 900)]
        deadline_secs: u64,
    },
    /// Drain: orders queued while TrackingTech is down, then the time until all are accepted.
    Drain {
        #[arg(long, default_value_t = 100_000)]
        orders: u64,
        #[arg(long, default_value_t = 10)]
        connections: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[command(flatten)]
        engine: EngineArgs,
        /// Give up waiting for the drain after this long (from the end of the outage).
        #[arg(long, default_value_t = 900)]
        deadline_secs: u64,
        /// Give up waiting for every order's first try after this long (from the first
        /// delivery); the outage then ends anyway.
        #[arg(long, default_value_t = 3600)]
        tries_deadline_secs: u64,
    },
}

/// Engine tunables; left out, the product's defaults.
#[derive(clap::Args)]
struct EngineArgs {
    /// Sends in flight overall (product default: TTWC_SEND_CONCURRENCY, 256).
    #[arg(long)]
    engine_concurrency: Option<usize>,
    /// Sends in flight per connection (product default: TTWC_SENDS_PER_CONNECTION, 16).
    #[arg(long)]
    per_connection: Option<u32>,
    /// SQLite's `synchronous` setting for the SQLite runs: full (the product's default) or normal.
    #[arg(long, default_value = "full")]
    synchronous: String,
    /// Spread the connections over this many couriers, each served by a sandbox of its own
    /// (one sandbox slows down as it fills: it checks each new tracking id against every order
    /// it holds).
    #[arg(long, default_value_t = 1)]
    sandboxes: usize,
}

impl EngineArgs {
    fn options(&self) -> flow::EngineOptions {
        flow::EngineOptions {
            concurrency: self.engine_concurrency,
            per_connection: self.per_connection,
            synchronous: self.synchronous.clone(),
            sandboxes: self.sandboxes.max(1),
        }
    }
}

fn main() -> anyhow::Result<()> {
    // Named threads, so `/proc/self/task` tells the connector's CPU from the fakes' (`rig.rs`).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ttwc")
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    if let Ok(filter) = std::env::var("TTWC_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match Cli::parse().what {
        What::Ingest {
            seconds,
            concurrency,
            connections,
            rate,
            only,
            synchronous,
            rounds,
        } => {
            let plan = Plan {
                seconds,
                concurrency,
                rate,
                rounds,
            };
            ingest(&plan, connections, &only, &synchronous).await
        }
        What::Memory {
            connections,
            seconds,
            concurrency,
        } => memory(connections, seconds, concurrency).await,
        What::E2e {
            orders,
            connections,
            latency_ms,
            concurrency,
            rate,
            engine,
            deadline_secs,
        } => {
            flow::e2e(
                orders,
                connections,
                &latency_ms,
                concurrency,
                rate,
                &engine.options(),
                Duration::from_secs(deadline_secs),
            )
            .await
        }
        What::Drain {
            orders,
            connections,
            concurrency,
            engine,
            deadline_secs,
            tries_deadline_secs,
        } => {
            flow::drain(
                orders,
                connections,
                concurrency,
                &engine.options(),
                Duration::from_secs(deadline_secs),
                Duration::from_secs(tries_deadline_secs),
            )
            .await
        }
    }
}

/// Where deliveries go: the URL and the webhook secret of each connection.
type Targets = Vec<(String, String)>;

struct Stats {
    count: u64,
    errors: u64,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Stats {
    fn none() -> Stats {
        Stats {
            count: 0,
            errors: 0,
            seconds: 0.0,
            latencies_us: Vec::new(),
        }
    }

    /// Adds another run's deliveries, time and latencies to these.
    fn merge(&mut self, other: Stats) {
        self.count += other.count;
        self.errors += other.errors;
        self.seconds += other.seconds;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
    }

    fn rate(&self) -> f64 {
        self.count as f64 / self.seconds
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// A realistic order body (about the size WooCommerce sends), unique per `id`.
fn order_body(id: u64) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    serde_json::to_vec(&serde_json::json!({
        "id": id, "parent_id": 0, "number": id.to_string(), "status": "processing", "currency": "CLP",
        "date_created": date, "date_created_gmt": date, "date_modified": date, "date_modified_gmt": date,
        "total": "25980", "customer_id": 0,
        "billing": {"first_name": "Josefa", "last_name": "Muñoz", "company": "", "address_1": "Av. Providencia 1234",
                    "address_2": "Depto 56", "city": "Providencia", "state": "CL-RM", "postcode": "7500000",
                    "country": "CL", "email": "josefa@example.cl", "phone": "+56912345678"},
        "shipping": {"first_name": "Josefa", "last_name": "Muñoz", "company": "", "address_1": "Av. Providencia 1234",
                     "address_2": "Depto 56", "city": "Providencia", "state": "CL-RM", "postcode": "7500000",
                     "country": "CL", "phone": ""},
        "line_items": [{"id": 1, "name": "Polera algodón orgánico", "product_id": 11, "variation_id": 0, "quantity": 2,
                        "sku": "POL-ORG-M", "subtotal": "25980", "total": "25980", "price": 12990, "meta_data": []}],
        "shipping_lines": [{"id": 2, "method_title": "Envío", "method_id": "flat_rate", "total": "0"}],
        "meta_data": [], "_links": {"self": [{"href": "http://127.0.0.1/wp-json/wc/v3/orders/1"}]}
    }))
    .unwrap_or_default()
}

/// Order ids never repeat across runs: every delivery is a new order, the worst case.
static NEXT_ORDER: AtomicU64 = AtomicU64::new(1_000_000);

/// Sends deliveries for `seconds` from `concurrency` workers (closed loop), or at `rate` per
/// second (open loop) when given.
async fn load(targets: Arc<Targets>, seconds: u64, concurrency: usize, rate: Option<u64>) -> Stats {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(16))
        .build()
        .unwrap_or_default();
    let next_id = Arc::new(AtomicU64::new(
        NEXT_ORDER.fetch_add(10_000_000, Ordering::Relaxed),
    ));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let send = {
        let http = http.clone();
        let targets = targets.clone();
        let next_id = next_id.clone();
        move || {
            let http = http.clone();
            let targets = targets.clone();
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            async move {
                let (url, secret) = &targets[(id as usize) % targets.len()];
                let body = order_body(id);
                let signature = woocommerce::webhook::sign(secret.as_bytes(), &body);
                let started = Instant::now();
                let ok = http
                    .post(url)
                    .header("content-type", "application/json")
                    .header("x-wc-webhook-source", "http://127.0.0.1/")
                    .header("x-wc-webhook-topic", "order.updated")
                    .header("x-wc-webhook-resource", "order")
                    .header("x-wc-webhook-event", "updated")
                    .header("x-wc-webhook-signature", signature)
                    .header("x-wc-webhook-id", "1")
                    .header(
                        "x-wc-webhook-delivery-id",
                        "0123456789abcdef0123456789abcdef",
                    )
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                let ok = (200..300).contains(&ok) || {
                    if std::env::var_os("TTWC_BENCH_VERBOSE").is_some() {
                        eprintln!("delivery answered {ok}");
                    }
                    false
                };
                (ok, started.elapsed().as_micros() as u64)
            }
        }
    };
    let started = Instant::now();
    let mut results: Vec<(bool, u64)> = Vec::new();
    match rate {
        None => {
            let mut workers = Vec::new();
            for _ in 0..concurrency {
                let send = send.clone();
                workers.push(tokio::spawn(async move {
                    let mut mine = Vec::new();
                    while Instant::now() < deadline {
                        mine.push(send().await);
                    }
                    mine
                }));
            }
            for w in workers {
                results.extend(w.await.unwrap_or_default());
            }
        }
        Some(rate) => {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut in_flight = Vec::new();
            while Instant::now() < deadline {
                tick.tick().await;
                in_flight.push(tokio::spawn(send()));
            }
            for f in futures_util::future::join_all(in_flight).await {
                results.push(f.unwrap_or((false, 0)));
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let errors = results.iter().filter(|(ok, _)| !ok).count() as u64;
    let mut latencies_us: Vec<u64> = results
        .iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, l)| *l)
        .collect();
    latencies_us.sort_unstable();
    Stats {
        count: latencies_us.len() as u64,
        errors,
        seconds,
        latencies_us,
    }
}

/// The connector's receiver on `database_url`, with `connections` connected stores.
async fn connector_targets(
    database_url: &str,
    connections: usize,
    key: &str,
) -> anyhow::Result<(App, Targets)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut settings = Settings::defaults();
    settings.listen = addr;
    settings.public_url = url::Url::parse(&format!("http://{addr}"))?;
    settings.database_url = database_url.to_owned();
    settings.master_key = Some(key.to_owned());
    settings.allowed_private_nets = egress::loopback();
    let app = App::open(settings, AppOptions::default())
        .await
        .context("opening the connector")?;
    let targets = add_connections(&app, connections, &format!("http://{addr}")).await?;
    tokio::spawn(connector::web::serve(
        app.clone(),
        listener,
        std::future::pending(),
    ));
    Ok((app, targets))
}

async fn add_connections(app: &App, n: usize, base: &str) -> anyhow::Result<Targets> {
    let now = connector::store::now();
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let id = connector::connection::new_connection_id();
        let secret = format!("benchsecret{i}");
        let row = ConnectionRow {
            id: id.clone(),
            owner: "DEMO:1".into(),
            owner_email: "demo@trackingtech.test".into(),
            tenant_code: "DEMO".into(),
            tenant_name: "Courier Demo".into(),
            api_base_url: "http://127.0.0.1:9".into(),
            store_url: format!("https://tienda-{i}.example.cl"),
            device_id: "0".repeat(64),
            tt_store_id: "101".into(),
            tt_store_name: "Bodega".into(),
            customer_id: Some(format!("cus_{i}")),
            integration_token: None,
            woo_consumer_key: None,
            woo_consumer_secret: None,
            woo_permissions: "read_write".into(),
            webhook_id: Some(1),
            webhook_secret: Some(app.key().seal_str(
                &connector::connection::secret_context(&id, "webhook_secret"),
                &secret,
            )),
            state: ConnectionState::Connected,
            trigger_status: "processing".into(),
            mark_completed: false,
            notify_customer: false,
            created_at: now - time::Duration::hours(1),
            connected_at: Some(now - time::Duration::hours(1)),
            disconnected_at: None,
            updated_at: now,
            last_sent_at: None,
            last_error: None,
            last_error_at: None,
            order_id_at_connect: None,
            store_timezone: None,
            store_utc_offset: None,
            store_language: None,
        };
        app.store().upsert_connection(&row).await?;
        targets.push((format!("{base}/webhooks/woocommerce/{id}"), secret));
    }
    Ok(targets)
}

async fn ceiling_targets(connections: usize) -> anyhow::Result<Targets> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/webhooks/woocommerce/{id}",
        axum::routing::post(|_body: axum::body::Bytes| async { axum::http::StatusCode::OK }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((0..connections)
        .map(|i| {
            (
                format!("http://{addr}/webhooks/woocommerce/c{i}"),
                "s".to_owned(),
            )
        })
        .collect())
}

const KEY: &str = "6b6579206f662074686520747477632062656e63686d61726b73206b65792121";

/// How the ingest targets are loaded.
struct Plan {
    seconds: u64,
    concurrency: usize,
    rate: u64,
    rounds: u64,
}

async fn ingest(
    plan: &Plan,
    connections: usize,
    only: &[String],
    synchronous: &str,
) -> anyhow::Result<()> {
    let wanted = |t: &str| only.is_empty() || only.iter().any(|o| o == t);
    let dir = tempfile::tempdir()?;
    // Every target is set up first (the connectors stay open until the end), then loaded.
    let mut targets: Vec<(String, Arc<Targets>)> = Vec::new();
    let mut apps = Vec::new();
    if wanted("ceiling") {
        let ceiling = Arc::new(ceiling_targets(connections).await?);
        targets.push(("bare axum handler (ceiling)".into(), ceiling));
    }
    if wanted("sqlite") {
        let sqlite = format!(
            "sqlite://{}?synchronous={synchronous}",
            dir.path().join("bench.db").display()
        );
        let (app, sqlite) = connector_targets(&sqlite, connections, KEY).await?;
        apps.push(app);
        let name = format!(
            "ttwc on SQLite (synchronous={})",
            synchronous.to_uppercase()
        );
        targets.push((name, Arc::new(sqlite)));
    }
    match std::env::var("TTWC_BENCH_POSTGRES_URL") {
        Ok(url) if wanted("postgres") => {
            let (app, postgres) = connector_targets(&url, connections, KEY).await?;
            apps.push(app);
            targets.push(("ttwc on PostgreSQL".into(), Arc::new(postgres)));
        }
        Ok(_) => {}
        Err(_) => eprintln!(
            "PostgreSQL skipped: set TTWC_BENCH_POSTGRES_URL (an empty database) to include it"
        ),
    }
    let rounds = plan.rounds.max(1);
    let slice = (plan.seconds / rounds).max(1);
    let mut closed: Vec<Stats> = targets.iter().map(|_| Stats::none()).collect();
    for _ in 0..rounds {
        for ((_, t), stats) in targets.iter().zip(&mut closed) {
            stats.merge(load(t.clone(), slice, plan.concurrency, None).await);
        }
    }
    let mut open = Vec::with_capacity(targets.len());
    for (_, t) in &targets {
        open.push(load(t.clone(), plan.seconds, plan.concurrency, Some(plan.rate)).await);
    }
    println!(
        "\nwebhook ingest: {connections} connections, {} concurrent clients, closed loop {rounds} rounds of {slice} s per target (interleaved), open loop {} s, loopback",
        plan.concurrency, plan.seconds
    );
    println!(
        "| target | closed loop: deliveries/s | p50 ms | p99 ms | errors | open loop at {}/s: p50 ms | p99 ms | errors |",
        plan.rate
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let ceiling_rate = closed.first().map(Stats::rate).unwrap_or(1.0);
    for (((name, _), closed), open) in targets.iter().zip(&closed).zip(&open) {
        println!(
            "| {name} | {:.0} ({:.0} % of ceiling) | {:.2} | {:.2} | {} | {:.2} | {:.2} | {} |",
            closed.rate(),
            100.0 * closed.rate() / ceiling_rate,
            closed.pct(0.50),
            closed.pct(0.99),
            closed.errors,
            open.pct(0.50),
            open.pct(0.99),
            open.errors
        );
    }
    drop(apps);
    Ok(())
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn memory(connections: usize, seconds: u64, concurrency: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("mem.db").display());
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let base = format!("http://{listen}");
    // Fill the database with the connections, then hand it to a real `ttwc serve`.
    let targets = {
        let mut settings = Settings::defaults();
        settings.database_url = db.clone();
        settings.master_key = Some(KEY.to_owned());
        let app = App::open(settings, AppOptions::default()).await?;
        add_connections(&app, connections, &base).await?
    };
    let exe = std::env::current_exe()?.with_file_name("ttwc");
    anyhow::ensure!(
        exe.exists(),
        "build the ttwc binary first (cargo build --release -p ttwc): {} is missing",
        exe.display()
    );
    let mut child = std::process::Command::new(&exe)
        .arg("serve")
        .env("TTWC_LISTEN", listen.to_string())
        .env("TTWC_DATABASE_URL", &db)
        .env("TTWC_MASTER_KEY", KEY)
        .env("TTWC_TRACKINGTECH_URL", "http://127.0.0.1:9")
        .env("TTWC_ALLOWED_PRIVATE_NETS", "127.0.0.0/8")
        .env("TTWC_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz"))
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = peak_rss_kib(child.id()).unwrap_or(0);
    let stats = load(Arc::new(targets), seconds, concurrency, None).await;
    let loaded = peak_rss_kib(child.id()).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    println!("\npeak RSS of `ttwc serve` (SQLite) with {connections} connections");
    println!("| phase | peak RSS MiB |");
    println!("|---|---:|");
    println!("| idle | {:.1} |", idle as f64 / 1024.0);
    println!(
        "| after {seconds} s of ingest ({:.0} deliveries/s, {} errors) | {:.1} |",
        stats.rate(),
        stats.errors,
        loaded as f64 / 1024.0
    );
    Ok(())
}
