//! The SQLite backend: one file in WAL mode, `synchronous=FULL` by default, embedded migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use super::{
    ActivityRow, ConnectionRow, ConnectionState, Finished, Installation, NewOrder, NotedStatus,
    OrderFilter, OrderRow, OrderState, OutboxSummary, PayloadToSave, Result, SessionRow, Store,
    StoreError, Text, WritebackEnd, WritebackRow,
};

mod times;
mod writer;

#[cfg(test)]
mod time_tests;

use times::Stored;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads.
    pool: SqlitePool,
    /// The writes other than the writer thread's, on one connection: in WAL mode a connection
    /// empties its page cache whenever it finds that another one has written since its last
    /// transaction, so writes spread over a pool read every page afresh. Writes are serialized
    /// by `write_lock` anyway; take both with `write()`.
    writes: SqlitePool,
    /// The writer thread: new orders (group-committed) and the engine's writes.
    writer: writer::Writer,
    /// Set when the writer's last commit failed for want of room (SQLITE_FULL).
    full: Arc<AtomicBool>,
    /// Held by every write. SQLite has one writer at a time, and a connection that finds the
    /// write lock taken sleeps in its busy handler (1, 2, 5, 10 … ms) instead of waking when
    /// the lock frees: in the drain benchmark that made each of the engine's commits wait
    /// ~5 ms behind the others. Queued on this lock, the next writer goes the moment the
    /// previous one commits; the busy handler is left for other processes.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// The write lock, held, and the connection every write of this store goes through.
    async fn write(&self) -> (tokio::sync::MutexGuard<'_, ()>, &SqlitePool) {
        (self.write_lock.lock().await, &self.writes)
    }
}

/// Whether `e` is SQLite saying the database (or its disk) is full.
fn is_full(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("13"))
}

/// How often the checkpointer copies what was committed since it last looked. Each run syncs
/// the WAL and the database file: every 20 ms cost the 100,000-order drain 10 % (4,732 →
/// 4,042–4,260 orders/s), every 100 ms 3 % (4,579), for the same ingest latency.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Copies committed pages from the WAL into the database file as they come, on a connection of
/// its own. Left to SQLite's automatic checkpoint, the commit that crossed 10,000 WAL pages
/// copied all of them (~40 MB) and synced the file while it held the write lock, and every
/// delivery in the next batch waited: closed-loop ingest p99 17–19 ms, open-loop up to 22 ms at
/// 2,000 deliveries/s. A PASSIVE checkpoint runs beside the writer and never waits for it. It
/// cannot restart the WAL, though (a writer does that when it starts a transaction with every
/// page copied, which a steady stream of commits never does), so the automatic checkpoint
/// stays, and only finds the pages of the last 100 ms left to copy.
async fn checkpointer(mut connection: SqliteConnection) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut connection)
            .await
        {
            Ok(_) => failing = false,
            // Said once per run of failures, not ten times a second.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "SQLite checkpoint failed; the WAL grows until one succeeds");
            }
            Err(_) => {}
        }
    }
}

/// ttwc's own options in a SQLite URL's query, taken out before sqlx reads the rest:
/// `synchronous=full|normal` (durability: FULL, the default, syncs the WAL at every commit;
/// NORMAL may lose the last commits on a power cut, never on a crash of ttwc alone) and
/// `max_page_count=N` (a size cap: past it writes fail as on a full disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    pub synchronous: SqliteSynchronous,
    pub max_page_count: Option<u64>,
}

/// Splits ttwc's options from `url`, returning the URL sqlx gets and the options.
pub fn split_options(url: &str) -> Result<(String, SqliteOptions)> {
    let mut options = SqliteOptions {
        synchronous: SqliteSynchronous::Full,
        max_page_count: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), options));
    };
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "synchronous" => {
                options.synchronous = match value.to_ascii_lowercase().as_str() {
                    "full" => SqliteSynchronous::Full,
                    "normal" => SqliteSynchronous::Normal,
                    _ => {
                        return Err(StoreError::BadOption {
                            option: "synchronous",
                            value: value.to_owned(),
                            expected: "use full (the default) or normal",
                        });
                    }
                }
            }
            "max_page_count" => {
                options.max_page_count =
                    Some(value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        StoreError::BadOption {
                            option: "max_page_count",
                            value: value.to_owned(),
                            expected: "a whole number of pages above 0",
                        }
                    })?)
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, options))
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let (sqlx_url, extra) = split_options(url)?;
        let mut options = SqliteConnectOptions::from_str(&sqlx_url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(extra.synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // A connection's own checkpoint after a commit that leaves 10,000 pages (~40 MB) in
            // the WAL: by then the checkpointer has copied all but the last 100 ms or so of
            // them, and this one lets the WAL start again from the top (see `checkpointer`).
            .pragma("wal_autocheckpoint", "10000");
        if let Some(pages) = extra.max_page_count {
            // A per-connection setting: every pooled connection gets it.
            options = options.pragma("max_page_count", pages.to_string());
        }
        owner_only(options.get_filename()).map_err(|e| open_err(sqlx::Error::Io(e)))?;
        // The file is made, switched to WAL and migrated by one connection alone, before the
        // pool opens several at once: a benchmark once saw a fresh database refuse to open with
        // "database is locked" while the pool's first connections raced to set it up.
        {
            let mut first = SqliteConnection::connect_with(&options)
                .await
                .map_err(open_err)?;
            MIGRATOR.run(&mut first).await?;
            first.close().await.map_err(open_err)?;
        }
        // Connections stay open: when the last one closes SQLite checkpoints and removes the
        // WAL, and the next opener's recovery briefly locks out every reader.
        let pool = |size| {
            SqlitePoolOptions::new()
                .max_connections(size)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
        };
        let reads = pool(8).await.map_err(open_err)?;
        let writes = pool(1).await.map_err(open_err)?;
        let checkpoints = SqliteConnection::connect_with(&options)
            .await
            .map_err(open_err)?;
        let full = Arc::new(AtomicBool::new(false));
        let write_lock = Arc::new(tokio::sync::Mutex::new(()));
        // On the caller's runtime, not the writer's thread: the writer blocks that thread in
        // SQLite for each batch, so a task there would run only between batches.
        let checkpoints = tokio::spawn(checkpointer(checkpoints)).abort_handle();
        let writer = writer::Writer::start(
            options.get_filename(),
            &extra,
            write_lock.clone(),
            full.clone(),
            checkpoints.clone(),
        )
        .inspect_err(|_| checkpoints.abort())?;
        Ok(SqliteStore {
            pool: reads,
            writes,
            writer,
            full,
            write_lock,
        })
    }
}

