//! The database goes away and comes back: deliveries are refused with 503 rather than
//! acknowledged and dropped (WooCommerce never retries them), and reconcile sends those orders
//! once the database is back. PostgreSQL is cut by a TCP proxy inside the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use crate::helpers::*;
use crate::store::{PgSchema, postgres_url};

/// A TCP proxy to PostgreSQL that can cut every connection and refuse new ones, then resume.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let cut = Arc::new(AtomicBool::new(false));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (c, l) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: the database "is not there"
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                l.lock().await.push(link);
            }
        });
        Proxy { addr, cut, links }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn postgres_going_away_refuses_deliveries_and_reconcile_sends_them_after() {
    let Some(server) =
        postgres_url("postgres_going_away_refuses_deliveries_and_reconcile_sends_them_after")
    else {
        return;
    };
    let schema = PgSchema::create(&server).await;
    let parsed = url::Url::parse(&schema.url).expect("url");
    let host = parsed.host_str().unwrap_or("127.0.0.1");
    let upstream = tokio::net::lookup_host((host, parsed.port().unwrap_or(5432)))
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let proxy = Proxy::start(upstream).await;
    let mut through_proxy = parsed.clone();
    through_proxy.set_host(Some("127.0.0.1")).expect("host");
    through_proxy
        .set_port(Some(proxy.addr.port()))
        .expect("port");

    let mut t = spawn_with(Options {
        database_url: Some(through_proxy.to_string()),
        master_key: Some("ab".repeat(32)),
        reconcile_interval: Duration::from_millis(500),
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.sim_orders(3, "processing").await;
    t.settled(&conn, 3, Duration::from_secs(60)).await;

    proxy.cut().await;
    // Orders paid while the database is away: their deliveries are refused, not acknowledged.
    t.sim_orders(4, "processing").await;
    let refused = eventually(
        Duration::from_secs(60),
        "deliveries refused with 503",
        || async {
            let deliveries: serde_json::Value = reqwest::Client::new()
                .get(format!("{}/_sim/deliveries", t.woo.base_url()))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let n = deliveries
                .as_array()?
                .iter()
                .filter(|d| d["response_code"] == json!(503))
                .count();
            (n >= 4).then_some(n)
        },
    )
    .await;
    assert!(refused >= 4);
    let ready = t
        .http
        .get(format!("{}/readyz", t.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready without its database"
    );

    proxy.restore();
    let states = t.settled(&conn, 7, Duration::from_secs(90)).await;
    assert_eq!(states.values().sum::<usize>(), 7, "{states:?}");
    let received = t.received().await;
    let mut ids: Vec<u64> = received
        .iter()
        .filter_map(|o| o["order"]["order_id"].as_u64())
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no order twice");
    assert_eq!(total, states.get("sent").copied().unwrap_or(0));
    drop(schema);
}
