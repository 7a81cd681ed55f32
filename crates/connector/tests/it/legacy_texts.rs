//! A database written before texts were coded — activity and errors as "español | English"
//! strings — opened by this version: on both backends every old text reads as a `legacy` text
//! holding its Spanish half, and a text without the separator is kept whole.

use connector::store;
use connector::text::{Lang, Text};
use sqlx::migrate::Migrator;

use crate::store::{PgSchema, postgres_url};

/// Rows as the versions before coded texts wrote them (their schema: migrations up to
/// `BEFORE_*`). One SQL text for both backends: booleans, blobs and ids left to defaults.
const OLD_ROWS: &str = "
INSERT INTO connections (id, owner, owner_email, tenant_code, tenant_name, api_base_url,
    store_url, device_id, tt_store_id, tt_store_name, state, created_at, updated_at,
    last_error, last_error_at)
VALUES ('con_old', 'DEMO:1', 'demo@trackingtech.test', 'DEMO', 'Demo', 'http://127.0.0.1:9',
    'https://tienda.example', 'dev1', '101', 'Bodega Central', 'needs_relogin',
    '2026-11-30T10:00:00Z', '2026-11-30T10:00:00.5Z',
    'TrackingTech no acepta la sesión de la tienda: vuelve a conectarla | TrackingTech refused the store''s token: reconnect it',
    '2026-11-30T10:00:01.25Z');
INSERT INTO orders (connection_id, order_id, order_number, state, run_at, last_error,
    last_error_at, created_at)
VALUES
    ('con_old', 1001, '1001', 'rejected', '2026-11-30T10:00:02Z',
     'El pedido #1001 no tiene ciudad o comuna de envío. | Order #1001 has no shipping city (comuna).',
     '2026-11-30T10:00:02Z', '2026-11-30T10:00:02Z'),
    ('con_old', 1002, '1002', 'queued', '2026-11-30T10:00:03.123Z',
     'WooCommerce: HTTP 502', '2026-11-30T10:00:03Z', '2026-11-30T10:00:03Z'),
    ('con_old', 1003, '1003', 'sent', '2026-11-30T10:00:04Z', NULL, NULL,
     '2026-11-30T10:00:04Z');
INSERT INTO activity (connection_id, at, kind, message)
VALUES
    ('con_old', '2026-11-30T10:00:00Z', 'connected', 'https://tienda.example → Bodega Central (DEMO)'),
    ('con_old', '2026-11-30T10:00:02Z', 'rejected',
     'Pedido #1001 rechazado: El pedido #1001 no tiene ciudad o comuna de envío. | Order #1001 has no shipping city (comuna).'),
    ('con_old', '2026-11-30T10:00:05Z', 'reconcile',
     'Reconciliación: 2 pedidos que no llegaron por webhook quedaron en cola | Reconcile queued 2 orders the webhook missed');
";

/// Every stored text column, raw.
const RAW_TEXTS: &str = "SELECT message FROM activity \
    UNION ALL SELECT last_error FROM orders WHERE last_error IS NOT NULL \
    UNION ALL SELECT last_error FROM connections WHERE last_error IS NOT NULL";

/// Each raw stored text is the coded form itself (not only readable through the fallback that
/// keeps an unmigrated row showing).
fn all_coded(raw: Vec<String>) {
    let mut codes: Vec<&str> = Vec::new();
    for stored in &raw {
        let text: Text = serde_json::from_str(stored)
            .unwrap_or_else(|e| panic!("{stored:?} is not a coded text: {e}"));
        assert!(!stored.contains(" | "), "{stored}");
        codes.push(text.code.as_str());
    }
    codes.sort_unstable();
    // The six old texts, and the one written after the migration.
    assert_eq!(
        codes,
        [
            "legacy",
            "legacy",
            "legacy",
            "legacy",
            "legacy",
            "legacy",
            "resend.queued"
        ],
        "{raw:?}"
    );
}

/// The last migration of each backend before texts were coded.
const BEFORE_SQLITE: i64 = 3;
const BEFORE_POSTGRES: i64 = 3;

async fn old_migrator(backend: &str) -> Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    Migrator::new(dir).await.expect("migrations")
}

