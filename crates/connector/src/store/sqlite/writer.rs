//! The SQLite store's writer thread: one connection of its own, called directly (rusqlite), for
//! the writes that come by the thousand — new orders, and the engine's claims and outcomes.
//!
//! New orders are group-committed: with `synchronous=FULL` every commit waits for the disk, and
//! SQLite has one writer at a time, so deliveries arriving together are inserted in one
//! transaction, and each request is answered after *its* commit. A lone delivery still commits
//! at once: the writer takes whatever is waiting, without lingering for more.
//!
//! The engine's writes come as jobs (a function of the connection), each run whole on this
//! thread; the caller waits for its answer.
//!
//! Why not sqlx: sqlx runs each SQLite connection on a worker thread of its own and hands every
//! statement, and every row of an answer, to it and back. At ingest rates those hand-offs, with
//! the statement built and prepared again for every batch, cost about as much CPU as SQLite's
//! own work; in the drain they were a third of the process's CPU (scheduler wake-ups and the
//! allocations of the rows in transit). Here a job is two hand-offs, however many statements and
//! rows it has. And one connection for all of them keeps its page cache: in WAL mode a
//! connection empties it whenever another connection has written since its last transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use tokio::sync::mpsc;

use super::SqliteOptions;
use crate::store::{NewOrder, Pending, Result, StoreError, answer_batch};

/// The most orders one commit takes.
const BATCH_MAX: usize = 256;

/// Work for the writer thread: run on its connection, with the store's write lock held.
type Job = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

/// Where the store sends new orders and the engine's writes.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    orders: mpsc::Sender<Pending>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// Opens the writer's connection to `path` (migrated already) and starts its thread, which
    /// aborts `beside` (the checkpointer's task) when it ends with the store. `lock` is held by
    /// every write of the store, the writer's included; `full` is set when the writer's last
    /// commit of new orders failed for want of room (SQLITE_FULL), and cleared when one works.
    pub(super) fn start(
        path: &std::path::Path,
        options: &SqliteOptions,
        lock: Arc<tokio::sync::Mutex<()>>,
        full: Arc<AtomicBool>,
        beside: tokio::task::AbortHandle,
    ) -> Result<Writer> {
        let connection = open(path, options).map_err(|e| {
            StoreError::Shared(format!("cannot open the SQLite writer's connection: {e}"))
        })?;
        let (orders, rx) = mpsc::channel(4 * BATCH_MAX);
        // Unbounded, as the callers are: each job's caller waits for its answer, so there are
        // never more jobs than the engine's writers at once.
        let (jobs, job_rx) = mpsc::unbounded_channel();
        let writer = Thread {
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
                    Ok(rt) => rt.block_on(writer.run(rx, job_rx)),
                    Err(e) => tracing::error!(error = %e, "cannot start the SQLite writer"),
                }
                beside.abort();
            })
            .map_err(|e| StoreError::Shared(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer { orders, jobs })
    }

    /// Commits `o` unless `orders` has it already, answering after the commit whether it was
    /// inserted.
    pub(super) async fn insert(&self, o: NewOrder) -> Result<bool> {
        crate::store::group_commit(&self.orders, o).await
    }

    /// Runs `job` on the writer's connection, with the store's write lock held, and answers
    /// what it returns. A caller that stops waiting does not stop the job: it runs whole or
    /// not at all, as a transaction.
    pub(super) async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |connection| {
                let _ = done.send(job(connection));
            }))
            .map_err(|_| StoreError::Shared("the SQLite writer has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError::Shared("the SQLite writer dropped this write (see the log)".into())
        })?
    }
}

struct Thread {
    connection: rusqlite::Connection,
    full: Arc<AtomicBool>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Thread {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Pending>,
        mut jobs: mpsc::UnboundedReceiver<Job>,
    ) {
        let mut batch: Vec<Pending> = Vec::with_capacity(BATCH_MAX);
        loop {
            // Whichever is waiting; when both are, either (tokio picks at random), so neither
            // new orders nor the engine waits behind a stream of the other.
            tokio::select! {
                n = rx.recv_many(&mut batch, BATCH_MAX) => {
                    if n == 0 {
                        break;
                    }
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
                Some(job) = jobs.recv() => {
                    let _writing = self.lock.lock().await;
                    // A job that panics fails alone: its caller's answer is dropped (an error
                    // there), its transaction rolled back as it unwinds, and the thread — every
                    // write of the store — goes on.
                    let connection = &mut self.connection;
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(connection))).is_err() {
                        tracing::error!("a SQLite write panicked; it was rolled back");
                    }
                }
            }
        }
    }
}

/// The batch in one transaction, one cached single-row statement per order. An order delivered
/// twice within one batch counts as inserted for its first delivery only.
fn insert(connection: &mut rusqlite::Connection, batch: &[Pending]) -> Result<Vec<bool>> {
    // Bound as text in the stored form (`times`), as every time this thread writes.
    let now = super::times::encode(crate::store::now())?;
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut inserted = Vec::with_capacity(batch.len());
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO orders (connection_id, order_id, order_number, state, run_at, source, woo_status, woo_modified_at, created_at) \
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?4) ON CONFLICT (connection_id, order_id) DO NOTHING",
            )
            ?;
        for Pending { order: o, .. } in batch {
            // A time SQLite cannot store in its sortable form (a year past 9999 from a store)
            // is left out rather than failing the batch: the status then gives way to any.
            let modified = o.woo_modified_at.and_then(|t| super::times::encode(t).ok());
            let n = insert.execute(rusqlite::params![
                o.connection_id,
                o.order_id,
                o.order_number,
                now,
                o.source,
                o.woo_status,
                modified,
            ])?;
            inserted.push(n == 1);
        }
    }
    tx.commit()?;
    Ok(inserted)
}

/// The writer's connection, set up as the pool's are.
fn open(path: &std::path::Path, options: &SqliteOptions) -> rusqlite::Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    // Room for every statement the writer runs (the default keeps 16).
    connection.set_prepared_statement_cache_capacity(64);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_that_panics_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL);")
            .unwrap();
        let options = SqliteOptions {
            synchronous: SqliteSynchronous::Full,
            max_page_count: None,
        };
        let beside = tokio::spawn(std::future::pending::<()>()).abort_handle();
        let writer = Writer::start(
            &path,
            &options,
            Arc::new(tokio::sync::Mutex::new(())),
            Arc::new(AtomicBool::new(false)),
            beside,
        )
        .unwrap();

        let failed = writer
            .run(|c| -> Result<()> {
                let tx = c.transaction()?;
                tx.execute("INSERT INTO t (n) VALUES (1)", [])?;
                panic!("a bug in a job");
            })
            .await;
        assert!(
            matches!(&failed, Err(StoreError::Shared(m)) if m.contains("dropped this write")),
            "{failed:?}"
        );
        // The thread lives on, the lock was let go (the next job takes it) and the panicking
        // job's insert is gone.
        let count = writer
            .run(|c| {
                c.execute("INSERT INTO t (n) VALUES (2)", [])?;
                Ok(c.query_row("SELECT COUNT(*), SUM(n) FROM t", [], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?)
            })
            .await
            .unwrap();
        assert_eq!(count, (1, 2));
    }
}
