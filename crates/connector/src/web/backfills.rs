//! Backfills started from the dashboard: at most one running per connection, each a tokio task
//! running [`crate::engine::backfill::run`], and its progress for the page to poll.
//!
//! The progress lives in this process's memory only: it is a view of a task that also dies with
//! the process. What a backfill queued is in the outbox (the database) and survives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::app::App;
use crate::engine::backfill::{self, BackfillError, Progress};
use crate::text::{Code, Text};

/// Where a connection's latest backfill stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillStatus {
    pub running: bool,
    pub seen: u64,
    pub queued: u64,
    /// Why it stopped early.
    pub error: Option<Text>,
    pub since: OffsetDateTime,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// The latest backfill of each connection, by connection id.
#[derive(Default)]
pub struct Backfills {
    by_connection: Mutex<HashMap<String, BackfillStatus>>,
}

impl Backfills {
    fn map(&self) -> MutexGuard<'_, HashMap<String, BackfillStatus>> {
        // A panic while holding the lock cannot leave a status half-written worth refusing.
        self.by_connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, connection_id: &str) -> Option<BackfillStatus> {
        self.map().get(connection_id).cloned()
    }

    /// Starts a backfill of the connection unless one is running; false when one is.
    pub fn start(self: &Arc<Self>, app: &App, connection_id: &str, since: OffsetDateTime) -> bool {
        {
            let mut map = self.map();
            if map.get(connection_id).is_some_and(|s| s.running) {
                return false;
            }
            map.insert(
                connection_id.to_owned(),
                BackfillStatus {
                    running: true,
                    seen: 0,
                    queued: 0,
                    error: None,
                    since,
                    started_at: crate::store::now(),
                    finished_at: None,
                },
            );
        }
        let (app, id, me) = (app.clone(), connection_id.to_owned(), self.clone());
        let task = tokio::spawn({
            let (id, me) = (id.clone(), me.clone());
            async move { backfill::run(&app, &id, since, |p| me.progress(&id, p)).await }
        });
        // A second task records the end, so even a panicking backfill stops showing "running".
        tokio::spawn(async move {
            let error = match task.await {
                Ok(Ok(done)) => {
                    me.progress(&id, done);
                    None
                }
                Ok(Err(e)) => {
                    tracing::warn!(connection_id = %id, error = %e, "backfill failed");
                    Some(describe(&e))
                }
                Err(e) => {
                    tracing::error!(connection_id = %id, error = %e, "backfill task died");
                    Some(
                        Text::new(Code::Internal)
                            .with("detail", "the backfill stopped unexpectedly"),
                    )
                }
            };
            if let Some(status) = me.map().get_mut(&id) {
                status.running = false;
                status.error = error;
                status.finished_at = Some(crate::store::now());
            }
        });
        true
    }

    fn progress(&self, connection_id: &str, p: Progress) {
        if let Some(status) = self.map().get_mut(connection_id) {
            status.seen = p.seen;
            status.queued = p.queued;
        }
    }
}

/// A backfill failure for the merchant.
fn describe(e: &BackfillError) -> Text {
    match e {
        BackfillError::UnknownConnection(_) => Text::new(Code::ConnectionGone),
        BackfillError::NotConnected(state) => {
            Text::new(Code::ConnectionNotConnected).with("state", *state)
        }
        BackfillError::NoKeys => Text::new(Code::NoKeys),
        BackfillError::Store(_) => Text::new(Code::DatabaseUnavailable),
        BackfillError::WooCommerce(e) => {
            Text::new(Code::WooCommerceError).with("detail", e.to_string())
        }
    }
}
