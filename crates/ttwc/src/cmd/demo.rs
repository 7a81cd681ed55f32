//! `ttwc demo`: the whole product on loopback — the TrackingTech sandbox, the WooCommerce
//! simulator and the connector — ready for a newcomer to connect a store in the browser.
//! With `--auto` the demo performs the connection itself.
//!
//! The demo keeps its own database, `ttwc-demo.db` (and `ttwc-demo.key`) in the working
//! directory, started afresh on every run: the sandbox and the simulator live in memory, so
//! connections from an earlier run would point at stores and tokens that no longer exist.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use connector::connection::{self, ConnectRequest};
use connector::{App, AppOptions, Settings};

const DEMO_DB: &str = "ttwc-demo.db";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the connector (wizard and dashboard) listens.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Where the TrackingTech sandbox listens.
    #[arg(long, default_value = "127.0.0.1:8790")]
    sandbox_listen: SocketAddr,
    /// Where the WooCommerce simulator listens.
    #[arg(long, default_value = "127.0.0.1:8791")]
    woo_listen: SocketAddr,
    /// Connect the simulated store automatically instead of waiting for the browser.
    #[arg(long)]
    auto: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut sandbox_config = sandbox::Config::new(sandbox::Fixtures::builtin());
    sandbox_config.advance_every = Some(Duration::from_secs(10));
    let sandbox = sandbox::bind(sandbox_config, args.sandbox_listen)
        .await
        .with_context(|| {
            format!(
                "cannot start the TrackingTech sandbox on {} (--sandbox-listen)",
                args.sandbox_listen
            )
        })?;
    let mut woo_config = woo_sim::Config::new(woo_sim::Seed::builtin());
    // The demo's connector listens on plain http on loopback; real WooCommerce would insist on
    // an https callback (see crates/woo-sim/README.md).
    woo_config.allow_http_callbacks = true;
    let woo = woo_sim::bind(woo_config, args.woo_listen)
        .await
        .with_context(|| {
            format!(
                "cannot start the WooCommerce simulator on {} (--woo-listen)",
                args.woo_listen
            )
        })?;

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DEMO_DB}{suffix}"));
    }
    let _ = std::fs::remove_file("ttwc-demo.key");
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
    // With port 0 the system chose one: the connector's URLs use the port it gave.
    let listen = listener
        .local_addr()
        .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
    let mut settings = Settings::defaults();
    settings.listen = listen;
    settings.public_url = url_of(listen)?;
    settings.database_url = format!("sqlite://{DEMO_DB}");
    settings.trackingtech_url = sandbox.base_url();
    // The demo's store is woo-sim on this machine: the one private network it may reach.
    settings.allowed_private_nets = egress::loopback();
    // Statuses move every 10 s in the demo's sandbox; look often enough to show each step.
    // Set in the settings, so what the pages say (reconcile "every minute") is what runs.
    settings.status_interval = Duration::from_secs(5);
    settings.reconcile_interval = Duration::from_secs(30);
    let app = App::open(settings, AppOptions::default())
        .await
        .context("cannot start the connector")?;
    let (stop_web, stopped) = tokio::sync::oneshot::channel::<()>();
    let web = tokio::spawn(connector::web::serve(app.clone(), listener, async {
        let _ = stopped.await;
    }));
    let engine_config = connector::engine::EngineConfig::from_settings(app.settings());
    let (stop_engine, engine_stopped) = tokio::sync::watch::channel(false);
    let engine = connector::engine::spawn(app.clone(), engine_config, engine_stopped);

    let public = app
        .settings()
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    println!("ttwc demo — everything runs on this machine\n");
    println!("  TrackingTech sandbox     {}", sandbox.base_url());
    println!(
        "  WooCommerce simulator    {}  (admin / admin1234)",
        woo.base_url()
    );
    println!("  ttwc                     {public}\n");
    let mut trickle = None;
    if args.auto {
        let id = auto_connect(&app, &woo)
            .await
            .context("the automatic connection failed")?;
        println!("Connected the simulated store automatically: connection {id}.");
        println!("A new paid order arrives in the store every 5 s; watch them reach TrackingTech:");
        println!(
            "  dashboard        {public}/  (sign in: DEMO, demo@trackingtech.test / demo1234)"
        );
        println!(
            "  orders           TTWC_DATABASE_URL=sqlite://{DEMO_DB} cargo run --release -- orders"
        );
        println!(
            "  in the store     {}/_sim/orders/<id> shows TrackingTech's notes and meta",
            woo.base_url()
        );
        trickle = Some(tokio::spawn(trickle_orders(woo.base_url())));
    } else {
        println!("Connect the simulated store in your browser:");
        println!("  1. open {public}/connect");
        println!("  2. store URL {}   courier code DEMO", woo.base_url());
        println!("  3. TrackingTech login demo@trackingtech.test / demo1234, pick a store");
        println!(
            "  4. Authorize in WooCommerce: log in as admin / admin1234 and approve (\"Acceder\", then \"Aprobar\")"
        );
    }
    println!(
        "\nSee the connections:  TTWC_DATABASE_URL=sqlite://{DEMO_DB} cargo run --release -- status"
    );
    println!("Press Ctrl-C to stop everything.");

    super::shutdown_signal().await;
    if let Some(t) = trickle {
        t.abort();
    }
    let _ = stop_web.send(());
    let _ = web.await;
    let _ = stop_engine.send(true);
    let _ = engine.await;
    woo.shutdown().await;
    sandbox.shutdown().await;
    Ok(())
}

/// Creates a paid order in the simulated store every few seconds.
async fn trickle_orders(woo_url: String) {
    let http = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let created = http
            .post(format!("{woo_url}/_sim/orders"))
            .json(&serde_json::json!({"count": 1, "status": "processing"}))
            .send()
            .await;
        if let Err(e) = created {
            tracing::warn!(error = %e, "the demo could not create an order in the simulator");
        }
    }
}

fn url_of(addr: SocketAddr) -> anyhow::Result<url::Url> {
    url::Url::parse(&format!("http://{addr}")).context("invalid --listen address")
}

/// The wizard's steps with the demo's credentials and the simulator's seeded REST key.
async fn auto_connect(app: &App, woo: &woo_sim::Handle) -> anyhow::Result<String> {
    let fail = |what: &'static str| move |e: connection::StepError| anyhow::anyhow!("{what}: {e}");
    let started = connection::start(app, &woo.base_url(), "DEMO")
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
    let store = stores.first().context("the demo account has no store")?;
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
    Ok(row.id)
}
