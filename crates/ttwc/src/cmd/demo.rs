//! `ttwc demo`: the TrackingTech sandbox and the WooCommerce simulator on loopback, and a short
//! tour of the TrackingTech side of a connection through ttwc's own client.
//!
//! The connector itself (wizard, sync engine) joins the demo as it lands; until then the tour
//! shows the calls the wizard and the sync engine will make.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use trackingtech::{
    Client, ClientOptions, LinkRequest, LoginRequest, OrderBody, OrderPayload, Product,
    ResolveRequest, Shipping,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the TrackingTech sandbox listens.
    #[arg(long, default_value = "127.0.0.1:8790")]
    sandbox_listen: SocketAddr,
    /// Where the WooCommerce simulator listens.
    #[arg(long, default_value = "127.0.0.1:8791")]
    woo_listen: SocketAddr,
    /// Start the servers without running the tour.
    #[arg(long)]
    no_tour: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut sandbox_config = sandbox::Config::new(sandbox::Fixtures::builtin());
    sandbox_config.advance_every = Some(Duration::from_secs(10));
    let sandbox = sandbox::bind(sandbox_config, args.sandbox_listen)
        .await
        .with_context(|| {
            format!(
                "cannot start the TrackingTech sandbox on {}",
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
                "cannot start the WooCommerce simulator on {}",
                args.woo_listen
            )
        })?;

    println!("== TrackingTech sandbox ==\n{}\n", sandbox.banner());
    println!("== WooCommerce simulator ==\n{}\n", woo.banner());
    if !args.no_tour {
        tour(&sandbox.base_url(), &woo.base_url())
            .await
            .context("the demo tour failed")?;
    }
    println!("\nBoth servers keep running; press Ctrl-C to stop.");
    super::shutdown_signal().await;
    woo.shutdown().await;
    sandbox.shutdown().await;
    Ok(())
}

/// The TrackingTech calls of a connection and of one order, with what each answered.
async fn tour(sandbox_url: &str, store_url: &str) -> anyhow::Result<()> {
    println!("== Tour: a store connects and sends an order (TrackingTech side) ==");
    let client = Client::new(ClientOptions {
        base_url: sandbox_url.to_owned(),
        ..ClientOptions::default()
    })?;
    let salt = "demo-installation-salt";
    let device = trackingtech::device_id(store_url, salt)?;

    let resolved = client
        .resolve(&ResolveRequest::new("DEMO", &device))
        .await?;
    println!(
        "1. resolve DEMO          → {} (active: {})",
        resolved.tenant.name, resolved.tenant.active
    );
    let client = client.for_tenant(&resolved)?;
    match client.resolve(&ResolveRequest::new("OLD", &device)).await {
        Err(e) => println!("   resolve OLD           → refused: {e}"),
        Ok(_) => anyhow::bail!("the inactive tenant OLD was accepted"),
    }

    let login = client
        .login(&LoginRequest {
            email: "demo@trackingtech.test",
            password: "demo1234",
            code: Some("DEMO"),
        })
        .await?;
    println!(
        "2. login                 → {} (token valid {} s)",
        login.user.name,
        login.expires_in.unwrap_or(0)
    );

    let stores = client.stores(&login.token).await?;
    for store in &stores {
        println!(
            "3. store                 → #{} {} ({})",
            store.id, store.name, store.address
        );
    }
    let store = stores.first().context("the demo account has no store")?;

    let linked = client
        .link(
            &login.token,
            &LinkRequest::new(&store.id, store_url, &device),
        )
        .await?;
    println!("4. link {store_url} → customer {}", linked.customer_id);

    let order = sample_order(&linked.customer_id, store_url);
    let key = format!("{device}:{}", order.order_id);
    let payload = OrderPayload::new(&order);
    let sent = client
        .send_order(&linked.integration_token, &key, &payload)
        .await?;
    println!(
        "5. send order #{}       → tracking {} ({})",
        order.order_id, sent.tracking_id, sent.status_name
    );
    let again = client
        .send_order(&linked.integration_token, &key, &payload)
        .await?;
    println!(
        "   send it again         → same tracking {} (replayed: {})",
        again.tracking_id, again.replayed
    );

    let statuses = client
        .order_status(&linked.integration_token, &[order.order_id])
        .await?;
    for s in statuses {
        println!(
            "6. status of #{}        → {} / {} (advances every 10 s)",
            s.order_id, s.status, s.status_name
        );
    }
    println!(
        "\nSee what the sandbox received: GET {sandbox_url}/_sandbox/orders with the admin token above."
    );
    Ok(())
}

fn sample_order(customer_id: &str, store_url: &str) -> OrderBody {
    OrderBody {
        order_id: 1001,
        customer_id: customer_id.to_owned(),
        store_url: store_url.to_owned(),
        products: vec![Product {
            name: "Polera algodón orgánico".into(),
            sku: "POL-ORG-M".into(),
            quantity: 2,
            price: "12990".into(),
            weight: Some("0.3".into()),
            weight_unit: Some("kg".into()),
        }],
        shipping: Shipping {
            first_name: "Josefa".into(),
            last_name: "Muñoz".into(),
            company: String::new(),
            address_1: "Av. Providencia 1234".into(),
            address_2: "Depto 56".into(),
            city: "Providencia".into(),
            state: "CL-RM".into(),
            postcode: "7500000".into(),
            country: "CL".into(),
            email: "josefa@example.cl".into(),
            phone: "+56912345678".into(),
        },
    }
}
