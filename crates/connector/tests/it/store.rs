//! The storage conformance suite: the same stories on every backend.
//!
//! Each story takes a database URL and runs twice: on SQLite always, and on PostgreSQL when
//! `TTWC_TEST_POSTGRES_URL` names a server (scripts/test.sh sets it when one answers; without it
//! the PostgreSQL variants are recorded as skipped, or fail under `TTWC_REQUIRE_POSTGRES=1`).
//! Every PostgreSQL test gets a fresh, empty schema of its own. PostgreSQL alone also shows that replicas sharing one database never claim a job twice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use connector::store::{
    self, ConnectionRow, ConnectionState, Installation, NewOrder, OrderFilter, OrderRow,
    OrderState, SendOutcome, SessionRow, Store,
};
use connector::text::{Code, Lang, Text};
use sqlx::Connection;
use time::Duration;

// Shared with outage.rs and startup.rs, which reach them through this module.
pub(crate) use testkit::postgres::{PgSchema, postgres_url};

/// Runs each story on SQLite (`<story>::sqlite`) and on PostgreSQL (`<story>::postgres`).
macro_rules! on_every_backend {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("t.db").display());
                super::$story(&url).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(server) = super::postgres_url(concat!("store::", stringify!($story), "::postgres")) else {
                    return;
                };
                let schema = super::PgSchema::create(&server).await;
                super::$story(&schema.url).await;
            }
        }
    )*};
}

on_every_backend!(
    basics,
    survives_a_reopen,
    outbox,
    writebacks_leases_and_cursors,
    order_lists,
    batched_finishes_and_released_retries,
    mixed_batches_record_only_what_is_still_leased,
    an_outage_worth_of_retries_is_released_whole,
    deliveries_at_once_queue_each_order_once,
    orders_due_together_are_claimed_across_connections,
    times_within_one_second,
    the_webhook_status_seen_last_is_kept,
    orders_left_out_and_the_highest_id_at_connect,
    the_store_zone_and_language,
    an_older_status_never_replaces_a_newer_one,
    odd_text_from_a_store_never_fails_a_delivery,
    background_changes_never_undo_a_disconnect,
);

/// The schedules' changes to a connection (a lost login, a webhook made again) touch only their
/// own columns, and never a connection a person disconnected meanwhile.
async fn background_changes_never_undo_a_disconnect(url: &str) {
    let s = store::open(url).await.expect("opens");
    connections(s.as_ref(), &["a", "b"]).await;
    let mut b = conn(s.as_ref(), "con_b").await;
    b.trigger_status = "on-hold".to_owned();
    s.update_connection(&b).await.expect("a setting saved");

    assert!(
        s.mark_needs_relogin("con_b", &t("login lost"))
            .await
            .expect("mark")
    );
    let b = conn(s.as_ref(), "con_b").await;
    assert_eq!(b.state, ConnectionState::NeedsRelogin);
    assert_eq!(b.trigger_status, "on-hold", "the setting stays");
    assert_eq!(
        b.last_error.as_ref().map(words).as_deref(),
        Some("login lost")
    );
    assert!(
        !s.mark_needs_relogin("con_b", &t("again"))
            .await
            .expect("mark")
    );

    assert!(
        s.set_webhook("con_b", 77, b"sealed")
            .await
            .expect("webhook")
    );
    let b = conn(s.as_ref(), "con_b").await;
    assert_eq!(
        (b.webhook_id, b.webhook_secret.as_deref()),
        (Some(77), Some(&b"sealed"[..]))
    );
    assert_eq!(b.state, ConnectionState::NeedsRelogin);

    let mut a = conn(s.as_ref(), "con_a").await;
    a.state = ConnectionState::Disconnected;
    a.webhook_id = None;
    a.webhook_secret = None;
    s.update_connection(&a).await.expect("disconnected");
    assert!(
        !s.mark_needs_relogin("con_a", &t("late"))
            .await
            .expect("mark")
    );
    assert!(!s.set_webhook("con_a", 78, b"late").await.expect("webhook"));
    let a = conn(s.as_ref(), "con_a").await;
    assert_eq!(a.state, ConnectionState::Disconnected);
    assert_eq!((a.webhook_id, a.webhook_secret), (None, None));
}

fn connection(id: &str, owner: &str, store_url: &str) -> ConnectionRow {
    let now = store::now();
    ConnectionRow {
        id: id.into(),
        owner: owner.into(),
        owner_email: "demo@trackingtech.test".into(),
        tenant_code: "DEMO".into(),
        tenant_name: "Courier Demo".into(),
        api_base_url: "http://127.0.0.1:1".into(),
        store_url: store_url.into(),
        device_id: "d".repeat(64),
        tt_store_id: "101".into(),
        tt_store_name: "Bodega".into(),
        customer_id: Some("cus_1".into()),
        integration_token: Some(vec![1, 2, 3]),
        woo_consumer_key: Some(vec![4]),
        woo_consumer_secret: Some(vec![5]),
        woo_permissions: "read_write".into(),
        webhook_id: Some(7),
        webhook_secret: Some(vec![6]),
        state: ConnectionState::Connected,
        trigger_status: "processing".into(),
        mark_completed: false,
        notify_customer: false,
        created_at: now,
        connected_at: Some(now),
        disconnected_at: None,
        updated_at: now,
        last_sent_at: None,
        last_error: None,
        last_error_at: None,
        order_id_at_connect: None,
        store_timezone: None,
        store_utc_offset: None,
        store_language: None,
    }
}

/// Adds connected connections `con_<name>` for `https://<name>.example`.
async fn connections(store: &dyn Store, names: &[&str]) {
    for name in names {
        let row = connection(
            &format!("con_{name}"),
            "DEMO:1",
            &format!("https://{name}.example"),
        );
        store.upsert_connection(&row).await.expect("connection");
    }
}

async fn enqueue(store: &dyn Store, connection_id: &str, order_id: i64) -> bool {
    store
        .enqueue_order(NewOrder {
            connection_id: connection_id.to_owned(),
            order_id,
            order_number: order_id.to_string(),
            woo_status: "processing".to_owned(),
            woo_modified_at: None,
            source: Some(vec![0xAA]),
        })
        .await
        .expect("enqueue")
}

async fn order(store: &dyn Store, connection_id: &str, order_id: i64) -> OrderRow {
    store
        .order(connection_id, order_id)
        .await
        .expect("read order")
        .expect("order exists")
}

async fn conn(store: &dyn Store, id: &str) -> ConnectionRow {
    store
        .connection(id)
        .await
        .expect("read connection")
        .expect("connection exists")
}

/// (connection, order) of claimed rows, sorted.
fn keys(rows: &[OrderRow]) -> Vec<(String, i64)> {
    let mut keys: Vec<_> = rows
        .iter()
        .map(|o| (o.connection_id.clone(), o.order_id))
        .collect();
    keys.sort();
    keys
}

fn key(connection_id: &str, order_id: i64) -> (String, i64) {
    (connection_id.to_owned(), order_id)
}

fn sent(writeback: &str) -> SendOutcome {
    SendOutcome::Sent {
        tt_id: "tt_1".into(),
        tracking_id: "TRK1".into(),
        status: "created".into(),
        status_name: "Creado".into(),
        writeback: writeback.into(),
    }
}

/// A transient failure: try again in an hour.
fn retry_in_an_hour() -> SendOutcome {
    SendOutcome::Retry {
        run_at: store::now() + Duration::hours(1),
        error: t("503"),
        hold_connection_until: None,
    }
}

/// Ends every claimed attempt with a retry an hour away (TrackingTech answered 503), and checks
/// each end was recorded.
async fn retry_all_in_an_hour(s: &dyn Store, owner: &str, claimed: &[OrderRow]) {
    let retry = retry_in_an_hour();
    let outcomes: Vec<_> = claimed
        .iter()
        .map(|o| finished(&o.connection_id, o.order_id, &retry, None))
        .collect();
    let recorded = s.finish_sends(owner, &outcomes).await.expect("retries");
    assert!(recorded.iter().all(|r| *r), "every retry recorded");
}

/// One attempt's end, for `finish_sends`, its activity entry a text of the given words.
fn finished<'a>(
    connection_id: &'a str,
    order_id: i64,
    outcome: &'a SendOutcome,
    activity: Option<(&'a str, &'a str)>,
) -> store::Finished<'a> {
    store::Finished {
        connection_id,
        order_id,
        outcome,
        // Leaked: a handful of small texts per test process, to keep the stories' tables short.
        activity: activity.map(|(kind, words)| (kind, &*Box::leak(Box::new(t(words))))),
    }
}

/// A text as the engine stores it: the stories store and read texts, they do not word them.
fn t(words: &str) -> Text {
    Text::legacy(words)
}

/// The words of a text the stories stored with [`t`].
fn words(text: &Text) -> String {
    text.render(Lang::Es)
}

fn filter(connection_id: Option<&str>, state: Option<OrderState>) -> OrderFilter {
    OrderFilter {
        connection_id: connection_id.map(str::to_owned),
        state,
        limit: 0,
        offset: 0,
    }
}

const MINUTE: Duration = Duration::minutes(1);

/// Installation, sessions, connections (reconnect in place), activity, readiness.
/// Reconcile records the status it saw ttwc's webhook in, and learns the one it saw before.
async fn the_webhook_status_seen_last_is_kept(url: &str) {
    let s = store::open(url).await.expect("opens");
    s.upsert_connection(&connection("con_a", "DEMO:1", "https://a.example"))
        .await
        .expect("connection");
    assert_eq!(s.webhook_status("con_a").await.expect("read"), None);
    assert_eq!(
        s.set_webhook_status("con_a", "active").await.expect("set"),
        None
    );
    assert_eq!(
        s.set_webhook_status("con_a", "paused").await.expect("set"),
        Some("active".to_owned())
    );
    assert_eq!(
        s.webhook_status("con_a").await.expect("read").as_deref(),
        Some("paused")
    );
    assert_eq!(
        s.set_webhook_status("con_nope", "paused")
            .await
            .expect("set"),
        None
    );
    assert_eq!(s.webhook_status("con_nope").await.expect("read"), None);
}

