//! A full disk loses no order: while SQLite cannot grow, deliveries are refused with 503 rather
//! than acknowledged and dropped (WooCommerce never retries them); once space is freed, without
//! a restart, deliveries are taken again and reconcile finds the refused orders, each sent
//! exactly once. The SQLite twin of `outage.rs`: the URL option `max_page_count` stands in for
//! the disk, and a side connection (which has no cap) fills it with a table of blobs and later
//! frees the space by dropping that table.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use connector::{App, AppOptions, Settings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::helpers::*;

/// The database's cap, in pages: far above what the schema, one connection and a few orders use,
/// so nothing fills up until the side connection does.
const CAP: i64 = 2_000;

/// Orders paid while the disk is full. Fewer than the 7 consecutive failed deliveries after which
/// WooCommerce disables a webhook.
const REFUSALS_WANTED: usize = 3;

/// A connection to the app's database file that the cap does not apply to (`max_page_count` is
/// per connection): it is what "fills the disk" and later "frees space".
async fn side_connection(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("side connection")
}

async fn pragma(side: &SqlitePool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(side)
        .await
        .expect("pragma")
}

/// Grows the database with blobs until it has `CAP` pages and none free: any write of the app
/// that needs a new page then fails with SQLITE_FULL.
async fn fill(side: &SqlitePool) {
    sqlx::query("CREATE TABLE filler (b BLOB NOT NULL)")
        .execute(side)
        .await
        .expect("filler table");
    let page_size = pragma(side, "PRAGMA page_size").await;
    for _ in 0..10_000 {
        let pages = pragma(side, "PRAGMA page_count").await;
        let free = pragma(side, "PRAGMA freelist_count").await;
        if pages >= CAP && free == 0 {
            return;
        }
        // A blob of n·(page size − 8) bytes fills about n overflow pages; up to 256 at a time.
        let room = (CAP - pages + free).clamp(1, 256);
        sqlx::query("INSERT INTO filler (b) VALUES (zeroblob(?))")
            .bind(room * (page_size - 8))
            .execute(side)
            .await
            .expect("filler row");
    }
    panic!("the database never reached {CAP} pages");
}

async fn deliveries(t: &TestApp) -> Vec<Value> {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/_sim/deliveries", t.woo.base_url()))
        .send()
        .await
        .expect("sim deliveries")
        .json()
        .await
        .expect("JSON");
    v.as_array().cloned().expect("a list of deliveries")
}

fn refused_ids(deliveries: &[Value]) -> BTreeSet<u64> {
    deliveries
        .iter()
        .filter(|d| d["response_code"] == json!(503))
        .filter_map(|d| d["order_id"].as_u64())
        .collect()
}