/// A SQLite database as the old versions left it.
async fn old_sqlite(url: &str) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("old database");
    old_migrator("sqlite")
        .await
        .run_to(BEFORE_SQLITE, &pool)
        .await
        .expect("old schema");
    sqlx::raw_sql(sqlx::AssertSqlSafe(OLD_ROWS))
        .execute(&pool)
        .await
        .expect("old rows");
    pool.close().await;
}

/// A PostgreSQL schema as the old versions left it.
async fn old_postgres(url: &str) {
    let pool = sqlx::PgPool::connect(url).await.expect("old database");
    old_migrator("postgres")
        .await
        .run_to(BEFORE_POSTGRES, &pool)
        .await
        .expect("old schema");
    sqlx::raw_sql(sqlx::AssertSqlSafe(OLD_ROWS))
        .execute(&pool)
        .await
        .expect("old rows");
    pool.close().await;
}

async fn old_texts_read_as_their_spanish_half(url: &str) {
    let s = store::open(url)
        .await
        .expect("this version opens the old database");
    let conn = s
        .connection("con_old")
        .await
        .expect("read")
        .expect("the connection");
    assert_eq!(
        conn.last_error,
        Some(Text::legacy(
            "TrackingTech no acepta la sesión de la tienda: vuelve a conectarla"
        ))
    );
    let order = |id: i64| {
        let s = s.clone();
        async move {
            s.order("con_old", id)
                .await
                .expect("read")
                .expect("the order")
        }
    };
    assert_eq!(
        order(1001).await.last_error,
        Some(Text::legacy(
            "El pedido #1001 no tiene ciudad o comuna de envío."
        ))
    );
    assert_eq!(
        order(1002).await.last_error,
        Some(Text::legacy("WooCommerce: HTTP 502")),
        "a text without the separator is kept whole"
    );
    assert_eq!(order(1003).await.last_error, None);
    let activity: Vec<(String, Text)> = s
        .activity("con_old", 10)
        .await
        .expect("activity")
        .into_iter()
        .map(|a| (a.kind, a.message))
        .collect();
    assert_eq!(
        activity,
        [
            (
                "reconcile".to_owned(),
                Text::legacy(
                    "Reconciliación: 2 pedidos que no llegaron por webhook quedaron en cola"
                )
            ),
            (
                "rejected".to_owned(),
                Text::legacy(
                    "Pedido #1001 rechazado: El pedido #1001 no tiene ciudad o comuna de envío."
                )
            ),
            (
                "connected".to_owned(),
                Text::legacy("https://tienda.example → Bodega Central (DEMO)")
            ),
        ]
    );
    // One language wherever it is shown: an old text shows its Spanish half to everyone.
    for (_, text) in &activity {
        assert!(!text.render(Lang::En).contains(" | "));
    }
    // New texts are written beside the old ones, coded.
    let coded = Text::new(connector::text::Code::ResendQueued).with("count", 2i64);
    s.add_activity("con_old", "resend", &coded)
        .await
        .expect("add");
    let newest = s.activity("con_old", 1).await.expect("activity");
    assert_eq!(newest[0].message, coded);
}

#[tokio::test]
async fn an_old_sqlite_database_keeps_the_spanish_half_of_each_text() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    old_sqlite(&format!("{url}?mode=rwc")).await;
    old_texts_read_as_their_spanish_half(&url).await;
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
    all_coded(
        sqlx::query_scalar(RAW_TEXTS)
            .fetch_all(&pool)
            .await
            .expect("raw"),
    );
}

#[tokio::test]
async fn an_old_postgres_database_keeps_the_spanish_half_of_each_text() {
    let Some(server) =
        postgres_url("legacy_texts::an_old_postgres_database_keeps_the_spanish_half_of_each_text")
    else {
        return;
    };
    let schema = PgSchema::create(&server).await;
    old_postgres(&schema.url).await;
    old_texts_read_as_their_spanish_half(&schema.url).await;
    let pool = sqlx::PgPool::connect(&schema.url).await.expect("open");
    all_coded(
        sqlx::query_scalar(RAW_TEXTS)
            .fetch_all(&pool)
            .await
            .expect("raw"),
    );
}