async fn basics(url: &str) {
    let store = store::open(url).await.expect("opens");

    // The installation is created once; a second candidate does not replace it.
    assert!(!store.has_installation().await.expect("query"));
    let first = Installation {
        salt: "s1".into(),
        key_id: "k1".into(),
        created_at: store::now(),
    };
    let second = Installation {
        salt: "s2".into(),
        key_id: "k2".into(),
        created_at: store::now(),
    };
    assert_eq!(store.installation(&first).await.expect("insert"), first);
    assert_eq!(store.installation(&second).await.expect("read"), first);
    assert!(store.has_installation().await.expect("query"));

    // Sessions: insert, read, update, purge by idleness, delete.
    let now = store::now();
    let mut session = SessionRow {
        id_hash: "h1".into(),
        csrf_token: "c1".into(),
        created_at: now,
        last_seen_at: now,
        owner: None,
        user_json: None,
        tt_token: None,
        wizard: None,
    };
    store
        .insert_session(&session)
        .await
        .expect("insert session");
    assert_eq!(
        store.session("h1").await.expect("read"),
        Some(session.clone())
    );
    session.owner = Some("DEMO:1".into());
    session.user_json = Some(r#"{"name":"Demo"}"#.into());
    session.tt_token = Some(vec![9, 9]);
    session.wizard = Some(vec![8]);
    session.csrf_token = "c2".into();
    session.last_seen_at = now + Duration::seconds(1);
    store.update_session(&session).await.expect("update");
    assert_eq!(
        store.session("h1").await.expect("read"),
        Some(session.clone())
    );
    let mut old = session.clone();
    old.id_hash = "h-old".into();
    old.last_seen_at = now - Duration::hours(3);
    store.insert_session(&old).await.expect("insert old");
    assert_eq!(
        store
            .purge_sessions(now - Duration::hours(2))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(store.session("h-old").await.expect("read"), None);
    // A new id: the old row is gone the moment the new one exists.
    let mut renamed = session.clone();
    renamed.id_hash = "h2".into();
    renamed.csrf_token = "c3".into();
    store
        .replace_session("h1", &renamed)
        .await
        .expect("replace");
    assert_eq!(store.session("h1").await.expect("read"), None);
    assert_eq!(store.session("h2").await.expect("read"), Some(renamed));
    store.delete_session("h2").await.expect("delete");
    assert_eq!(store.session("h2").await.expect("read"), None);

    // Connections: insert, read back equal, owner filter.
    let a = connection("con_a", "DEMO:1", "https://a.example");
    let mut b = connection("con_b", "DEMO:2", "https://b.example");
    b.created_at = a.created_at + Duration::seconds(1);
    b.customer_id = None;
    b.webhook_id = None;
    b.webhook_secret = None;
    b.mark_completed = true;
    b.notify_customer = true;
    assert_eq!(store.upsert_connection(&a).await.expect("insert a"), a);
    assert_eq!(store.upsert_connection(&b).await.expect("insert b"), b);
    assert_eq!(
        store.connection("con_a").await.expect("read"),
        Some(a.clone())
    );
    assert_eq!(
        store
            .connection_by_store_url("https://b.example")
            .await
            .expect("read"),
        Some(b.clone())
    );
    assert_eq!(store.connection("nope").await.expect("read"), None);
    // A batch's connections in one read: each found once, whole; the unknown left out.
    let mut batch = store
        .connections_by_id(&["con_b", "nope", "con_a"])
        .await
        .expect("read batch");
    batch.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(batch, [a.clone(), b.clone()]);
    assert_eq!(store.connections_by_id(&[]).await.expect("read none"), []);
    let many: Vec<String> = (0..300).map(|i| format!("con_missing_{i}")).collect();
    let mut many: Vec<&str> = many.iter().map(String::as_str).collect();
    many.push("con_a");
    assert_eq!(
        store.connections_by_id(&many).await.expect("read many"),
        std::slice::from_ref(&a),
        "more ids than one statement takes"
    );
    let mine = store.connections(Some("DEMO:1")).await.expect("list");
    assert_eq!(
        mine.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["con_a"]
    );
    let all = store.connections(None).await.expect("list");
    assert_eq!(
        all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["con_b", "con_a"],
        "newest first"
    );

    // Every field of update_connection round-trips.
    let mut changed = b.clone();
    changed.state = ConnectionState::NeedsRelogin;
    changed.trigger_status = "completed".into();
    changed.last_error = Some(t("401"));
    changed.last_error_at = Some(store::now());
    changed.last_sent_at = Some(store::now());
    changed.webhook_id = Some(99);
    changed.updated_at = store::now();
    store.update_connection(&changed).await.expect("update b");
    assert_eq!(conn(&*store, "con_b").await, changed);

    // Reconnecting a store replaces it in place: same id and creation time, new credentials.
    // A coded text with a nested one comes back as it was stored.
    let rejected = Text::new(Code::OrderRejected)
        .with("number", "1001")
        .with("reason", Text::new(Code::NoCity).with("number", "1001"));
    store
        .add_activity("con_a", "rejected", &rejected)
        .await
        .expect("activity");
    let mut disconnected = a.clone();
    disconnected.state = ConnectionState::Disconnected;
    disconnected.disconnected_at = Some(store::now());
    disconnected.integration_token = None;
    disconnected.last_error = Some(t("gone"));
    store
        .update_connection(&disconnected)
        .await
        .expect("update");
    let mut again = connection("con_new", "DEMO:3", "https://a.example");
    again.integration_token = Some(vec![42]);
    again.created_at = store::now() + Duration::seconds(5);
    let stored = store.upsert_connection(&again).await.expect("reconnect");
    assert_eq!(stored.id, "con_a");
    assert_eq!(stored.created_at, a.created_at);
    assert_eq!(stored.owner, "DEMO:3");
    assert_eq!(stored.state, ConnectionState::Connected);
    assert_eq!(stored.integration_token, Some(vec![42]));
    assert_eq!(stored.disconnected_at, None);
    assert_eq!(stored.last_error, None);
    assert_eq!(store.connection("con_new").await.expect("read"), None);
    let history = store.activity("con_a", 10).await.expect("activity");
    assert_eq!(history.len(), 1, "history survives the reconnect");
    assert_eq!(history[0].message, rejected);

    // Activity is newest first and limited.
    store
        .add_activity("con_a", "sent", &t("Pedido #1002 enviado"))
        .await
        .expect("activity");
    store
        .add_activity("con_a", "sent", &t("Pedido #1003 enviado"))
        .await
        .expect("activity");
    let recent = store.activity("con_a", 2).await.expect("activity");
    assert_eq!(
        recent.iter().map(|r| words(&r.message)).collect::<Vec<_>>(),
        ["Pedido #1003 enviado", "Pedido #1002 enviado"]
    );
    assert!(recent[0].id > recent[1].id);
    assert_eq!(recent[0].connection_id, "con_a");
    assert_eq!(recent[0].kind, "sent");

    // Granted keys: delivered once, taken once, and only while fresh.
    assert!(store.put_granted_keys("g1", &[1]).await.expect("put"));
    assert!(
        !store.put_granted_keys("g1", &[2]).await.expect("again"),
        "a second delivery for the grant is refused"
    );
    assert_eq!(
        store
            .take_granted_keys("g1", store::now() - MINUTE)
            .await
            .expect("take"),
        Some(vec![1]),
        "the first delivery's keys, unchanged"
    );
    assert_eq!(
        store
            .take_granted_keys("g1", store::now() - MINUTE)
            .await
            .expect("take again"),
        None
    );
    assert!(
        !store.put_granted_keys("g1", &[3]).await.expect("after"),
        "a taken grant cannot deliver keys again"
    );
    assert!(store.put_granted_keys("g2", &[3]).await.expect("put"));
    assert_eq!(
        store
            .take_granted_keys("g2", store::now() + MINUTE)
            .await
            .expect("stale"),
        None
    );
    assert_eq!(
        store
            .take_granted_keys("g2", store::now() - MINUTE)
            .await
            .expect("stale keys are emptied too"),
        None
    );
    // Purged by age, taken or not.
    assert!(store.put_granted_keys("g3", &[4]).await.expect("put"));
    assert_eq!(
        store
            .purge_granted_keys(store::now() - MINUTE)
            .await
            .expect("purge none"),
        0
    );
    assert_eq!(
        store
            .purge_granted_keys(store::now() + MINUTE)
            .await
            .expect("purge all"),
        3
    );
    assert_eq!(
        store
            .take_granted_keys("g3", store::now() - MINUTE)
            .await
            .expect("purged"),
        None
    );

    store.ready().await.expect("ready");
}

/// Data and migrations survive closing and opening the database again.
async fn survives_a_reopen(url: &str) {
    let a = connection("con_a", "DEMO:1", "https://a.example");
    {
        let store = store::open(url).await.expect("opens");
        store.upsert_connection(&a).await.expect("insert");
        assert!(enqueue(&*store, "con_a", 1).await);
    }
    let store = store::open(url)
        .await
        .expect("reopens; migrations are idempotent");
    assert_eq!(store.connection("con_a").await.expect("read"), Some(a));
    assert_eq!(store.queue_depth("con_a").await.expect("depth"), 1);
    store.ready().await.expect("ready");
}

/// Many deliveries at once, as the webhook receiver makes them (on SQLite they share commits):
/// each order is queued once, by exactly one of its deliveries, with its own fields, and due.
async fn deliveries_at_once_queue_each_order_once(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b"]).await;
    // 200 orders over two connections, each delivered three times, all in flight together.
    let deliveries: Vec<(&str, i64)> = (0..3)
        .flat_map(|_| (1..=100).flat_map(|id| [("con_a", id), ("con_b", 1000 + id)]))
        .collect();
    let queued =
        futures_util::future::join_all(deliveries.iter().map(|&(connection, id)| async move {
            (connection, id, enqueue(s, connection, id).await)
        }))
        .await;
    let mut firsts: HashMap<(&str, i64), usize> = HashMap::new();
    for (connection, id, inserted) in queued {
        if inserted {
            *firsts.entry((connection, id)).or_default() += 1;
        }
    }
    assert_eq!(firsts.len(), 200, "every order queued");
    assert!(firsts.values().all(|&n| n == 1), "by one delivery each");
    assert_eq!(s.queue_depth("con_a").await.expect("depth"), 100);
    assert_eq!(s.queue_depth("con_b").await.expect("depth"), 100);
    let o = order(s, "con_b", 1042).await;
    assert_eq!(
        (o.state, o.order_number.as_str()),
        (OrderState::Queued, "1042")
    );
    assert!(
        o.run_at <= store::now() && o.created_at == o.run_at,
        "due when it came"
    );
    let claimed = s
        .claim_sends("replica-1", Duration::minutes(5), 500, 500)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 200, "all due at once");
}

/// Orders that fall due at the same instant (here: a whole outage's retries released at once)
/// are claimed across stores: a claim with a per-connection limit takes from every store, not
/// from one or two stores' orders only. (With the connection in the due index's key, ties
/// came out connection by connection and the SQLite drain fell to a third.)
async fn orders_due_together_are_claimed_across_connections(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    let names = ["con_a", "con_b", "con_c", "con_d"];
    connections(s, &["a", "b", "c", "d"]).await;
    // Deliveries from four stores, arriving interleaved.
    for id in 1..=50 {
        for c in names {
            assert!(enqueue(s, c, id).await);
        }
    }
    let claimed = s.claim_sends("w1", MINUTE, 200, 200).await.expect("claim");
    assert_eq!(claimed.len(), 200);
    retry_all_in_an_hour(s, "w1", &claimed).await;
    let released = s
        .release_retries(&conn(s, "con_a").await.api_base_url)
        .await
        .expect("release");
    assert_eq!(released, 200, "all four stores share the courier");

    let due = s.claim_sends("w1", MINUTE, 20, 5).await.expect("claim");
    let mut per_connection: HashMap<&str, usize> = HashMap::new();
    for o in &due {
        *per_connection.entry(o.connection_id.as_str()).or_default() += 1;
    }
    // Every store is served, none beyond its limit. (How ties are broken is the backend's:
    // SQLite keeps the order they came in and takes five of each; PostgreSQL reads its own
    // order, which after the retries' updates is not the arrival order.)
    assert!(
        names
            .map(|c| per_connection.get(c).copied().unwrap_or(0))
            .iter()
            .all(|n| (1..=5).contains(n)),
        "every store's orders in a claim of 20, at most five each: {per_connection:?}"
    );
}

/// The send outbox: enqueue, claims and their limits, leases, every outcome, resend, cancel.
async fn outbox(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b", "c", "d"]).await;
    let mut c = conn(s, "con_c").await;
    c.state = ConnectionState::NeedsRelogin;
    s.update_connection(&c).await.expect("park c");

    // Enqueueing is idempotent per (connection, order), whatever the order's state.
    assert!(enqueue(s, "con_a", 1).await);
    assert!(!enqueue(s, "con_a", 1).await, "a second enqueue is a no-op");
    assert_eq!(
        s.count_orders(&filter(Some("con_a"), None))
            .await
            .expect("count"),
        1
    );
    for (connection, id) in [
        ("con_a", 2),
        ("con_a", 3),
        ("con_b", 10),
        ("con_b", 11),
        ("con_c", 20),
        ("con_d", 30),
        ("con_d", 31),
    ] {
        assert!(enqueue(s, connection, id).await);
    }
    let fresh = order(s, "con_a", 1).await;
    assert_eq!(fresh.state, OrderState::Queued);
    assert_eq!(fresh.attempts, 0);
    assert_eq!(fresh.source, Some(vec![0xAA]));
    assert_eq!(fresh.woo_status, "processing");
    assert_eq!(fresh.order_number, "1");
    assert_eq!(s.queue_depth("con_a").await.expect("depth"), 3);

    // The WooCommerce status last seen.
    let noted = |previous: &str| {
        Some(store::NotedStatus {
            previous: previous.into(),
            kept: true,
        })
    };
    assert_eq!(
        s.note_woo_status("con_a", 1, "on-hold", None)
            .await
            .expect("note"),
        noted("processing")
    );
    assert_eq!(
        s.note_woo_status("con_a", 1, "processing", None)
            .await
            .expect("note"),
        noted("on-hold")
    );
    assert_eq!(
        s.note_woo_status("con_a", 999, "processing", None)
            .await
            .expect("unknown order"),
        None
    );
    assert_eq!(s.order("con_a", 999).await.expect("read"), None);

    // At most two in flight per connection; a parked connection's orders stay put.
    let claimed = s.claim_sends("w1", MINUTE, 100, 2).await.expect("claim");
    assert_eq!(
        keys(&claimed),
        [
            key("con_a", 1),
            key("con_a", 2),
            key("con_b", 10),
            key("con_b", 11),
            key("con_d", 30),
            key("con_d", 31)
        ]
    );
    for o in &claimed {
        assert_eq!(o.state, OrderState::Sending);
        assert_eq!(o.lease_owner.as_deref(), Some("w1"));
        assert!(o.lease_until.expect("lease") > store::now());
        assert_eq!(o.attempts, 1);
        assert!(o.first_attempt_at.is_some());
    }
    assert_eq!(
        s.claim_sends("w2", MINUTE, 100, 2).await.expect("claim"),
        [],
        "con_a has two in flight already"
    );
    assert_eq!(
        s.queue_depth("con_a").await.expect("depth"),
        3,
        "sending counts"
    );

    // The payload is kept only by the lease holder, and replaces the source.
    assert!(!s.save_payload("w2", "con_a", 1, &[7]).await.expect("save"));
    assert!(s.save_payload("w1", "con_a", 1, &[7]).await.expect("save"));
    let saved = order(s, "con_a", 1).await;
    assert_eq!(saved.payload, Some(vec![7]));
    assert_eq!(saved.source, None);

    // Sent: only by the lease holder; wipes the sealed blobs, stamps the connection, and queues
    // a write-back.
    assert!(
        !s.finish_send("w2", "con_a", 1, &sent("wb-1"))
            .await
            .expect("finish")
    );
    assert_eq!(order(s, "con_a", 1).await.state, OrderState::Sending);
    assert!(
        s.finish_send("w1", "con_a", 1, &sent("wb-1"))
            .await
            .expect("finish")
    );
    let done = order(s, "con_a", 1).await;
    assert_eq!(done.state, OrderState::Sent);
    assert_eq!(done.tt_id.as_deref(), Some("tt_1"));
    assert_eq!(done.tracking_id.as_deref(), Some("TRK1"));
    assert_eq!(done.tt_status.as_deref(), Some("created"));
    assert_eq!(done.tt_status_name.as_deref(), Some("Creado"));
    assert_eq!((done.payload, done.source), (None, None));
    assert_eq!((done.lease_owner, done.lease_until), (None, None));
    assert!(done.sent_at.is_some());
    assert!(conn(s, "con_a").await.last_sent_at.is_some());
    assert!(
        !s.finish_send("w1", "con_a", 1, &sent("wb-1"))
            .await
            .expect("finish twice"),
        "an attempt ends once"
    );

    // With one in flight, con_a may take one more.
    let claimed = s.claim_sends("w2", MINUTE, 100, 2).await.expect("claim");
    assert_eq!(keys(&claimed), [key("con_a", 3)]);

    // Failed and Rejected are final and noted on the connection.
    assert!(
        s.finish_send("w1", "con_a", 2, &SendOutcome::Failed { error: t("boom") })
            .await
            .expect("finish")
    );
    let failed = order(s, "con_a", 2).await;
    assert_eq!(failed.state, OrderState::Failed);
    assert_eq!(failed.last_error, Some(t("boom")));
    assert!(failed.last_error_at.is_some());
    assert_eq!(conn(s, "con_a").await.last_error, Some(t("boom")));
    assert!(
        s.finish_send(
            "w2",
            "con_a",
            3,
            &SendOutcome::Rejected {
                error: t("bad address")
            }
        )
        .await
        .expect("finish")
    );
    assert_eq!(order(s, "con_a", 3).await.state, OrderState::Rejected);
    assert_eq!(conn(s, "con_a").await.last_error, Some(t("bad address")));

    // NeedsRelogin: the order waits (the attempt not counted) and the connection is parked.
    assert!(
        s.finish_send(
            "w1",
            "con_b",
            10,
            &SendOutcome::NeedsRelogin { error: t("401") }
        )
        .await
        .expect("finish")
    );
    let waiting = order(s, "con_b", 10).await;
    assert_eq!(waiting.state, OrderState::Queued);
    assert_eq!(waiting.attempts, 0);
    assert_eq!(waiting.last_error, Some(t("401")));
    let parked = conn(s, "con_b").await;
    assert_eq!(parked.state, ConnectionState::NeedsRelogin);
    assert_eq!(parked.last_error, Some(t("401")));

    // Skipped is final and not an error of the connection.
    assert!(
        s.finish_send(
            "w1",
            "con_b",
            11,
            &SendOutcome::Skipped {
                reason: t("no shipping")
            }
        )
        .await
        .expect("finish")
    );
    let skipped = order(s, "con_b", 11).await;
    assert_eq!(skipped.state, OrderState::Skipped);
    assert_eq!(skipped.last_error, Some(t("no shipping")));
    assert_eq!(conn(s, "con_b").await.last_error, Some(t("401")));

    // Retry with a hold: due again at once, but the connection sends nothing until the hold ends.
    let now = store::now();
    assert!(
        s.finish_send(
            "w1",
            "con_d",
            30,
            &SendOutcome::Retry {
                run_at: now,
                error: t("429"),
                hold_connection_until: Some(now + Duration::hours(1)),
            }
        )
        .await
        .expect("finish")
    );
    let retried = order(s, "con_d", 30).await;
    assert_eq!(retried.state, OrderState::Queued);
    assert_eq!(retried.run_at, now);
    assert_eq!(retried.attempts, 1, "a retry keeps its attempt");
    assert_eq!(retried.last_error, Some(t("429")));
    assert_eq!((retried.lease_owner, retried.lease_until), (None, None));
    // A shorter hold does not cut the longer one short.
    assert!(
        s.finish_send(
            "w1",
            "con_d",
            31,
            &SendOutcome::Retry {
                run_at: now,
                error: t("429"),
                hold_connection_until: Some(now - MINUTE),
            }
        )
        .await
        .expect("finish")
    );
    assert_eq!(
        s.claim_sends("w3", MINUTE, 100, 10).await.expect("claim"),
        [],
        "con_a has nothing due, con_b and con_c are parked, con_d is held"
    );

    // Retry without a hold, in the future: not due yet.
    assert!(enqueue(s, "con_a", 4).await);
    assert_eq!(
        keys(&s.claim_sends("w1", MINUTE, 100, 10).await.expect("claim")),
        [key("con_a", 4)]
    );
    assert!(
        s.finish_send(
            "w1",
            "con_a",
            4,
            &SendOutcome::Retry {
                run_at: store::now() + Duration::hours(1),
                error: t("503"),
                hold_connection_until: None,
            }
        )
        .await
        .expect("finish")
    );
    assert_eq!(
        s.claim_sends("w1", MINUTE, 100, 10).await.expect("claim"),
        []
    );

    // An expired lease (a crashed worker) is taken over, and the old owner can no longer finish.
    assert!(enqueue(s, "con_a", 5).await);
    let first = s
        .claim_sends("w4", Duration::ZERO, 100, 2)
        .await
        .expect("claim");
    assert_eq!(keys(&first), [key("con_a", 5)]);
    let second = s.claim_sends("w5", MINUTE, 100, 2).await.expect("reclaim");
    assert_eq!(keys(&second), [key("con_a", 5)]);
    assert_eq!(second[0].lease_owner.as_deref(), Some("w5"));
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].first_attempt_at, first[0].first_attempt_at);
    assert!(!s.save_payload("w4", "con_a", 5, &[1]).await.expect("save"));
    assert!(
        !s.finish_send("w4", "con_a", 5, &sent("x"))
            .await
            .expect("finish"),
        "the lease was lost"
    );
    assert!(
        s.finish_send(
            "w5",
            "con_a",
            5,
            &SendOutcome::Skipped {
                reason: t("cancelled in the store")
            }
        )
        .await
        .expect("finish")
    );

    // The claim limit.
    for id in 100..110 {
        assert!(enqueue(s, "con_a", id).await);
    }
    let some = s.claim_sends("w6", MINUTE, 3, 100).await.expect("claim");
    assert_eq!(keys(&some), [100, 101, 102].map(|id| key("con_a", id)));
    assert_eq!(s.cancel_queue("con_a").await.expect("cancel"), 11);
    let cancelled = order(s, "con_a", 100).await;
    assert_eq!(cancelled.state, OrderState::Cancelled);
    assert_eq!((cancelled.lease_owner, cancelled.source), (None, None));
    assert_eq!(order(s, "con_a", 4).await.state, OrderState::Cancelled);
    assert_eq!(s.queue_depth("con_a").await.expect("depth"), 0);
    assert!(
        !s.finish_send("w6", "con_a", 100, &sent("x"))
            .await
            .expect("finish"),
        "a cancelled attempt cannot finish"
    );

    // Resend: one order that did not go (whatever the reason), or all that failed or were
    // rejected.
    assert_eq!(s.resend("con_a", Some(2)).await.expect("resend"), 1);
    let again = order(s, "con_a", 2).await;
    assert_eq!(again.state, OrderState::Queued);
    assert_eq!(again.attempts, 0);
    assert_eq!((again.last_error, again.first_attempt_at), (None, None));
    assert_eq!((again.source, again.payload), (None, None));
    assert_eq!(
        s.resend("con_a", Some(1)).await.expect("resend"),
        0,
        "a sent order is not sent twice"
    );
    assert_eq!(
        s.resend("con_a", None).await.expect("resend all"),
        1,
        "all: only the rejected order 3 (2 is queued already)"
    );
    assert_eq!(order(s, "con_a", 3).await.state, OrderState::Queued);
    assert_eq!(order(s, "con_a", 5).await.state, OrderState::Skipped);
    assert_eq!(order(s, "con_a", 4).await.state, OrderState::Cancelled);
    assert_eq!(s.resend("con_a", Some(5)).await.expect("skipped"), 1);
    assert_eq!(s.resend("con_a", Some(4)).await.expect("cancelled"), 1);
    assert_eq!(s.resend("con_a", Some(4)).await.expect("again"), 0);
    assert_eq!(s.queue_depth("con_a").await.expect("depth"), 4);
    assert_eq!(s.resend("con_b", None).await.expect("resend b"), 0);
    assert_eq!(s.resend("con_b", Some(11)).await.expect("resend b"), 1);
}