/// Keeps the database file and its `-wal` and `-shm` readable and writable by their owner only
/// (0600), like the key file: they hold customers' names and addresses and the sealed secrets.
/// SQLite creates `-wal` and `-shm` with the database file's own permissions (whatever the
/// umask), so the file is created 0600 here before SQLite first opens it (an empty file is an
/// empty database); files an older version left readable by others are tightened, and the
/// operator told. A file ttwc may not change (another user's) is left as it is, with a warning.
#[cfg(unix)]
fn owner_only(db: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // An in-memory database (sqlx names it `file:…`) has no file.
    if db.as_os_str().is_empty() || db.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(db)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::Path::new(&name);
        let mode = match std::fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if mode & 0o077 == 0 {
            continue;
        }
        let tight = std::fs::Permissions::from_mode(mode & 0o700);
        match std::fs::set_permissions(path, tight) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                was = format!("{mode:04o}"),
                now = format!("{:04o}", mode & 0o700),
                "a database file was readable by others: now by its owner only"
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:04o}"),
                error = %e,
                "a database file is readable by others and ttwc cannot change that: make it 0600"
            ),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_db: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// The connection columns, as a macro so queries stay static strings.
macro_rules! connection_columns {
    () => {
        "id, owner, owner_email, tenant_code, tenant_name, api_base_url, \
    store_url, device_id, tt_store_id, tt_store_name, customer_id, integration_token, \
    woo_consumer_key, woo_consumer_secret, woo_permissions, webhook_id, webhook_secret, state, \
    trigger_status, mark_completed, notify_customer, created_at, connected_at, disconnected_at, \
    updated_at, last_sent_at, last_error, last_error_at, store_timezone, store_utc_offset, \
    store_language, order_id_at_connect"
    };
}

/// The connection columns an update writes: all but `order_id_at_connect`, which only a
/// (re)connect and `set_order_id_at_connect` write, so an update from a row read before the
/// first reconcile read it does not erase it.
macro_rules! updated_connection_columns {
    () => {
        "id, owner, owner_email, tenant_code, tenant_name, api_base_url, \
    store_url, device_id, tt_store_id, tt_store_name, customer_id, integration_token, \
    woo_consumer_key, woo_consumer_secret, woo_permissions, webhook_id, webhook_secret, state, \
    trigger_status, mark_completed, notify_customer, created_at, connected_at, disconnected_at, \
    updated_at, last_sent_at, last_error, last_error_at, store_timezone, store_utc_offset, \
    store_language"
    };
}

/// Time column `column` of a row read from `table`: never NULL (see `times`).
fn time_at(row: &SqliteRow, table: &str, column: &str) -> Result<OffsetDateTime> {
    times::decode_required(table, column, row.try_get(column)?)
}

/// Time column `column` of a row read from `table`, or NULL.
fn time_or_none(row: &SqliteRow, table: &str, column: &str) -> Result<Option<OffsetDateTime>> {
    times::decode_or_none(table, column, row.try_get(column)?)
}

