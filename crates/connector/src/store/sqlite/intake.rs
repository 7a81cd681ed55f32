//! New orders into the SQLite outbox: group commit by one writer with a connection of its own.
//!
//! With `synchronous=FULL` every commit waits for the disk, and SQLite has one writer at a time,
//! so deliveries arriving together are inserted by one thread in one transaction, and each
//! request is answered after *its* commit. A lone delivery still commits at once: the writer
//! takes whatever is waiting, without lingering for more.
//!
//! The writer calls SQLite directly on its thread (rusqlite), not through sqlx: sqlx runs each
//! SQLite connection on a worker thread of its own and hands every statement to it and the
//! answer back, and at ingest rates those hand-offs, with the statement built and prepared
//! again for every batch, cost about as much CPU as SQLite's own work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use tokio::sync::mpsc;

use super::SqliteOptions;
use crate::store::{NewOrder, Pending, Result, StoreError, answer_batch};

/// The most orders one commit takes.
const BATCH_MAX: usize = 256;

/// Where the store sends new orders.
#[derive(Debug, Clone)]
pub(super) struct Intake {
    orders: mpsc::Sender<Pending>,
}

impl Intake {
    /// Opens the writer's connection to `path` (migrated already) and starts its thread, which
    /// aborts `beside` (the checkpointer's task) when it ends with the store. `lock` is held by
    /// every write of the store, the writer's included; `full` is set when the writer's last
    /// commit failed for want of room (SQLITE_FULL), and cleared when one works.
    pub(super) fn start(
        path: &std::path::Path,
        options: &SqliteOptions,
        lock: Arc<tokio::sync::Mutex<()>>,
        full: Arc<AtomicBool>,
        beside: tokio::task::AbortHandle,
    ) -> Result<Intake> {
        let connection = open(path, options).map_err(|e| {
            StoreError::Shared(format!("cannot open the SQLite writer's connection: {e}"))
        })?;
        let (orders, rx) = mpsc::channel(4 * BATCH_MAX);
        let writer = Writer {
            connection,
            full,
            lock,
        };
        // A thread of its own: on the shared runtime, under load, the writer waited behind
        // hundreds of request tasks each time the database answered, and every delivery in the
        // batch waited with it.
        std::thread::Builder::new()
            .name("ttwc-sqlite-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(writer.run(rx)),
                    Err(e) => tracing::error!(error = %e, "cannot start the SQLite writer"),
                }
                beside.abort();
            })
            .map_err(|e| StoreError::Shared(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Intake { orders })
    }

    /// Commits `o` unless `orders` has it already, answering after the commit whether it was
    /// inserted.
    pub(super) async fn insert(&self, o: NewOrder) -> Result<bool> {
        crate::store::group_commit(&self.orders, o).await
    }
}

struct Writer {
    connection: rusqlite::Connection,
    full: Arc<AtomicBool>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Pending>) {
        let mut batch: Vec<Pending> = Vec::with_capacity(BATCH_MAX);
        while rx.recv_many(&mut batch, BATCH_MAX).await > 0 {
            let result = {
                let _writing = self.lock.lock().await;
                insert(&mut self.connection, &batch)
            };
            let full = result
                .as_ref()
                .is_err_and(|e| matches!(e, StoreError::Full));
            self.full.store(full, Ordering::Relaxed);
            answer_batch(&mut batch, result);
        }
    }
}

fn store_error(e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        StoreError::Full
    } else {
        StoreError::Shared(e.to_string())
    }
}

/// The batch in one transaction, one cached single-row statement per order. An order delivered
/// twice within one batch counts as inserted for its first delivery only.
fn insert(connection: &mut rusqlite::Connection, batch: &[Pending]) -> Result<Vec<bool>> {
    // Spelled as sqlx stores an `OffsetDateTime`, so the rest of the store compares and reads
    // it alike.
    let now = crate::store::now()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Shared(e.to_string()))?;
    let tx = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(store_error)?;
    let mut inserted = Vec::with_capacity(batch.len());
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO orders (connection_id, order_id, order_number, state, run_at, source, woo_status, created_at) \
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?4) ON CONFLICT (connection_id, order_id) DO NOTHING",
            )
            .map_err(store_error)?;
        for Pending { order: o, .. } in batch {
            let n = insert
                .execute(rusqlite::params![
                    o.connection_id,
                    o.order_id,
                    o.order_number,
                    now,
                    o.source,
                    o.woo_status,
                ])
                .map_err(store_error)?;
            inserted.push(n == 1);
        }
    }
    tx.commit().map_err(store_error)?;
    Ok(inserted)
}

/// The writer's connection, set up as the pool's are.
fn open(path: &std::path::Path, options: &SqliteOptions) -> rusqlite::Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    let synchronous = match options.synchronous {
        SqliteSynchronous::Normal => "NORMAL",
        _ => "FULL",
    };
    connection.pragma_update(None, "synchronous", synchronous)?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    // As the pool's connections: see `SqliteStore::open`.
    connection.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    if let Some(pages) = options.max_page_count {
        // Passed as text, which SQLite reads as the number (rusqlite has no u64 parameter).
        connection.pragma_update(None, "max_page_count", pages.to_string())?;
    }
    Ok(connection)
}