/// Tracking, write-backs, the reconcile cursor and named leases.
async fn writebacks_leases_and_cursors(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b"]).await;
    for id in 1..=4 {
        assert!(enqueue(s, "con_a", id).await);
    }
    let claimed = s.claim_sends("w", MINUTE, 100, 100).await.expect("claim");
    assert_eq!(claimed.len(), 4);
    for id in 1..=3 {
        assert!(
            s.finish_send("w", "con_a", id, &sent(&format!("wb-{id}")))
                .await
                .expect("sent")
        );
    }

    // Tracked orders: sent and not final, after a cursor, in order id order, limited.
    let tracked = |after, limit| async move {
        s.tracked_orders("con_a", after, limit)
            .await
            .expect("tracked")
            .iter()
            .map(|o| o.order_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(tracked(0, 10).await, [1, 2, 3]);
    assert_eq!(tracked(1, 1).await, [2]);
    s.update_tracking(
        "con_a",
        2,
        "delivered",
        "Entregado",
        "2025-01-02T03:04:05Z",
        "wb-2b",
    )
    .await
    .expect("tracking");
    let delivered = order(s, "con_a", 2).await;
    assert_eq!(delivered.tt_status.as_deref(), Some("delivered"));
    assert_eq!(delivered.tt_status_name.as_deref(), Some("Entregado"));
    assert_eq!(
        delivered.tt_updated_at.as_deref(),
        Some("2025-01-02T03:04:05Z")
    );
    assert_eq!(tracked(0, 10).await, [1, 3], "a final status is not polled");

    // Write-backs: oldest first, each to one claimer, finished only by it.
    let wbs = s.claim_writebacks("w1", MINUTE, 2).await.expect("claim");
    assert_eq!(
        wbs.iter().map(|w| w.body.as_str()).collect::<Vec<_>>(),
        ["wb-1", "wb-2"]
    );
    assert_eq!(wbs[0].connection_id, "con_a");
    assert_eq!(wbs[0].order_id, 1);
    assert_eq!(wbs[0].attempts, 1);
    let rest = s.claim_writebacks("w2", MINUTE, 10).await.expect("claim");
    assert_eq!(
        rest.iter().map(|w| w.body.as_str()).collect::<Vec<_>>(),
        ["wb-3", "wb-2b"]
    );
    assert_eq!(
        s.claim_writebacks("w3", MINUTE, 10).await.expect("claim"),
        []
    );
    // Not the owner: nothing changes.
    s.finish_writeback("w2", wbs[0].id, None, None)
        .await
        .expect("finish");
    assert_eq!(
        s.claim_writebacks("w3", MINUTE, 10).await.expect("claim"),
        []
    );
    // Retried: due again at `retry_at`, attempts counted.
    s.finish_writeback("w1", wbs[0].id, Some(store::now()), Some("503"))
        .await
        .expect("retry");
    s.finish_writeback(
        "w1",
        wbs[1].id,
        Some(store::now() + Duration::hours(1)),
        Some("503"),
    )
    .await
    .expect("retry later");
    let retried = s.claim_writebacks("w3", MINUTE, 10).await.expect("claim");
    assert_eq!(
        retried
            .iter()
            .map(|w| (w.id, w.attempts))
            .collect::<Vec<_>>(),
        [(wbs[0].id, 2)]
    );
    // Done and failed are final.
    s.finish_writeback("w3", wbs[0].id, None, None)
        .await
        .expect("done");
    s.finish_writeback("w2", rest[0].id, None, Some("404"))
        .await
        .expect("failed");
    s.finish_writeback("w2", rest[1].id, None, None)
        .await
        .expect("done");
    assert_eq!(
        s.claim_writebacks("w3", MINUTE, 10).await.expect("claim"),
        []
    );

    // An expired write-back lease is taken over.
    s.update_tracking("con_a", 3, "in_transit", "En tránsito", "t", "wb-3b")
        .await
        .expect("tracking");
    let first = s
        .claim_writebacks("w4", Duration::ZERO, 10)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    let second = s.claim_writebacks("w5", MINUTE, 10).await.expect("claim");
    assert_eq!(
        second
            .iter()
            .map(|w| (w.id, w.attempts))
            .collect::<Vec<_>>(),
        [(first[0].id, 2)]
    );

    // Write-backs of a connection that is not connected wait.
    s.update_tracking("con_b", 1, "created", "Creado", "t", "wb-b")
        .await
        .expect("tracking");
    let mut b = conn(s, "con_b").await;
    b.state = ConnectionState::NeedsRelogin;
    s.update_connection(&b).await.expect("park b");
    assert_eq!(
        s.claim_writebacks("w6", MINUTE, 10).await.expect("claim"),
        []
    );

    // Disconnecting cancels queued and running write-backs with the queue.
    s.update_tracking("con_a", 1, "in_transit", "En tránsito", "t", "wb-1c")
        .await
        .expect("tracking");
    assert_eq!(s.cancel_queue("con_a").await.expect("cancel"), 1, "order 4");
    let mut b = conn(s, "con_b").await;
    b.state = ConnectionState::Connected;
    s.update_connection(&b).await.expect("unpark b");
    let left = s.claim_writebacks("w7", MINUTE, 10).await.expect("claim");
    assert_eq!(
        left.iter().map(|w| w.body.as_str()).collect::<Vec<_>>(),
        ["wb-b"],
        "con_a's queued and running write-backs were cancelled"
    );

    // The reconcile cursor.
    assert_eq!(s.reconcile_cursor("con_a").await.expect("cursor"), None);
    assert_eq!(s.reconcile_cursor("nope").await.expect("cursor"), None);
    let t = store::now();
    s.set_reconcile_cursor("con_a", t).await.expect("set");
    assert_eq!(s.reconcile_cursor("con_a").await.expect("cursor"), Some(t));
    s.set_reconcile_cursor("con_a", t + MINUTE)
        .await
        .expect("set");
    assert_eq!(
        s.reconcile_cursor("con_a").await.expect("cursor"),
        Some(t + MINUTE)
    );
    assert_eq!(s.reconcile_cursor("con_b").await.expect("cursor"), None);

    // Named leases: the holder renews, another owner waits for expiry.
    assert!(s.try_lease("status", "r1", MINUTE).await.expect("lease"));
    assert!(!s.try_lease("status", "r2", MINUTE).await.expect("lease"));
    assert!(
        s.try_lease("status", "r1", MINUTE).await.expect("renew"),
        "the holder renews"
    );
    assert!(s.try_lease("reconcile", "r2", MINUTE).await.expect("lease"));
    assert!(
        s.try_lease("quick", "r1", Duration::ZERO)
            .await
            .expect("lease")
    );
    assert!(
        s.try_lease("quick", "r2", MINUTE).await.expect("expired"),
        "an expired lease goes to the next owner"
    );
    assert!(!s.try_lease("quick", "r1", MINUTE).await.expect("lease"));
}

/// Listing and counting orders: filters by connection and state, newest first, paging.
async fn order_lists(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b"]).await;
    for id in 1..=7 {
        assert!(enqueue(s, "con_a", id).await);
    }
    for id in 101..=103 {
        assert!(enqueue(s, "con_b", id).await);
    }
    assert_eq!(
        s.count_orders(&filter(None, None)).await.expect("count"),
        10
    );
    assert_eq!(
        s.count_orders(&filter(Some("con_a"), None))
            .await
            .expect("count"),
        7
    );
    assert_eq!(
        s.count_orders(&filter(Some("nope"), None))
            .await
            .expect("count"),
        0
    );
    let all = s.claim_sends("w", MINUTE, 100, 100).await.expect("claim");
    assert_eq!(all.len(), 10);
    assert!(
        s.finish_send("w", "con_a", 7, &sent("wb"))
            .await
            .expect("sent")
    );
    assert!(
        s.finish_send("w", "con_a", 6, &SendOutcome::Failed { error: t("x") })
            .await
            .expect("failed")
    );
    assert!(
        s.finish_send("w", "con_b", 103, &SendOutcome::Rejected { error: t("y") })
            .await
            .expect("rejected")
    );

    let ids = |rows: Vec<OrderRow>| rows.iter().map(|o| o.order_id).collect::<Vec<_>>();
    let list = |connection_id: Option<&str>, state, limit, offset| {
        let f = OrderFilter {
            connection_id: connection_id.map(str::to_owned),
            state,
            limit,
            offset,
        };
        async move { ids(s.orders(&f).await.expect("list")) }
    };
    assert_eq!(
        list(None, None, 0, 0).await,
        [103, 102, 101, 7, 6, 5, 4, 3, 2, 1],
        "newest first; limit 0 is no limit"
    );
    assert_eq!(list(Some("con_a"), None, 3, 0).await, [7, 6, 5]);
    assert_eq!(list(Some("con_a"), None, 3, 3).await, [4, 3, 2]);
    assert_eq!(list(Some("con_a"), None, 3, 6).await, [1]);
    assert_eq!(list(Some("con_a"), None, 3, 9).await, Vec::<i64>::new());
    assert_eq!(list(None, None, 0, 8).await, [2, 1], "offset without limit");
    assert_eq!(list(None, Some(OrderState::Sent), 0, 0).await, [7]);
    assert_eq!(list(None, Some(OrderState::Sending), 2, 1).await, [101, 5]);
    assert_eq!(
        list(Some("con_b"), Some(OrderState::Failed), 0, 0).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        list(Some("con_b"), Some(OrderState::Rejected), 0, 0).await,
        [103]
    );

    let count = |connection_id: Option<&str>, state| {
        let f = filter(connection_id, state);
        async move { s.count_orders(&f).await.expect("count") }
    };
    assert_eq!(count(None, Some(OrderState::Sending)).await, 7);
    assert_eq!(count(Some("con_a"), Some(OrderState::Failed)).await, 1);
    assert_eq!(count(Some("con_b"), Some(OrderState::Failed)).await, 0);
    assert_eq!(count(Some("con_b"), Some(OrderState::Rejected)).await, 1);
    assert_eq!(count(None, Some(OrderState::Queued)).await, 0);

    // A resent order counts as new: it goes to the top.
    assert_eq!(s.resend("con_a", Some(6)).await.expect("resend"), 1);
    assert_eq!(list(None, None, 2, 0).await, [6, 103]);
}

#[tokio::test]
async fn unknown_database_urls_are_a_clear_error() {
    let err = store::open("mysql://localhost/ttwc")
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("mysql://localhost/ttwc"), "{err}");
    assert!(err.to_string().contains("postgres://"), "{err}");
}

#[tokio::test]
async fn an_unreachable_postgres_is_an_error_naming_it_without_its_password() {
    // Port 1 refuses at once; the pool's acquire timeout bounds the wait either way.
    let started = std::time::Instant::now();
    let err = store::open("postgres://ttwc:hunter2@127.0.0.1:1/ttwc")
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(matches!(err, store::StoreError::Open { .. }), "{text}");
    assert!(
        text.contains("postgres://ttwc:***@127.0.0.1:1/ttwc"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// Two replicas (two stores, two pools) on one database, claiming at full speed: every order is
/// claimed exactly once, and no connection ever has more than `per_connection` in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_never_claim_an_order_twice() {
    let Some(server) = postgres_url("store::postgres_replicas_never_claim_an_order_twice") else {
        return;
    };
    let schema = PgSchema::create(&server).await;
    let first = store::open(&schema.url).await.expect("replica 1");
    let second = store::open(&schema.url).await.expect("replica 2");
    let names = ["a", "b", "c", "d"];
    connections(&*first, &names).await;
    for name in names {
        for id in 1..=50 {
            assert!(enqueue(&*first, &format!("con_{name}"), id).await);
        }
    }
    const PER_CONNECTION: u32 = 10;

    async fn replica(store: Arc<dyn Store>, owner: &'static str) -> Vec<(String, i64)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut mine = Vec::new();
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "{owner}: the queue did not drain in time"
            );
            let claimed = store
                .claim_sends(owner, MINUTE, 7, PER_CONNECTION)
                .await
                .expect("claim");
            for o in &claimed {
                let in_flight = store
                    .count_orders(&filter(Some(&o.connection_id), Some(OrderState::Sending)))
                    .await
                    .expect("count");
                assert!(
                    in_flight <= u64::from(PER_CONNECTION),
                    "{} has {in_flight} in flight",
                    o.connection_id
                );
            }
            for o in &claimed {
                assert!(
                    store
                        .finish_send(owner, &o.connection_id, o.order_id, &sent("wb"))
                        .await
                        .expect("finish"),
                    "{owner} lost a lease it just took"
                );
                mine.push((o.connection_id.clone(), o.order_id));
            }
            if claimed.is_empty() {
                let left = store
                    .count_orders(&filter(None, Some(OrderState::Queued)))
                    .await
                    .expect("count")
                    + store
                        .count_orders(&filter(None, Some(OrderState::Sending)))
                        .await
                        .expect("count");
                if left == 0 {
                    return mine;
                }
                tokio::task::yield_now().await;
            }
        }
    }

    let one = tokio::spawn(replica(first.clone(), "replica-1"));
    let two = tokio::spawn(replica(second.clone(), "replica-2"));
    let one = one.await.expect("replica 1 ran");
    let two = two.await.expect("replica 2 ran");
    eprintln!(
        "replica-1 claimed {}, replica-2 claimed {}",
        one.len(),
        two.len()
    );
    let mut seen = HashMap::new();
    for k in one.iter().chain(&two) {
        *seen.entry(k.clone()).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "claimed more than once: {twice:?}");
    assert_eq!(seen.len(), 200, "every order was claimed");
    for name in names {
        let id = format!("con_{name}");
        assert_eq!(
            first
                .count_orders(&filter(Some(&id), Some(OrderState::Sent)))
                .await
                .expect("count"),
            50
        );
        let o = order(&*second, &id, 1).await;
        assert_eq!(o.attempts, 1, "one attempt each");
    }

    // The write-backs those sends queued: the same guarantee.
    async fn drain(store: Arc<dyn Store>, owner: &'static str) -> Vec<i64> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut mine = Vec::new();
        loop {
            assert!(std::time::Instant::now() < deadline, "{owner}: not drained");
            let claimed = store
                .claim_writebacks(owner, MINUTE, 5)
                .await
                .expect("claim");
            if claimed.is_empty() {
                return mine;
            }
            for w in claimed {
                store
                    .finish_writeback(owner, w.id, None, None)
                    .await
                    .expect("finish");
                mine.push(w.id);
            }
        }
    }
    let one = tokio::spawn(drain(first.clone(), "replica-1"));
    let two = tokio::spawn(drain(second.clone(), "replica-2"));
    let one = one.await.expect("replica 1 ran");
    let two = two.await.expect("replica 2 ran");
    let all: HashSet<i64> = one.iter().chain(&two).copied().collect();
    assert_eq!(one.len() + two.len(), 200, "no write-back claimed twice");
    assert_eq!(all.len(), 200);
}

/// Four replicas claiming for one connection at the same moment, round after round: together
/// they never have more than `per_connection` of its orders in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_keep_the_per_connection_limit() {
    let Some(server) = postgres_url("store::postgres_replicas_keep_the_per_connection_limit")
    else {
        return;
    };
    let schema = PgSchema::create(&server).await;
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(store::open(&schema.url).await.expect("replica"));
    }
    connections(&*replicas[0], &["a"]).await;
    for id in 1..=60 {
        assert!(enqueue(&*replicas[0], "con_a", id).await);
    }
    const PER_CONNECTION: u32 = 3;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut claimed = HashSet::new();
    while claimed.len() < 60 {
        assert!(std::time::Instant::now() < deadline, "not drained in time");
        let rounds =
            futures_util::future::join_all(replicas.iter().enumerate().map(|(i, s)| async move {
                let owner = format!("replica-{i}");
                let rows = s
                    .claim_sends(&owner, MINUTE, 10, PER_CONNECTION)
                    .await
                    .expect("claim");
                (owner, rows)
            }))
            .await;
        let in_flight: usize = rounds.iter().map(|(_, rows)| rows.len()).sum();
        assert!(
            in_flight <= PER_CONNECTION as usize,
            "{in_flight} in flight at once: {:?}",
            rounds
                .iter()
                .map(|(o, rows)| (o, keys(rows)))
                .collect::<Vec<_>>()
        );
        for (owner, rows) in &rounds {
            for o in rows {
                assert!(claimed.insert(o.order_id), "{} claimed twice", o.order_id);
                assert!(
                    replicas[0]
                        .finish_send(owner, "con_a", o.order_id, &sent("wb"))
                        .await
                        .expect("finish")
                );
            }
        }
    }
}