fn connection_from_row(row: &SqliteRow) -> Result<ConnectionRow> {
    let time_at = |column| time_at(row, "connections", column);
    let time_or_none = |column| time_or_none(row, "connections", column);
    let state: String = row.try_get("state")?;
    Ok(ConnectionRow {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        owner_email: row.try_get("owner_email")?,
        tenant_code: row.try_get("tenant_code")?,
        tenant_name: row.try_get("tenant_name")?,
        api_base_url: row.try_get("api_base_url")?,
        store_url: row.try_get("store_url")?,
        device_id: row.try_get("device_id")?,
        tt_store_id: row.try_get("tt_store_id")?,
        tt_store_name: row.try_get("tt_store_name")?,
        customer_id: row.try_get("customer_id")?,
        integration_token: row.try_get("integration_token")?,
        woo_consumer_key: row.try_get("woo_consumer_key")?,
        woo_consumer_secret: row.try_get("woo_consumer_secret")?,
        woo_permissions: row.try_get("woo_permissions")?,
        webhook_id: row.try_get("webhook_id")?,
        webhook_secret: row.try_get("webhook_secret")?,
        state: ConnectionState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown connection state {state:?}")))?,
        trigger_status: row.try_get("trigger_status")?,
        mark_completed: row.try_get("mark_completed")?,
        notify_customer: row.try_get("notify_customer")?,
        created_at: time_at("created_at")?,
        connected_at: time_or_none("connected_at")?,
        disconnected_at: time_or_none("disconnected_at")?,
        updated_at: time_at("updated_at")?,
        last_sent_at: time_or_none("last_sent_at")?,
        last_error: row.try_get("last_error")?,
        last_error_at: time_or_none("last_error_at")?,
        order_id_at_connect: row.try_get("order_id_at_connect")?,
        store_timezone: row.try_get("store_timezone")?,
        store_utc_offset: row.try_get("store_utc_offset")?,
        store_language: row.try_get("store_language")?,
    })
}

macro_rules! order_columns {
    () => {
        "connection_id, order_id, order_number, state, attempts, run_at, lease_owner, lease_until, source, payload, \
         last_error, last_error_at, tt_id, tracking_id, tt_status, tt_status_name, tt_updated_at, woo_status, \
         created_at, first_attempt_at, sent_at"
    };
}

// After `order_columns!`, which its claim uses.
mod engine;

fn order_from_row(row: &SqliteRow) -> Result<OrderRow> {
    let time_at = |column| time_at(row, "orders", column);
    let time_or_none = |column| time_or_none(row, "orders", column);
    let state: String = row.try_get("state")?;
    Ok(OrderRow {
        connection_id: row.try_get("connection_id")?,
        order_id: row.try_get("order_id")?,
        order_number: row.try_get("order_number")?,
        state: OrderState::stored(&state)?,
        attempts: row.try_get("attempts")?,
        run_at: time_at("run_at")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: time_or_none("lease_until")?,
        source: row.try_get("source")?,
        payload: row.try_get("payload")?,
        last_error: row.try_get("last_error")?,
        last_error_at: time_or_none("last_error_at")?,
        tt_id: row.try_get("tt_id")?,
        tracking_id: row.try_get("tracking_id")?,
        tt_status: row.try_get("tt_status")?,
        tt_status_name: row.try_get("tt_status_name")?,
        tt_updated_at: row.try_get("tt_updated_at")?,
        woo_status: row.try_get("woo_status")?,
        created_at: time_at("created_at")?,
        first_attempt_at: time_or_none("first_attempt_at")?,
        sent_at: time_or_none("sent_at")?,
    })
}

/// The insert of a session row, for the pool or a transaction.
fn insert_session(
    s: &SessionRow,
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, last_seen_at, owner, user_json, tt_token, wizard) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id_hash.clone())
    .bind(s.csrf_token.clone())
    .bind(Stored(s.created_at))
    .bind(Stored(s.last_seen_at))
    .bind(s.owner.clone())
    .bind(s.user_json.clone())
    .bind(s.tt_token.clone())
    .bind(s.wizard.clone())
}

fn session_from_row(row: &SqliteRow) -> Result<SessionRow> {
    Ok(SessionRow {
        id_hash: row.try_get("id_hash")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: time_at(row, "sessions", "created_at")?,
        last_seen_at: time_at(row, "sessions", "last_seen_at")?,
        owner: row.try_get("owner")?,
        user_json: row.try_get("user_json")?,
        tt_token: row.try_get("tt_token")?,
        wizard: row.try_get("wizard")?,
    })
}

/// Orders per statement when they are written in batches (well inside SQLite's limit of
/// bound parameters).
const BATCH_CHUNK: usize = 128;

