//! The database goes away and comes back: deliveries are refused with 503 rather than
//! acknowledged and dropped (WooCommerce never retries them), and reconcile sends those orders
//! once the database is back. PostgreSQL is cut by a TCP proxy inside the test.

use std::collections::BTreeMap;
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
    let Some((schema, proxy, mut t)) = through_a_proxy(
        "postgres_going_away_refuses_deliveries_and_reconcile_sends_them_after",
        Duration::from_millis(500),
    )
    .await
    else {
        return;
    };
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = t.sim_orders(3, "processing").await;
    t.settled(&conn, 3, Duration::from_secs(60)).await;

    proxy.cut().await;
    // Orders paid while the database is away: their deliveries are refused, not acknowledged.
    let during = t.sim_orders(4, "processing").await;
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
    t.settled(&conn, 7, Duration::from_secs(90)).await;
    // Every order ends as the store's data says it must: the ones refused while the database
    // was away included, each that ships sent exactly once, each virtual-only one skipped.
    let ids: Vec<u64> = before.iter().chain(&during).copied().collect();
    let catalogue = Catalogue::builtin();
    let fates: BTreeMap<u64, Fate> = t
        .sim_orders_by_id(&ids)
        .await
        .iter()
        .map(|(id, o)| (*id, expected_fate(o, &catalogue)))
        .collect();
    t.assert_final_states(&conn, &fates, "PostgreSQL away and back")
        .await;
    drop(schema);
}

/// Connects ttwc to a fresh PostgreSQL schema through a proxy that can cut it.
async fn through_a_proxy(
    test: &str,
    reconcile_interval: Duration,
) -> Option<(PgSchema, Proxy, TestApp)> {
    let server = postgres_url(test)?;
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
    let t = spawn_with(Options {
        database_url: Some(through_proxy.to_string()),
        master_key: Some("ab".repeat(32)),
        reconcile_interval,
        ..Options::default()
    })
    .await;
    Some((schema, proxy, t))
}

#[tokio::test]
async fn an_outcome_known_while_the_database_is_away_is_recorded_once_it_is_back() {
    let Some((schema, proxy, mut t)) = through_a_proxy(
        "an_outcome_known_while_the_database_is_away_is_recorded_once_it_is_back",
        Duration::from_secs(3600),
    )
    .await
    else {
        return;
    };
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // TrackingTech answers slowly, so the database can go away while the send is in flight.
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::PUT,
            "/_sandbox/faults",
            json!({"latency_ms": 1500})
        )
        .await,
        StatusCode::OK
    );
    let order = made_up_order(93_001, vec![line("Polera", 1)], "Irarrázaval 123");
    assert_eq!(
        deliver(&t, &conn, &order, "order.updated").await,
        StatusCode::OK
    );
    // In flight: claimed, and its payload stored (that write comes before the send).
    eventually(Duration::from_secs(20), "the order in flight", || async {
        let o = t.app.store().order(&conn, 93_001).await.ok()??;
        (o.state == connector::store::OrderState::Sending && o.payload.is_some()).then_some(())
    })
    .await;
    proxy.cut().await;
    // TrackingTech accepts it while ttwc cannot write that down.
    eventually(
        Duration::from_secs(20),
        "TrackingTech to accept",
        || async { (!t.received().await.is_empty()).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await; // the database stays away a while
    proxy.restore();
    // Recorded as soon as the database is back — well before the 60 s job lease would let
    // the order be claimed and sent again.
    eventually(Duration::from_secs(20), "the outcome recorded", || async {
        let o = t.app.store().order(&conn, 93_001).await.ok()??;
        (o.state == connector::store::OrderState::Sent).then_some(())
    })
    .await;
    let received = t.received().await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["requests"], json!(1), "sent once: {received:?}");
    drop(schema);
}