/// Many attempts ended in one transaction, and retries released when TrackingTech is back.
/// Connections `con_a` and `con_b`, the second sending to another TrackingTech API.
async fn a_here_b_elsewhere(s: &dyn Store) {
    connections(s, &["a", "b"]).await;
    let mut b = conn(s, "con_b").await;
    b.api_base_url = "https://elsewhere.example".into();
    s.update_connection(&b).await.expect("b elsewhere");
}

/// Every retry waiting out an outage is made due when TrackingTech answers again, however many
/// (SQLite releases them in chunks of 1,000), and only those of connections sending there.
async fn an_outage_worth_of_retries_is_released_whole(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    a_here_b_elsewhere(s).await;
    let waiting = 2_500;
    for id in 1..=waiting {
        assert!(enqueue(s, "con_a", id).await);
    }
    for id in 1..=10 {
        assert!(enqueue(s, "con_b", id).await);
    }
    let claimed = s
        .claim_sends("w1", MINUTE, 3_000, 3_000)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2_510);
    retry_all_in_an_hour(s, "w1", &claimed).await;
    assert!(
        s.claim_sends("w1", MINUTE, 3_000, 3_000)
            .await
            .expect("claim")
            .is_empty(),
        "all wait out their backoff"
    );

    let released = s
        .release_retries(&conn(s, "con_a").await.api_base_url)
        .await
        .expect("release");
    assert_eq!(released, 2_500);
    let due = s
        .claim_sends("w1", MINUTE, 3_000, 3_000)
        .await
        .expect("claim");
    assert_eq!(due.len(), 2_500);
    assert!(due.iter().all(|o| o.connection_id == "con_a"));
}