/// Retries made due per statement by `release_retries`.
const RELEASE_CHUNK: i64 = 1_000;

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn installation(&self, candidate: &Installation) -> Result<Installation> {
        let (_writing, writes) = self.write().await;
        sqlx::query("INSERT INTO installation (id, salt, key_id, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(&candidate.salt)
            .bind(&candidate.key_id)
            .bind(Stored(candidate.created_at))
            .execute(writes)
            .await?;
        let row = sqlx::query("SELECT salt, key_id, created_at FROM installation WHERE id = 1")
            .fetch_one(writes)
            .await?;
        Ok(Installation {
            salt: row.try_get("salt")?,
            key_id: row.try_get("key_id")?,
            created_at: time_at(&row, "installation", "created_at")?,
        })
    }

    async fn has_installation(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM installation")
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        let (_writing, writes) = self.write().await;
        insert_session(s).execute(writes).await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn update_session(&self, s: &SessionRow) -> Result<()> {
        let (_writing, writes) = self.write().await;
        sqlx::query(
            "UPDATE sessions SET csrf_token = ?, last_seen_at = ?, owner = ?, user_json = ?, tt_token = ?, wizard = ? \
             WHERE id_hash = ?",
        )
        .bind(&s.csrf_token)
        .bind(Stored(s.last_seen_at))
        .bind(&s.owner)
        .bind(&s.user_json)
        .bind(&s.tt_token)
        .bind(&s.wizard)
        .bind(&s.id_hash)
        .execute(writes)
        .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let (_writing, writes) = self.write().await;
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(writes)
            .await?;
        Ok(())
    }

    async fn replace_session(&self, old_id_hash: &str, session: &SessionRow) -> Result<()> {
        let (_writing, writes) = self.write().await;
        let mut tx = writes.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(old_id_hash)
            .execute(&mut *tx)
            .await?;
        insert_session(session).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_sessions(&self, idle_before: OffsetDateTime) -> Result<u64> {
        let (_writing, writes) = self.write().await;
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ?")
            .bind(Stored(idle_before))
            .execute(writes)
            .await?;
        Ok(done.rows_affected())
    }

    async fn upsert_connection(&self, c: &ConnectionRow) -> Result<ConnectionRow> {
        let (_writing, writes) = self.write().await;
        let sql = concat!(
            "INSERT INTO connections (",
            connection_columns!(),
            ") \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (store_url) DO UPDATE SET \
               owner = excluded.owner, owner_email = excluded.owner_email, tenant_code = excluded.tenant_code, \
               tenant_name = excluded.tenant_name, api_base_url = excluded.api_base_url, \
               device_id = excluded.device_id, tt_store_id = excluded.tt_store_id, tt_store_name = excluded.tt_store_name, \
               customer_id = excluded.customer_id, integration_token = excluded.integration_token, \
               woo_consumer_key = excluded.woo_consumer_key, woo_consumer_secret = excluded.woo_consumer_secret, \
               woo_permissions = excluded.woo_permissions, webhook_id = excluded.webhook_id, \
               webhook_secret = excluded.webhook_secret, state = excluded.state, \
               connected_at = excluded.connected_at, disconnected_at = NULL, updated_at = excluded.updated_at, \
               store_timezone = excluded.store_timezone, store_utc_offset = excluded.store_utc_offset, \
               store_language = excluded.store_language, last_error = NULL, last_error_at = NULL, \
               order_id_at_connect = excluded.order_id_at_connect \
             RETURNING ",
            connection_columns!()
        );
        let row = bind_connection(sqlx::query(sql), c)
            .bind(c.order_id_at_connect)
            .fetch_one(writes)
            .await?;
        connection_from_row(&row)
    }

    async fn update_connection(&self, c: &ConnectionRow) -> Result<()> {
        let (_writing, writes) = self.write().await;
        // One column list and one binder for insert and update (the row's id and store URL are
        // written back unchanged).
        let sql = concat!(
            "UPDATE connections SET (",
            updated_connection_columns!(),
            ") = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?"
        );
        bind_connection(sqlx::query(sql), c)
            .bind(&c.id)
            .execute(writes)
            .await?;
        Ok(())
    }

    async fn mark_needs_relogin(&self, id: &str, error: &crate::text::Text) -> Result<bool> {
        let (_writing, writes) = self.write().await;
        let now = Stored(super::now());
        let done = sqlx::query(
            "UPDATE connections SET state = 'needs_relogin', last_error = ?, last_error_at = ?, \
             updated_at = ? WHERE id = ? AND state = 'connected'",
        )
        .bind(error)
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(writes)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_webhook(&self, id: &str, webhook_id: i64, sealed_secret: &[u8]) -> Result<bool> {
        let (_writing, writes) = self.write().await;
        let done = sqlx::query(
            "UPDATE connections SET webhook_id = ?, webhook_secret = ?, updated_at = ? \
             WHERE id = ? AND state <> 'disconnected'",
        )
        .bind(webhook_id)
        .bind(sealed_secret)
        .bind(Stored(super::now()))
        .bind(id)
        .execute(writes)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_store_zone(
        &self,
        id: &str,
        timezone: Option<&str>,
        utc_offset: Option<i32>,
    ) -> Result<()> {
        let (_writing, writes) = self.write().await;
        sqlx::query("UPDATE connections SET store_timezone = ?, store_utc_offset = ? WHERE id = ?")
            .bind(timezone)
            .bind(utc_offset)
            .bind(id)
            .execute(writes)
            .await?;
        Ok(())
    }

    async fn connection(&self, id: &str) -> Result<Option<ConnectionRow>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE id = ?"
        );
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    async fn connections_by_id(&self, ids: &[&str]) -> Result<Vec<ConnectionRow>> {
        let mut rows = Vec::with_capacity(ids.len());
        // Within SQLite's limit on parameters per statement, whatever the batch.
        for chunk in ids.chunks(BATCH_CHUNK) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
                "SELECT ",
                connection_columns!(),
                " FROM connections WHERE id IN ("
            ));
            let mut list = query.separated(", ");
            for &id in chunk {
                list.push_bind(id);
            }
            query.push(")");
            for row in query.build().fetch_all(&self.pool).await? {
                rows.push(connection_from_row(&row)?);
            }
        }
        Ok(rows)
    }

    async fn connection_by_store_url(&self, store_url: &str) -> Result<Option<ConnectionRow>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE store_url = ?"
        );
        let row = sqlx::query(sql)
            .bind(store_url)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    async fn connections(&self, owner: Option<&str>) -> Result<Vec<ConnectionRow>> {
        let rows = match owner {
            Some(owner) => {
                let sql = concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections WHERE owner = ? ORDER BY created_at DESC, id"
                );
                sqlx::query(sql).bind(owner).fetch_all(&self.pool).await?
            }
            None => {
                let sql = concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections ORDER BY created_at DESC, id"
                );
                sqlx::query(sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(connection_from_row).collect()
    }

    async fn put_granted_keys(&self, grant_hash: &str, sealed: &[u8]) -> Result<bool> {
        let (_writing, writes) = self.write().await;
        let done = sqlx::query(
            "INSERT INTO granted_keys (grant_hash, sealed, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (grant_hash) DO NOTHING",
        )
        .bind(grant_hash)
        .bind(sealed)
        .bind(Stored(super::now()))
        .execute(writes)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn take_granted_keys(
        &self,
        grant_hash: &str,
        newer_than: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>> {
        let (_writing, writes) = self.write().await;
        // SQLite's RETURNING shows the row as updated (keys gone), so the keys are read first,
        // in the same transaction, under the process's write lock.
        let mut tx = writes.begin().await?;
        let sealed: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT CASE WHEN created_at > ? THEN sealed END FROM granted_keys WHERE grant_hash = ?",
        )
        .bind(Stored(newer_than))
        .bind(grant_hash)
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        sqlx::query(
            "UPDATE granted_keys SET sealed = NULL WHERE grant_hash = ? AND sealed IS NOT NULL",
        )
        .bind(grant_hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(sealed)
    }

    async fn purge_granted_keys(&self, created_before: OffsetDateTime) -> Result<u64> {
        let (_writing, writes) = self.write().await;
        let done = sqlx::query("DELETE FROM granted_keys WHERE created_at < ?")
            .bind(Stored(created_before))
            .execute(writes)
            .await?;
        Ok(done.rows_affected())
    }

    async fn add_activity(&self, connection_id: &str, kind: &str, message: &Text) -> Result<()> {
        let (_writing, writes) = self.write().await;
        sqlx::query("INSERT INTO activity (connection_id, at, kind, message) VALUES (?, ?, ?, ?)")
            .bind(connection_id)
            .bind(Stored(super::now()))
            .bind(kind)
            .bind(message)
            .execute(writes)
            .await?;
        Ok(())
    }

    async fn activity(&self, connection_id: &str, limit: u32) -> Result<Vec<ActivityRow>> {
        let rows = sqlx::query("SELECT id, connection_id, at, kind, message FROM activity WHERE connection_id = ? ORDER BY id DESC LIMIT ?")
            .bind(connection_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ActivityRow {
                    id: r.try_get("id")?,
                    connection_id: r.try_get("connection_id")?,
                    at: time_at(r, "activity", "at")?,
                    kind: r.try_get("kind")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }

    async fn queue_depth(&self, connection_id: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            // Through the orders still to send (`0003_ingest_indexes.sql`), not all of this
            // connection's.
            "SELECT COUNT(*) FROM orders INDEXED BY orders_due WHERE state IN ('queued', 'sending') AND connection_id = ?",
        )
        .bind(connection_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as u64)
    }

    async fn enqueue_order(&self, o: NewOrder) -> Result<bool> {
        self.writer.insert(o).await
    }

    async fn note_woo_status(
        &self,
        connection_id: &str,
        order_id: i64,
        status: &str,
        modified: Option<OffsetDateTime>,
    ) -> Result<Option<NotedStatus>> {
        // A read, then a write only when something changes, not one read-then-write
        // transaction: SQLite refuses (without waiting) to upgrade a reader to a writer while
        // another connection writes. The write checks the time again, so a newer status noted
        // in between is never replaced; two deliveries of one order racing here at worst both
        // see the same previous status.
        let found: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT woo_status, woo_modified_at FROM orders WHERE connection_id = ? AND order_id = ?",
        )
        .bind(connection_id)
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((previous, stored)) = found else {
            return Ok(None);
        };
        let stored = times::decode_or_none("orders", "woo_modified_at", stored.as_deref())?;
        // As the writer thread does: a time that cannot be stored sortably counts as none.
        let modified = modified.filter(|t| times::encode(*t).is_ok());
        let mut kept = super::status_is_current(stored, modified);
        if kept && super::status_note_writes(&previous, stored, status, modified) {
            let (_writing, writes) = self.write().await;
            let modified = modified.map(Stored);
            let done = sqlx::query(
                "UPDATE orders SET woo_status = ?, woo_modified_at = COALESCE(?, woo_modified_at) \
                 WHERE connection_id = ? AND order_id = ? \
                 AND (woo_modified_at IS NULL OR woo_modified_at <= ?)",
            )
            .bind(status)
            .bind(modified)
            .bind(connection_id)
            .bind(order_id)
            .bind(modified)
            .execute(writes)
            .await?;
            kept = done.rows_affected() == 1;
        }
        Ok(Some(NotedStatus { previous, kept }))
    }

    async fn claim_sends(
        &self,
        owner: &str,
        lease: time::Duration,
        limit: u32,
        per_connection: u32,
    ) -> Result<Vec<OrderRow>> {
        let now = super::now();
        let claim = engine::Claim {
            owner: owner.to_owned(),
            now,
            lease_until: now + lease,
            limit,
            per_connection,
        };
        self.writer
            .run(move |c| engine::claim_sends(c, &claim))
            .await
    }

    async fn save_payloads(&self, owner: &str, items: &[PayloadToSave<'_>]) -> Result<Vec<bool>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let owner = owner.to_owned();
        let items: Vec<engine::Payload> = items
            .iter()
            .map(|i| engine::Payload {
                connection_id: i.connection_id.to_owned(),
                order_id: i.order_id,
                payload: i.payload.to_vec(),
            })
            .collect();
        self.writer
            .run(move |c| engine::save_payloads(c, &owner, &items))
            .await
    }

    async fn finish_sends(&self, owner: &str, items: &[Finished<'_>]) -> Result<Vec<bool>> {
        let now = super::now();
        let owner = owner.to_owned();
        let items: Vec<engine::Outcome> = items
            .iter()
            .map(|i| engine::Outcome {
                connection_id: i.connection_id.to_owned(),
                order_id: i.order_id,
                outcome: i.outcome.clone(),
                activity: i.activity.map(|(k, m)| (k.to_owned(), m.clone())),
            })
            .collect();
        self.writer
            .run(move |c| engine::finish_sends(c, &owner, now, &items))
            .await
    }

    async fn outbox_summary(&self) -> Result<OutboxSummary> {
        let counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM orders GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let mut by_state = Vec::with_capacity(counts.len());
        for (state, n) in counts {
            let state = OrderState::stored(&state)?;
            by_state.push((state, u64::try_from(n).unwrap_or(0)));
        }
        let oldest_queued: Option<String> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM orders WHERE state = 'queued'")
                .fetch_one(&self.pool)
                .await?;
        let oldest_queued =
            times::decode_or_none("orders", "created_at", oldest_queued.as_deref())?;
        Ok(OutboxSummary {
            by_state,
            oldest_queued,
        })
    }

    async fn order(&self, connection_id: &str, order_id: i64) -> Result<Option<OrderRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders WHERE connection_id = ? AND order_id = ?"
        ))
        .bind(connection_id)
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(order_from_row).transpose()
    }

    async fn orders(&self, f: &OrderFilter) -> Result<Vec<OrderRow>> {
        let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders"
        ));
        f.push_where(&mut query);
        query
            .push(" ORDER BY created_at DESC, order_id DESC LIMIT ")
            .push_bind(if f.limit == 0 { -1 } else { i64::from(f.limit) })
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter().map(order_from_row).collect()
    }

    async fn count_orders(&self, f: &OrderFilter) -> Result<u64> {
        let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT COUNT(*) FROM orders");
        f.push_where(&mut query);
        let n: i64 = query.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(n.max(0) as u64)
    }

    async fn tracked_orders(
        &self,
        connection_id: &str,
        after_order_id: i64,
        limit: u32,
    ) -> Result<Vec<OrderRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders WHERE connection_id = ? AND state = 'sent' AND order_id > ?",
            " AND COALESCE(tt_status, '') NOT IN ('delivered', 'returned', 'cancelled')",
            " ORDER BY order_id LIMIT ?"
        ))
        .bind(connection_id)
        .bind(after_order_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(order_from_row).collect()
    }

    async fn update_tracking(
        &self,
        connection_id: &str,
        order_id: i64,
        status: &str,
        status_name: &str,
        updated_at: &str,
        writeback: &str,
    ) -> Result<()> {
        let (_writing, writes) = self.write().await;
        let mut tx = writes.begin().await?;
        sqlx::query(
            "UPDATE orders SET tt_status = ?, tt_status_name = ?, tt_updated_at = ? WHERE connection_id = ? AND order_id = ?",
        )
        .bind(status)
        .bind(status_name)
        .bind(updated_at)
        .bind(connection_id)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        let now = super::now();
        sqlx::query(
            "INSERT INTO writebacks (connection_id, order_id, body, state, run_at, created_at) VALUES (?, ?, ?, 'queued', ?, ?)",
        )
        .bind(connection_id)
        .bind(order_id)
        .bind(writeback)
        .bind(Stored(now))
        .bind(Stored(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn resend(&self, connection_id: &str, order_id: Option<i64>) -> Result<u64> {
        macro_rules! requeue {
            () => {
                "UPDATE orders SET state = 'queued', attempts = 0, run_at = ?1, source = NULL, \
                 payload = NULL, first_attempt_at = NULL, created_at = ?1, last_error = NULL, \
                 last_error_at = NULL"
            };
        }
        let (_writing, writes) = self.write().await;
        let now = super::now();
        let requeued = match order_id {
            // The failed ones are found through `orders_due` (by state), not among all of the
            // connection's orders (`0003_ingest_indexes.sql`).
            None => sqlx::query(concat!(
                requeue!(),
                " WHERE rowid IN (SELECT rowid FROM orders INDEXED BY orders_due",
                " WHERE state IN ('failed', 'rejected') AND connection_id = ?2)"
            ))
            .bind(Stored(now))
            .bind(connection_id),
            Some(order_id) => sqlx::query(concat!(
                requeue!(),
                " WHERE connection_id = ?2 AND order_id = ?3",
                " AND state IN ('failed', 'rejected', 'skipped', 'cancelled')"
            ))
            .bind(Stored(now))
            .bind(connection_id)
            .bind(order_id),
        };
        let done = requeued.execute(writes).await?;
        Ok(done.rows_affected())
    }

    async fn cancel_queue(&self, connection_id: &str) -> Result<u64> {
        let (_writing, writes) = self.write().await;
        let mut tx = writes.begin().await?;
        let done = sqlx::query(
            "UPDATE orders INDEXED BY orders_due SET state = 'cancelled', lease_owner = NULL, lease_until = NULL, source = NULL, payload = NULL \
             WHERE state IN ('queued', 'sending') AND connection_id = ?",
        )
        .bind(connection_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE writebacks SET state = 'cancelled' WHERE connection_id = ? AND state IN ('queued', 'running')")
            .bind(connection_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn claim_writebacks(
        &self,
        owner: &str,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<WritebackRow>> {
        let now = super::now();
        let owner = owner.to_owned();
        self.writer
            .run(move |c| engine::claim_writebacks(c, &owner, now, now + lease, limit))
            .await
    }

    async fn finish_writebacks(&self, owner: &str, ends: &[WritebackEnd<'_>]) -> Result<()> {
        if ends.is_empty() {
            return Ok(());
        }
        let now = super::now();
        let owner = owner.to_owned();
        let ends: Vec<engine::WritebackDone> = ends
            .iter()
            .map(|e| engine::WritebackDone {
                id: e.id,
                state: e.state(),
                retry_at: e.retry_at,
                error: e.error.map(str::to_owned),
                warning: e.warning.cloned(),
            })
            .collect();
        self.writer
            .run(move |c| engine::finish_writebacks(c, &owner, now, &ends))
            .await
    }

    async fn reconcile_cursor(&self, connection_id: &str) -> Result<Option<OffsetDateTime>> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT reconcile_cursor FROM connections WHERE id = ?")
                .bind(connection_id)
                .fetch_optional(&self.pool)
                .await?;
        times::decode_or_none("connections", "reconcile_cursor", v.flatten().as_deref())
    }

    async fn release_retries(&self, api_base_url: &str) -> Result<u64> {
        // In chunks, each under the write lock on its own: after an outage this is every queued
        // order, and one statement over 30,000 held the lock for 349 ms while nothing could be
        // claimed or recorded. Released orders leave the `run_at > now` range the next chunk
        // walks.
        let now = super::now();
        let mut released = 0;
        loop {
            let done = {
                let (_writing, writes) = self.write().await;
                sqlx::query(
                    "UPDATE orders SET run_at = ?1 WHERE rowid IN ( \
                       SELECT rowid FROM orders WHERE state = 'queued' AND run_at > ?1 AND attempts > 0 \
                       AND connection_id IN (SELECT id FROM connections WHERE api_base_url = ?2 AND state = 'connected') \
                       LIMIT ?3)",
                )
                .bind(Stored(now))
                .bind(api_base_url)
                .bind(RELEASE_CHUNK)
                .execute(writes)
                .await?
                .rows_affected()
            };
            released += done;
            if done < RELEASE_CHUNK as u64 {
                return Ok(released);
            }
        }
    }

    async fn set_order_id_at_connect(&self, connection_id: &str, order_id: i64) -> Result<bool> {
        let (_writing, writes) = self.write().await;
        let done = sqlx::query(
            "UPDATE connections SET order_id_at_connect = ? WHERE id = ? AND order_id_at_connect IS NULL",
        )
        .bind(order_id)
        .bind(connection_id)
        .execute(writes)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn note_left_out(
        &self,
        connection_id: &str,
        order_id: i64,
        message: &Text,
    ) -> Result<bool> {
        let (_writing, writes) = self.write().await;
        let now = super::now();
        let mut tx = writes.begin().await?;
        let noted = sqlx::query(
            "INSERT INTO left_out_orders (connection_id, order_id, noted_at) \
             SELECT ?1, ?2, ?3 WHERE NOT EXISTS \
               (SELECT 1 FROM orders WHERE connection_id = ?1 AND order_id = ?2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(connection_id)
        .bind(order_id)
        .bind(Stored(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if noted {
            sqlx::query(
                "INSERT INTO activity (connection_id, at, kind, message) VALUES (?, ?, 'left_out', ?)",
            )
            .bind(connection_id)
            .bind(Stored(now))
            .bind(message)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(noted)
    }

    async fn set_reconcile_cursor(
        &self,
        connection_id: &str,
        cursor: OffsetDateTime,
    ) -> Result<()> {
        let (_writing, writes) = self.write().await;
        sqlx::query("UPDATE connections SET reconcile_cursor = ? WHERE id = ?")
            .bind(Stored(cursor))
            .bind(connection_id)
            .execute(writes)
            .await?;
        Ok(())
    }

    async fn webhook_status(&self, connection_id: &str) -> Result<Option<String>> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT webhook_status FROM connections WHERE id = ?")
                .bind(connection_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.flatten())
    }

    async fn set_webhook_status(
        &self,
        connection_id: &str,
        status: &str,
    ) -> Result<Option<String>> {
        let (_writing, writes) = self.write().await;
        let mut tx = writes.begin().await?;
        let before: Option<Option<String>> =
            sqlx::query_scalar("SELECT webhook_status FROM connections WHERE id = ?")
                .bind(connection_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("UPDATE connections SET webhook_status = ? WHERE id = ?")
            .bind(status)
            .bind(connection_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(before.flatten())
    }

    async fn try_lease(&self, name: &str, owner: &str, ttl: time::Duration) -> Result<bool> {
        let (_writing, writes) = self.write().await;
        let now = super::now();
        let done = sqlx::query(
            "INSERT INTO leases (name, owner, until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
             WHERE leases.owner = excluded.owner OR leases.until <= ?4",
        )
        .bind(name)
        .bind(owner)
        .bind(Stored(now + ttl))
        .bind(Stored(now))
        .execute(writes)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        let expected = MIGRATOR.iter().count() as i64;
        if applied < expected {
            return Err(StoreError::Corrupt(format!(
                "{applied} of {expected} migrations applied"
            )));
        }
        if self.full.load(Ordering::Relaxed) {
            // Deliveries were refused for want of room: ready again only once a real write of
            // a few pages commits (so a freed disk is noticed without waiting for traffic).
            let probe = async {
                let (_writing, writes) = self.write().await;
                sqlx::query(
                    "INSERT INTO leases (name, owner, until) VALUES ('ttwc-readyz-probe', ?, '') \
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner",
                )
                .bind("x".repeat(16 * 1024))
                .execute(writes)
                .await?;
                sqlx::query("DELETE FROM leases WHERE name = 'ttwc-readyz-probe'")
                    .execute(writes)
                    .await?;
                Ok::<(), StoreError>(())
            };
            match probe.await {
                Ok(()) => self.full.store(false, Ordering::Relaxed),
                Err(e) if is_full(&e) => return Err(StoreError::Full),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn bind_connection<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    c: &'q ConnectionRow,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    q.bind(&c.id)
        .bind(&c.owner)
        .bind(&c.owner_email)
        .bind(&c.tenant_code)
        .bind(&c.tenant_name)
        .bind(&c.api_base_url)
        .bind(&c.store_url)
        .bind(&c.device_id)
        .bind(&c.tt_store_id)
        .bind(&c.tt_store_name)
        .bind(&c.customer_id)
        .bind(&c.integration_token)
        .bind(&c.woo_consumer_key)
        .bind(&c.woo_consumer_secret)
        .bind(&c.woo_permissions)
        .bind(c.webhook_id)
        .bind(&c.webhook_secret)
        .bind(c.state.as_str())
        .bind(&c.trigger_status)
        .bind(c.mark_completed)
        .bind(c.notify_customer)
        .bind(Stored(c.created_at))
        .bind(c.connected_at.map(Stored))
        .bind(c.disconnected_at.map(Stored))
        .bind(Stored(c.updated_at))
        .bind(c.last_sent_at.map(Stored))
        .bind(&c.last_error)
        .bind(c.last_error_at.map(Stored))
        .bind(&c.store_timezone)
        .bind(c.store_utc_offset)
        .bind(&c.store_language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttwc_options_are_taken_out_of_the_url() {
        let (url, o) = split_options("sqlite://ttwc.db").unwrap();
        assert_eq!(url, "sqlite://ttwc.db");
        assert_eq!(o.synchronous, SqliteSynchronous::Full);
        assert_eq!(o.max_page_count, None);

        let (url, o) =
            split_options("sqlite://ttwc.db?mode=rwc&synchronous=NORMAL&max_page_count=500")
                .unwrap();
        assert_eq!(url, "sqlite://ttwc.db?mode=rwc");
        assert_eq!(o.synchronous, SqliteSynchronous::Normal);
        assert_eq!(o.max_page_count, Some(500));

        let (url, _) = split_options("sqlite://ttwc.db?synchronous=full").unwrap();
        assert_eq!(url, "sqlite://ttwc.db");
    }

    #[test]
    fn bad_options_name_the_value() {
        for (url, named) in [
            ("sqlite://t.db?synchronous=off", "synchronous=\"off\""),
            (
                "sqlite://t.db?max_page_count=lots",
                "max_page_count=\"lots\"",
            ),
            ("sqlite://t.db?max_page_count=0", "max_page_count=\"0\""),
        ] {
            let e = split_options(url).unwrap_err().to_string();
            assert!(e.contains(named), "{url}: {e}");
        }
    }

    /// The orders list and count read through an index for each filter: a store's orders
    /// through the primary key, a state's through `orders_due`; only "every order" scans.
    #[tokio::test]
    async fn order_filters_are_answered_from_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let filters = [
            (Some("con_a"), None, "sqlite_autoindex_orders_1"),
            (None, Some(OrderState::Queued), "orders_due"),
            (Some("con_a"), Some(OrderState::Failed), "INDEX"),
        ];
        for (connection_id, state, index) in filters {
            let filter = OrderFilter {
                connection_id: connection_id.map(str::to_owned),
                state,
                ..OrderFilter::default()
            };
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM orders",
            );
            filter.push_where(&mut query);
            let plan: Vec<String> = query
                .build()
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .iter()
                .map(|row| row.get::<String, _>("detail"))
                .collect();
            let plan = plan.join("; ");
            assert!(
                plan.contains(index) && !plan.contains("SCAN"),
                "{filter:?}: {plan}"
            );
        }
    }
}
