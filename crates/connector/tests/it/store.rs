//! The storage conformance suite: the same story on every backend.
//!
//! SQLite always; PostgreSQL joins when its backend lands and `TTWC_TEST_POSTGRES_URL` is set.

use std::sync::Arc;

use connector::store::{self, ConnectionRow, ConnectionState, Installation, SessionRow, Store};
use time::Duration;

async fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = store::open(&url).await.expect("opens");
    (dir, store)
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
    }
}

async fn story(store: Arc<dyn Store>) {
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
    session.tt_token = Some(vec![9, 9]);
    session.wizard = Some(vec![8]);
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
    store.delete_session("h1").await.expect("delete");
    assert_eq!(store.session("h1").await.expect("read"), None);

    // Connections: insert, read back equal, owner filter.
    let a = connection("con_a", "DEMO:1", "https://a.example");
    let b = connection("con_b", "DEMO:2", "https://b.example");
    assert_eq!(store.upsert_connection(&a).await.expect("insert a"), a);
    store.upsert_connection(&b).await.expect("insert b");
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
    let mine = store.connections(Some("DEMO:1")).await.expect("list");
    assert_eq!(
        mine.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["con_a"]
    );
    assert_eq!(store.connections(None).await.expect("list").len(), 2);

    // Reconnecting a store replaces it in place: same id and creation time, new credentials.
    store
        .add_activity("con_a", "sent", "Pedido #1001 enviado")
        .await
        .expect("activity");
    let mut disconnected = a.clone();
    disconnected.state = ConnectionState::Disconnected;
    disconnected.disconnected_at = Some(store::now());
    disconnected.integration_token = None;
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
    assert_eq!(store.connection("con_new").await.expect("read"), None);
    let history = store.activity("con_a", 10).await.expect("activity");
    assert_eq!(history.len(), 1, "history survives the reconnect");

    // Activity is newest first and limited.
    store
        .add_activity("con_a", "sent", "Pedido #1002 enviado")
        .await
        .expect("activity");
    store
        .add_activity("con_a", "sent", "Pedido #1003 enviado")
        .await
        .expect("activity");
    let recent = store.activity("con_a", 2).await.expect("activity");
    assert_eq!(
        recent
            .iter()
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>(),
        ["Pedido #1003 enviado", "Pedido #1002 enviado"]
    );

    store.ready().await.expect("ready");
}

#[tokio::test]
async fn sqlite_passes_the_storage_story() {
    let (_dir, store) = sqlite().await;
    story(store).await;
}

#[tokio::test]
async fn sqlite_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let a = connection("con_a", "DEMO:1", "https://a.example");
    {
        let store = store::open(&url).await.expect("opens");
        store.upsert_connection(&a).await.expect("insert");
    }
    let store = store::open(&url)
        .await
        .expect("reopens; migrations are idempotent");
    assert_eq!(store.connection("con_a").await.expect("read"), Some(a));
}

#[tokio::test]
async fn unknown_database_urls_are_a_clear_error() {
    let err = store::open("mysql://localhost/ttwc")
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("mysql://localhost/ttwc"), "{err}");
}