async fn batched_finishes_and_released_retries(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    a_here_b_elsewhere(s).await;
    for (c, id) in [("con_a", 1), ("con_a", 2), ("con_a", 3), ("con_b", 1)] {
        assert!(enqueue(s, c, id).await);
    }
    let claimed = s.claim_sends("w1", MINUTE, 100, 10).await.expect("claim");
    assert_eq!(claimed.len(), 4);
    let retry = retry_in_an_hour();
    let sent = sent("wb-1");
    let recorded = s
        .finish_sends(
            "w1",
            &[
                finished("con_a", 1, &sent, Some(("sent", "Pedido #1 enviado"))),
                finished("con_a", 2, &retry, None),
                finished("con_b", 1, &retry, None),
            ],
        )
        .await
        .expect("finish batch");
    assert_eq!(recorded, [true, true, true]);
    // Another worker's outcome for an order w1 holds: refused, and no activity from it.
    let refused = s
        .finish_sends(
            "w2",
            &[finished(
                "con_a",
                3,
                &sent,
                Some(("sent", "Pedido #3 enviado")),
            )],
        )
        .await
        .expect("finish foreign");
    assert_eq!(refused, [false]);
    assert_eq!(order(s, "con_a", 1).await.state, OrderState::Sent);
    assert_eq!(order(s, "con_a", 3).await.state, OrderState::Sending);
    let activity = s.activity("con_a", 10).await.expect("activity");
    assert_eq!(
        activity
            .iter()
            .map(|a| (a.kind.clone(), words(&a.message)))
            .collect::<Vec<_>>(),
        [("sent".to_owned(), "Pedido #1 enviado".to_owned())]
    );
    let waiting = order(s, "con_a", 2).await;
    assert_eq!((waiting.state, waiting.attempts), (OrderState::Queued, 1));
    assert!(waiting.run_at > store::now() + Duration::minutes(59));

    // A new order is no retry; con_b sends elsewhere; con_a:3 is still in flight.
    assert!(enqueue(s, "con_a", 4).await);
    assert_eq!(
        s.release_retries("http://127.0.0.1:1")
            .await
            .expect("release"),
        1
    );
    assert!(order(s, "con_a", 2).await.run_at <= store::now());
    assert!(order(s, "con_b", 1).await.run_at > store::now() + Duration::minutes(59));
    let due: HashSet<(String, i64)> =
        keys(&s.claim_sends("w1", MINUTE, 100, 10).await.expect("claim"))
            .into_iter()
            .collect();
    assert_eq!(due, HashSet::from([key("con_a", 2), key("con_a", 4)]));
    assert_eq!(
        s.release_retries("http://127.0.0.1:1")
            .await
            .expect("again"),
        0
    );

    // What /metrics reads: orders per state, and the oldest queued order's creation.
    let summary = s.outbox_summary().await.expect("summary");
    let mut by_state = summary.by_state.clone();
    by_state.sort_by_key(|(state, _)| state.as_str());
    assert_eq!(
        by_state,
        [
            (OrderState::Queued, 1),
            (OrderState::Sending, 3),
            (OrderState::Sent, 1)
        ]
    );
    assert_eq!(
        summary.oldest_queued,
        Some(order(s, "con_b", 1).await.created_at)
    );
}