async fn outbox(t: &TestApp, conn: &str) -> BTreeMap<u64, String> {
    let filter = connector::store::OrderFilter {
        connection_id: Some(conn.to_owned()),
        ..Default::default()
    };
    t.app
        .store()
        .orders(&filter)
        .await
        .expect("orders")
        .into_iter()
        .map(|o| {
            let id = u64::try_from(o.order_id).expect("order ids are positive");
            (id, o.state.as_str().to_owned())
        })
        .collect()
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// A value for an order's meta big enough that the order's delivery needs several new pages
/// (it is stored sealed in the outbox), whatever room the tables' pages have left; far below
/// the receiver's 64 KiB body limit.
fn big_note() -> String {
    "Envolver para regalo. ".repeat(900)
}

#[tokio::test]
async fn a_full_disk_refuses_deliveries_and_reconcile_sends_them_once_space_is_freed() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("ttwc.db");
    let mut t = spawn_with(Options {
        database_url: Some(format!("sqlite://{}?max_page_count={CAP}", path.display())),
        reconcile_interval: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut created: BTreeSet<u64> = t.sim_orders(3, "processing").await.into_iter().collect();
    t.settled(&conn, 3, Duration::from_secs(30)).await;

    // Orders about to be paid, each with a big note in its meta, and each shipping something
    // (virtual-only orders are skipped, and these must reach TrackingTech in the end).
    let woo = t
        .app
        .woo_client(
            &t.woo.base_url(),
            woocommerce::Credentials::new(t.woo.consumer_key(), t.woo.consumer_secret())
                .expect("credentials"),
        )
        .expect("client");
    let mut big = BTreeSet::new();
    for _ in 0..30 {
        if big.len() == REFUSALS_WANTED + 1 {
            break;
        }
        // Left pending (never paid) unless it ships.
        let id = t.sim_orders(1, "pending").await[0];
        if t.sim_order(id).await["shipping_lines"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
        {
            woo.update_order_meta(id, &[("gift_message", big_note())])
                .await
                .expect("meta saved");
            big.insert(id);
            created.insert(id);
        }
    }
    assert_eq!(big.len(), REFUSALS_WANTED + 1, "orders that ship: {big:?}");
    // One is paid once space is back.
    let paid_after = big.pop_last().expect("an order");

    let side = side_connection(&path).await;
    assert!(
        pragma(&side, "PRAGMA page_count").await < CAP / 2,
        "the cap leaves room for the test's orders"
    );
    fill(&side).await;
    // The store's REST API fails meanwhile (every call answers 500), so reconcile cannot list
    // orders: while the disk is full nothing is queued and no send is in flight. (A send that
    // TrackingTech accepts while the disk is full cannot be recorded; its order then waits out
    // the whole job lease, 60 s by default, before it is tried again.)
    t.sim_faults(json!({"rest_error_rate": 1.0})).await;

    // The big orders are paid: each delivery must be refused, and nothing stored for it.
    for &id in &big {
        t.sim_set_status(id, "processing").await;
        eventually(
            Duration::from_secs(20),
            "the paid order's delivery refused, or the order queued",
            || async {
                let refused = refused_ids(&deliveries(&t).await).contains(&id);
                let queued = t
                    .app
                    .store()
                    .order(&conn, i64::try_from(id).expect("id"))
                    .await
                    .expect("reads work on a full disk")
                    .is_some();
                (refused || queued).then_some(())
            },
        )
        .await;
    }
    let refused: BTreeSet<u64> = refused_ids(&deliveries(&t).await)
        .intersection(&big)
        .copied()
        .collect();
    assert_eq!(refused, big, "every delivery needing space was refused");
    for &id in &refused {
        let row = t
            .app
            .store()
            .order(&conn, i64::try_from(id).expect("id"))
            .await
            .expect("order");
        assert!(row.is_none(), "order {id} was refused yet stored: {row:?}");
    }

    // The refusals were the receiver's storage errors, counted as such (both are read again
    // until they agree: the counter moves before WooCommerce logs the answer).
    eventually(
        Duration::from_secs(10),
        "ttwc_deliveries_refused_total{reason=\"storage\"} equal to the 503s WooCommerce logged",
        || async {
            let logged = deliveries(&t)
                .await
                .iter()
                .filter(|d| d["response_code"] == json!(503))
                .count();
            let text = t
                .http
                .get(format!("{}/metrics", t.base))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let counted = metric(&text, "ttwc_deliveries_refused_total{reason=\"storage\"}");
            (counted == Some(logged as f64)).then_some(())
        },
    )
    .await;

    // The operator sees why: not ready, saying the database is full.
    let ready = t
        .http
        .get(format!("{}/readyz", t.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let why = ready.text().await.expect("readyz body");
    assert!(why.contains("full"), "{why}");

    // Space comes back (the freed pages go to SQLite's freelist and the app's writes use them,
    // no restart), and so does the store's API.
    sqlx::query("DROP TABLE filler")
        .execute(&side)
        .await
        .expect("drop the filler");
    assert!(pragma(&side, "PRAGMA freelist_count").await > CAP / 2);
    // Ready again as soon as there is room, before any delivery comes.
    let ready = t
        .http
        .get(format!("{}/readyz", t.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    // A delivery needing as much room is taken again at once: with the store's API still down
    // only the delivery can have queued this order.
    t.sim_set_status(paid_after, "processing").await;
    let queued = eventually(
        Duration::from_secs(20),
        "the order paid after space came back queued, or refused",
        || async {
            let refused = refused_ids(&deliveries(&t).await).contains(&paid_after);
            let queued = t
                .app
                .store()
                .order(&conn, i64::try_from(paid_after).expect("id"))
                .await
                .expect("order")
                .is_some();
            (refused || queued).then_some(queued)
        },
    )
    .await;
    assert!(
        queued && !refused_ids(&deliveries(&t).await).contains(&paid_after),
        "order {paid_after}, paid once space was back, was refused"
    );
    t.sim_faults(json!({})).await;

    let states = t
        .settled(&conn, created.len(), Duration::from_secs(30))
        .await;
    let outbox = outbox(&t, &conn).await;
    assert_eq!(
        outbox.keys().copied().collect::<BTreeSet<_>>(),
        created,
        "every order made is in the outbox, and none other: {states:?}"
    );
    for id in refused.iter().chain([&paid_after]) {
        assert_eq!(
            outbox[id], "sent",
            "order {id}, paid while the disk was full or just after: {outbox:?}"
        );
    }
    let received = t.received().await;
    let mut ids: Vec<u64> = received
        .iter()
        .filter_map(|o| o["order"]["order_id"].as_u64())
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no order twice: {received:?}");
    let sent: BTreeSet<u64> = outbox
        .iter()
        .filter(|(_, state)| state.as_str() == "sent")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(
        ids.into_iter().collect::<BTreeSet<_>>(),
        sent,
        "TrackingTech holds exactly the orders the outbox says were sent"
    );
}

fn settings(database_url: String) -> Settings {
    let mut s = Settings::defaults();
    s.database_url = database_url;
    s
}

#[tokio::test]
async fn a_bad_sqlite_option_refuses_to_start_and_names_the_value() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("ttwc.db");
    for (query, named) in [
        ("synchronous=off", "synchronous=\"off\""),
        ("max_page_count=lots", "max_page_count=\"lots\""),
        ("max_page_count=0", "max_page_count=\"0\""),
    ] {
        let url = format!("sqlite://{}?{query}", path.display());
        let err = App::open(settings(url), AppOptions::default())
            .await
            .err()
            .unwrap_or_else(|| panic!("?{query} must not start"));
        assert!(err.to_string().contains(named), "?{query}: {err}");
        assert!(!path.exists(), "?{query}: no database was created");
    }
    // Good options start, and the file then exists.
    let url = format!(
        "sqlite://{}?synchronous=normal&max_page_count={CAP}",
        path.display()
    );
    App::open(settings(url), AppOptions::default())
        .await
        .expect("good options start");
    assert!(path.exists());
}

#[tokio::test]
async fn a_cap_the_schema_does_not_fit_in_refuses_to_start_saying_so() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!(
        "sqlite://{}?max_page_count=3",
        dir.path().join("ttwc.db").display()
    );
    let err = App::open(settings(url), AppOptions::default())
        .await
        .err()
        .expect("three pages hold no schema");
    assert!(
        err.to_string().contains("database or disk is full"),
        "{err}"
    );
}