/// One batch of every kind of outcome, some of them for orders another worker has taken over:
/// each is recorded (with its write-back and activity) only where the lease is still the
/// batch's owner's, and the activity keeps the batch's order. Write-backs end in batches too.
async fn mixed_batches_record_only_what_is_still_leased(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b"]).await;
    for id in 1..=4 {
        assert!(enqueue(s, "con_a", id).await);
    }
    assert!(enqueue(s, "con_b", 1).await);
    let claimed = s.claim_sends("w1", MINUTE, 100, 10).await.expect("claim");
    assert_eq!(claimed.len(), 5);
    // Orders a:5 and a:6 belong to another worker.
    assert!(enqueue(s, "con_a", 5).await);
    assert!(enqueue(s, "con_a", 6).await);
    let theirs = s.claim_sends("w2", MINUTE, 100, 10).await.expect("claim");
    assert_eq!(keys(&theirs), [key("con_a", 5), key("con_a", 6)]);
    // Payloads saved in one batch: only where the lease is the saver's.
    let saved = s
        .save_payloads(
            "w1",
            &[
                store::PayloadToSave {
                    connection_id: "con_a",
                    order_id: 1,
                    payload: &[1, 2, 3],
                },
                store::PayloadToSave {
                    connection_id: "con_a",
                    order_id: 5,
                    payload: &[9],
                },
            ],
        )
        .await
        .expect("save payloads");
    assert_eq!(saved, [true, false]);
    let a1 = order(s, "con_a", 1).await;
    assert_eq!((a1.payload, a1.source), (Some(vec![1, 2, 3]), None));
    assert_eq!(order(s, "con_a", 5).await.payload, None);
    let retry = retry_in_an_hour();
    let rejected = SendOutcome::Rejected {
        error: t("TrackingTech HTTP 422: bad phone"),
    };
    let (sent_1, sent_2) = (sent("wb-a1"), sent("wb-b1"));
    let recorded = s
        .finish_sends(
            "w1",
            &[
                finished("con_a", 3, &rejected, Some(("rejected", "3 rechazado"))),
                finished("con_a", 1, &sent_1, Some(("sent", "1 enviado"))),
                finished("con_a", 2, &retry, None),
                finished("con_b", 1, &sent_2, Some(("sent", "b1 enviado"))),
                finished("con_a", 4, &sent_1, Some(("sent", "4 enviado"))),
            ],
        )
        .await
        .expect("finish batch");
    assert_eq!(recorded, [true, true, true, true, true]);
    assert_eq!(order(s, "con_a", 3).await.state, OrderState::Rejected);
    let a1 = order(s, "con_a", 1).await;
    assert_eq!(
        (
            a1.state,
            a1.tracking_id.as_deref(),
            a1.lease_owner.as_deref()
        ),
        (OrderState::Sent, Some("TRK1"), None)
    );
    assert!(a1.sent_at.is_some() && a1.payload.is_none());
    let a2 = order(s, "con_a", 2).await;
    assert_eq!(
        (a2.state, a2.last_error),
        (OrderState::Queued, Some(t("503")))
    );
    assert!(a2.run_at > store::now() + Duration::minutes(59));
    assert!(conn(s, "con_a").await.last_sent_at.is_some());
    assert!(conn(s, "con_b").await.last_sent_at.is_some());
    let activity: Vec<String> = s
        .activity("con_a", 10)
        .await
        .expect("activity")
        .into_iter()
        .map(|a| words(&a.message))
        .collect();
    // Newest first: the batch's order, reversed.
    assert_eq!(activity, ["4 enviado", "1 enviado", "3 rechazado"]);

    // Outcomes for orders w2 holds, from w1 (a worker whose lease ran out): refused.
    let refused = s
        .finish_sends(
            "w1",
            &[
                finished("con_a", 5, &sent_1, Some(("sent", "5 enviado"))),
                finished("con_a", 6, &retry, None),
            ],
        )
        .await
        .expect("finish foreign");
    assert_eq!(refused, [false, false]);
    assert_eq!(order(s, "con_a", 5).await.state, OrderState::Sending);
    assert_eq!(order(s, "con_a", 6).await.state, OrderState::Sending);
    assert_eq!(s.activity("con_a", 10).await.expect("activity").len(), 3);

    // The sent orders queued their write-backs; they end in one batch, a foreign one ignored.
    let wbs = s.claim_writebacks("w1", MINUTE, 10).await.expect("claim");
    let mut bodies: Vec<&str> = wbs.iter().map(|w| w.body.as_str()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["wb-a1", "wb-a1", "wb-b1"]);
    s.finish_writebacks(
        "w1",
        &[
            store::WritebackEnd {
                id: wbs[0].id,
                retry_at: None,
                error: None,
                warning: None,
            },
            store::WritebackEnd {
                id: wbs[1].id,
                retry_at: Some(store::now()),
                error: Some("503"),
                warning: None,
            },
            store::WritebackEnd {
                id: wbs[2].id,
                retry_at: None,
                error: Some("404"),
                warning: Some(&t("nota imposible")),
            },
        ],
    )
    .await
    .expect("finish write-backs");
    s.finish_writebacks(
        "w9",
        &[store::WritebackEnd {
            id: wbs[1].id,
            retry_at: None,
            error: None,
            warning: Some(&t("not mine")),
        }],
    )
    .await
    .expect("foreign write-back end");
    // The failed one's warning is in its connection's activity; the foreign end's is not.
    let failed = wbs[2].connection_id.as_str();
    let mut found = Vec::new();
    for c in ["con_a", "con_b"] {
        for a in s.activity(c, 20).await.expect("activity") {
            if a.kind == "warning" {
                found.push((c.to_owned(), words(&a.message)));
            }
        }
    }
    assert_eq!(found, [(failed.to_owned(), "nota imposible".to_owned())]);
    let again = s.claim_writebacks("w2", MINUTE, 10).await.expect("claim");
    assert_eq!(
        again.iter().map(|w| (w.id, w.attempts)).collect::<Vec<_>>(),
        [(wbs[1].id, 2)]
    );
}

/// Times compare as times, also within one second. (SQLite keeps times as text, and RFC 3339
/// trimmed of its trailing zeros sorts `…:05Z` after `…:05.3Z`, since '.' < 'Z', and
/// `…:05.12Z` after `…:05.123Z`.) Sessions idle before an instant, connections newest first,
/// orders and write-backs due at a whole second or inside it, and a connection's hold
/// (Retry-After) ending at a whole second or inside it.
async fn times_within_one_second(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    let ms = Duration::milliseconds;

    // What does not depend on the clock, at a whole second of the past.
    let second = time::macros::datetime!(2024-05-01 12:00:05 UTC);
    let seen = [
        ("whole", second),
        ("in-it", second + ms(300)),
        ("twelve", second + ms(120)),
        ("one-two-four", second + ms(124)),
    ];
    for (id, at) in seen {
        let session = SessionRow {
            id_hash: id.into(),
            csrf_token: "c".into(),
            created_at: at,
            last_seen_at: at,
            owner: None,
            user_json: None,
            tt_token: None,
            wizard: None,
        };
        s.insert_session(&session).await.expect("insert session");
        assert_eq!(s.session(id).await.expect("read"), Some(session));
    }
    let left = || async {
        let mut left = Vec::new();
        for (id, _) in seen {
            if s.session(id).await.expect("read").is_some() {
                left.push(id);
            }
        }
        left
    };
    assert_eq!(s.purge_sessions(second + ms(100)).await.expect("purge"), 1);
    assert_eq!(left().await, ["in-it", "twelve", "one-two-four"]);
    assert_eq!(s.purge_sessions(second + ms(123)).await.expect("purge"), 1);
    assert_eq!(left().await, ["in-it", "one-two-four"]);

    for (id, at) in [
        ("con_whole", second),
        ("con_300", second + ms(300)),
        ("con_120", second + ms(120)),
        ("con_123", second + ms(123)),
    ] {
        let mut row = connection(id, "DEMO:times", &format!("https://{id}.example"));
        row.created_at = at;
        s.upsert_connection(&row).await.expect("connection");
    }
    let listed = s.connections(Some("DEMO:times")).await.expect("list");
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["con_300", "con_123", "con_120", "con_whole"],
        "newest first"
    );
    let cursor = second + Duration::microseconds(123_456);
    s.set_reconcile_cursor("con_whole", cursor)
        .await
        .expect("cursor");
    assert_eq!(
        s.reconcile_cursor("con_whole").await.expect("cursor"),
        Some(cursor)
    );

    // What is due, against the clock: everything is set up for a whole second about to come,
    // and claimed just after the clock enters it.
    connections(s, &["a", "b", "c"]).await;
    for (c, id) in [
        ("con_a", 1),
        ("con_a", 2),
        ("con_b", 1),
        ("con_c", 1),
        ("con_c", 2),
    ] {
        assert!(enqueue(s, c, id).await);
    }
    assert_eq!(
        s.claim_sends("w1", MINUTE, 10, 10)
            .await
            .expect("claim")
            .len(),
        5
    );
    s.update_tracking("con_a", 1, "created", "Creado", "t", "wb-inside")
        .await
        .expect("write-back");
    s.update_tracking("con_a", 2, "created", "Creado", "t", "wb-whole")
        .await
        .expect("write-back");
    let wbs = s.claim_writebacks("w1", MINUTE, 10).await.expect("claim");
    assert_eq!(wbs.len(), 2);

    let now = store::now();
    let ahead = now + Duration::seconds(2);
    let due = ahead - Duration::nanoseconds(i64::from(ahead.nanosecond()));
    let retry = |run_at, hold_connection_until| SendOutcome::Retry {
        run_at,
        error: t("429"),
        hold_connection_until,
    };
    let outcomes = [
        // Inside the second: not due yet.
        ("con_a", 1, retry(due + ms(900), None)),
        // At the whole second: due.
        ("con_a", 2, retry(due, None)),
        // Due now, its connection held until the whole second: free again.
        ("con_b", 1, retry(now, Some(due))),
        // Due now, its connection held until inside the second…
        ("con_c", 1, retry(now, Some(due + ms(900)))),
        // … and a shorter hold does not shorten it.
        ("con_c", 2, retry(now, Some(due))),
    ];
    let items: Vec<_> = outcomes
        .iter()
        .map(|(c, id, outcome)| finished(c, *id, outcome, None))
        .collect();
    let recorded = s.finish_sends("w1", &items).await.expect("retries");
    assert!(recorded.iter().all(|r| *r));
    assert_eq!(order(s, "con_a", 1).await.run_at, due + ms(900));
    assert_eq!(order(s, "con_a", 2).await.run_at, due);
    let wb_retry = |id, retry_at| store::WritebackEnd {
        id,
        retry_at: Some(retry_at),
        error: Some("503"),
        warning: None,
    };
    let by_body = |body: &str| {
        wbs.iter()
            .find(|w| w.body == body)
            .expect("write-back claimed")
            .id
    };
    s.finish_writebacks(
        "w1",
        &[
            wb_retry(by_body("wb-inside"), due + ms(900)),
            wb_retry(by_body("wb-whole"), due),
        ],
    )
    .await
    .expect("write-backs retried");

    let set_up = store::now();
    assert!(
        set_up < due,
        "the setup took until {set_up}, past {due}: too slow to tell"
    );
    let wait = (due + ms(50)) - set_up;
    tokio::time::sleep(std::time::Duration::try_from(wait).expect("ahead")).await;
    let claimed = s.claim_sends("w2", MINUTE, 10, 10).await.expect("claim");
    let writebacks = s.claim_writebacks("w2", MINUTE, 10).await.expect("claim");
    let done = store::now();
    assert!(
        done < due + ms(900),
        "the claims took until {done}, past {}: too slow to tell",
        due + ms(900)
    );
    assert_eq!(
        keys(&claimed),
        [key("con_a", 2), key("con_b", 1)],
        "claimed between {due} and {done}"
    );
    assert_eq!(
        writebacks
            .iter()
            .map(|w| w.body.as_str())
            .collect::<Vec<_>>(),
        ["wb-whole"],
        "claimed between {due} and {done}"
    );
}

/// A fresh SQLite database opens every time: the first connection makes the file, switches it
/// to WAL and migrates it while the pool opens more (once seen failing with "database is
/// locked" in a benchmark).
#[tokio::test]
async fn a_fresh_sqlite_database_opens_every_time() {
    for i in 0..100 {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?synchronous=full",
            dir.path().join("fresh.db").display()
        );
        let opened = store::open(&url).await;
        assert!(opened.is_ok(), "open #{i} failed: {:?}", opened.err());
        if let Ok(store) = opened {
            store.has_installation().await.expect("reads");
        }
    }
}

/// The planner's statistics of the outbox are gathered again once it grew, by ttwc itself:
/// the test server runs without autovacuum, like the benchmark's, where stale statistics made
/// every claim read all queued orders.
#[tokio::test]
async fn postgres_statistics_are_gathered_again_when_the_outbox_grew() {
    let Some(server) =
        postgres_url("store::postgres_statistics_are_gathered_again_when_the_outbox_grew")
    else {
        return;
    };
    let schema = PgSchema::create(&server).await;
    let s = store::open(&schema.url).await.expect("open");
    connections(&*s, &["a"]).await;
    assert!(
        !s.refresh_statistics().await.expect("check"),
        "an empty outbox needs no statistics"
    );
    for id in 1..=1_500 {
        assert!(enqueue(&*s, "con_a", id).await);
    }
    // The server publishes a connection's row counts when it has been idle a while (up to
    // 10 s in PostgreSQL 15): poll with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !s.refresh_statistics().await.expect("refresh") {
        assert!(
            std::time::Instant::now() < deadline,
            "1,500 new orders never made the statistics stale"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut pg = sqlx::PgConnection::connect(&schema.url)
        .await
        .expect("connect");
    let analyzed: Option<time::OffsetDateTime> = sqlx::query_scalar(
        "SELECT last_analyze FROM pg_stat_user_tables WHERE relid = 'orders'::regclass",
    )
    .fetch_one(&mut pg)
    .await
    .expect("read the statistics' time");
    assert!(analyzed.is_some(), "orders was not analyzed");
    pg.close().await.ok();
}

/// Committed pages reach the SQLite database file within moments, copied by the store's own
/// checkpointer, instead of waiting in the WAL until 10,000 pages (~40 MB) have piled up for
/// one writer to copy while every delivery behind it waits.
#[tokio::test]
async fn sqlite_pages_are_checkpointed_as_they_come() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let s = store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open");
    connections(&*s, &["a"]).await;
    let file_size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = file_size();
    // About 1 MB of orders: some 250 pages, far below the automatic checkpoint's 10,000.
    for id in 1..=600 {
        let inserted = s
            .enqueue_order(NewOrder {
                connection_id: "con_a".to_owned(),
                order_id: id,
                order_number: id.to_string(),
                woo_status: "processing".to_owned(),
                woo_modified_at: None,
                source: Some(vec![0x5A; 1_500]),
            })
            .await
            .expect("enqueue");
        assert!(inserted);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_size() < before + 800_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (from {before}): the pages stayed in the WAL",
            file_size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The highest order id at connect time (written by a connect and once by reconcile, never
/// erased by an update) and the orders left out, each noted once.
async fn orders_left_out_and_the_highest_id_at_connect(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b"]).await;
    assert_eq!(conn(s, "con_a").await.order_id_at_connect, None);
    // A (re)connect writes it.
    let mut a = conn(s, "con_a").await;
    a.order_id_at_connect = Some(41);
    let stored = s.upsert_connection(&a).await.expect("upsert");
    assert_eq!(stored.order_id_at_connect, Some(41));
    assert_eq!(conn(s, "con_a").await.order_id_at_connect, Some(41));
    // An update from a row read before leaves it alone.
    let mut stale = conn(s, "con_a").await;
    stale.order_id_at_connect = None;
    stale.trigger_status = "on-hold".into();
    s.update_connection(&stale).await.expect("update");
    let a = conn(s, "con_a").await;
    assert_eq!(a.trigger_status, "on-hold");
    assert_eq!(a.order_id_at_connect, Some(41), "not erased by an update");
    // Reconcile's write fills it only where it is missing.
    assert!(!s.set_order_id_at_connect("con_a", 99).await.expect("set"));
    assert_eq!(conn(s, "con_a").await.order_id_at_connect, Some(41));
    assert!(s.set_order_id_at_connect("con_b", 0).await.expect("set"));
    assert_eq!(conn(s, "con_b").await.order_id_at_connect, Some(0));
    assert!(!s.set_order_id_at_connect("con_b", 7).await.expect("set"));
    assert_eq!(conn(s, "con_b").await.order_id_at_connect, Some(0));

    // Left-out orders: noted once, with their activity entry, per connection.
    let text = |n: &str| {
        Text::new(Code::LeftOut)
            .with("number", n)
            .with("since", "2026-03-14")
    };
    let left_out = |id: &'static str| async move {
        s.activity(id, 100)
            .await
            .expect("activity")
            .into_iter()
            .filter(|a| a.kind == "left_out")
            .map(|a| a.message)
            .collect::<Vec<_>>()
    };
    assert!(s.note_left_out("con_a", 7, &text("7")).await.expect("note"));
    assert!(!s.note_left_out("con_a", 7, &text("7")).await.expect("note"));
    assert!(s.note_left_out("con_b", 7, &text("7")).await.expect("note"));
    assert_eq!(left_out("con_a").await, vec![text("7")]);
    assert_eq!(left_out("con_b").await, vec![text("7")]);
    // An order ttwc has in its outbox is not "left out".
    assert!(enqueue(s, "con_a", 8).await);
    assert!(!s.note_left_out("con_a", 8, &text("8")).await.expect("note"));
    assert_eq!(left_out("con_a").await, vec![text("7")]);
    // Nothing of it is sent: the outbox holds only what was enqueued.
    assert_eq!(
        s.count_orders(&filter(Some("con_a"), None))
            .await
            .expect("count"),
        1
    );
    // Once survives reopening the database.
    drop(store);
    let store = store::open(url).await.expect("reopens");
    assert!(
        !store
            .note_left_out("con_a", 7, &text("7"))
            .await
            .expect("note")
    );
}

/// The store's zone and language are kept with the connection; `set_store_zone` changes the
/// zone and nothing else; a reconnect (upsert) takes the new store's values.
async fn the_store_zone_and_language(url: &str) {
    let store = store::open(url).await.expect("opens");
    let mut row = connection("con_zone", "DEMO:1", "https://zona.example");
    row.store_language = Some("en_US".into());
    row.trigger_status = "pagado".into();
    store.upsert_connection(&row).await.expect("insert");
    let read = conn(&*store, "con_zone").await;
    assert_eq!(
        (
            read.store_timezone,
            read.store_utc_offset,
            read.store_language
        ),
        (None, None, Some("en_US".to_owned()))
    );

    store
        .set_store_zone("con_zone", Some("America/Santiago"), None)
        .await
        .expect("zone");
    let read = conn(&*store, "con_zone").await;
    assert_eq!(read.store_timezone.as_deref(), Some("America/Santiago"));
    assert_eq!(read.store_utc_offset, None);
    assert_eq!(read.trigger_status, "pagado");
    assert_eq!(read.store_language.as_deref(), Some("en_US"));

    store
        .set_store_zone("con_zone", None, Some(-240))
        .await
        .expect("offset");
    let read = conn(&*store, "con_zone").await;
    assert_eq!(
        (read.store_timezone, read.store_utc_offset),
        (None, Some(-240))
    );

    row.store_timezone = Some("Europe/Madrid".into());
    row.store_utc_offset = None;
    row.store_language = Some("es_ES".into());
    store.upsert_connection(&row).await.expect("reconnect");
    let read = conn(&*store, "con_zone").await;
    assert_eq!(
        (
            read.store_timezone,
            read.store_utc_offset,
            read.store_language
        ),
        (
            Some("Europe/Madrid".to_owned()),
            None,
            Some("es_ES".to_owned())
        )
    );
}

/// Issue 19: a replayed or late delivery does not set an older WooCommerce status over a newer
/// one. The status kept is the one with the newest `date_modified_gmt`; a row from before
/// times were kept (or enqueued without one) takes any status.
async fn an_older_status_never_replaces_a_newer_one(url: &str) {
    use time::macros::datetime;
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a"]).await;
    let (t1, t2, t3) = (
        datetime!(2026-03-14 10:00:00 UTC),
        datetime!(2026-03-14 10:05:00 UTC),
        datetime!(2026-03-14 10:09:00 UTC),
    );
    let note = |id: i64, status: &'static str, at: Option<time::OffsetDateTime>| async move {
        s.note_woo_status("con_a", id, status, at)
            .await
            .expect("note")
            .map(|n| (n.previous, n.kept))
    };
    let status = |id: i64| async move { order(s, "con_a", id).await.woo_status };
    let new_order = |id: i64, at: Option<time::OffsetDateTime>| NewOrder {
        connection_id: "con_a".into(),
        order_id: id,
        order_number: id.to_string(),
        woo_status: "processing".into(),
        woo_modified_at: at,
        source: None,
    };

    // Queued as paid at t2: the delivery of its creation at t1, late, changes nothing.
    assert!(
        s.enqueue_order(new_order(1, Some(t2)))
            .await
            .expect("enqueue")
    );
    assert_eq!(
        note(1, "pending", Some(t1)).await,
        Some(("processing".into(), false))
    );
    assert_eq!(status(1).await, "processing");
    // A later change is kept, and a replay of the one before it is not.
    assert_eq!(
        note(1, "cancelled", Some(t3)).await,
        Some(("processing".into(), true))
    );
    assert_eq!(
        note(1, "processing", Some(t2)).await,
        Some(("cancelled".into(), false))
    );
    assert_eq!(status(1).await, "cancelled");
    // The same time again is the same save (or one within the same second): kept.
    assert_eq!(
        note(1, "refunded", Some(t3)).await,
        Some(("cancelled".into(), true))
    );
    // A delivery without a time cannot show it is newer.
    assert_eq!(
        note(1, "on-hold", None).await,
        Some(("refunded".into(), false))
    );
    assert_eq!(status(1).await, "refunded");

    // The same status at a later time moves the time on: a late delivery of a change in
    // between is then older too.
    assert!(
        s.enqueue_order(new_order(2, Some(t1)))
            .await
            .expect("enqueue")
    );
    assert_eq!(
        note(2, "processing", Some(t3)).await,
        Some(("processing".into(), true))
    );
    assert_eq!(
        note(2, "on-hold", Some(t2)).await,
        Some(("processing".into(), false))
    );
    assert_eq!(status(2).await, "processing");

    // No time yet (a row from before times were kept): any status is taken, and the first
    // time given starts the order.
    assert!(s.enqueue_order(new_order(3, None)).await.expect("enqueue"));
    assert_eq!(
        note(3, "on-hold", None).await,
        Some(("processing".into(), true))
    );
    assert_eq!(
        note(3, "completed", Some(t2)).await,
        Some(("on-hold".into(), true))
    );
    assert_eq!(
        note(3, "on-hold", Some(t1)).await,
        Some(("completed".into(), false))
    );
    assert_eq!(status(3).await, "completed");

    // Kept across a reopen.
    drop(store);
    let store = store::open(url).await.expect("reopens");
    let noted = store
        .note_woo_status("con_a", 1, "processing", Some(t1))
        .await
        .expect("note");
    assert_eq!(
        noted.map(|n| (n.previous, n.kept)),
        Some(("refunded".into(), false))
    );
}

/// Issue 19: a NUL (which PostgreSQL's `text` cannot hold) or a bidi override in a store's
/// values is stored, on every backend, without failing the delivery, or the others committed
/// with it. SQLite keeps the NUL; PostgreSQL keeps U+FFFD in its place.
async fn odd_text_from_a_store_never_fails_a_delivery(url: &str) {
    let store = store::open(url).await.expect("opens");
    let s = &*store;
    connections(s, &["a", "b"]).await;
    let number = "N\u{202e}\u{0}1";
    let odd = NewOrder {
        connection_id: "con_a".into(),
        order_id: 1,
        order_number: number.into(),
        woo_status: "processing\u{0}".into(),
        woo_modified_at: None,
        source: Some(vec![0, 1, 2]),
    };
    let plain = NewOrder {
        connection_id: "con_b".into(),
        order_id: 2,
        order_number: "2".into(),
        woo_status: "processing".into(),
        woo_modified_at: None,
        source: None,
    };
    // Delivered together, so a group commit may take both in one statement.
    let (odd_in, plain_in) = tokio::join!(s.enqueue_order(odd), s.enqueue_order(plain));
    assert!(odd_in.expect("the odd order is stored"));
    assert!(plain_in.expect("the plain order is stored"));
    let read = order(s, "con_a", 1).await;
    assert!(
        read.order_number == number || read.order_number == number.replace('\0', "\u{fffd}"),
        "{:?}",
        read.order_number
    );
    assert_eq!(
        read.source,
        Some(vec![0, 1, 2]),
        "the body keeps every byte"
    );
    assert_eq!(order(s, "con_b", 2).await.order_number, "2");
    let noted = s
        .note_woo_status("con_a", 1, "on-hold\u{0}", None)
        .await
        .expect("noted");
    assert!(noted.is_some_and(|n| n.kept));
}
