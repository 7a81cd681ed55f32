//! Storage: one trait, one implementation per database, chosen by the URL's scheme.
//!
//! Only this module runs SQL. Values that are secrets arrive here already sealed
//! ([`crate::crypto`]) and leave sealed: a backend never sees a plaintext token or key.
//! Every backend owns its migrations and passes the same conformance tests.

mod postgres;
mod sqlite;

use std::collections::HashSet;
use std::sync::Arc;

use time::OffsetDateTime;

pub use crate::text::Text;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("cannot open the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// From the SQLite writer's own connection (a full disk is [`StoreError::Full`]).
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A failure shared by every request of one group commit.
    #[error("database error (group commit): {0}")]
    Shared(String),
    #[error("the database or its disk is full: deliveries are refused until there is room")]
    Full,
    #[error("bad database URL option {option}={value:?}: {expected}")]
    BadOption {
        option: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("another connection already uses the store URL {0}")]
    StoreUrlTaken(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::Full
        } else {
            StoreError::Sqlite(e)
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The one installation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub salt: String,
    pub key_id: String,
    pub created_at: OffsetDateTime,
}

/// A web session, stored server-side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// Who signed in: `<tenant code>:<TrackingTech user id>`; None before login.
    pub owner: Option<String>,
    /// The signed-in user's public details (JSON), not secret.
    pub user_json: Option<String>,
    /// The TrackingTech login token, sealed.
    pub tt_token: Option<Vec<u8>>,
    /// The wizard's progress (JSON), sealed: it holds WooCommerce keys mid-way.
    pub wizard: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Connected,
    NeedsRelogin,
    Disconnected,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connected => "connected",
            ConnectionState::NeedsRelogin => "needs_relogin",
            ConnectionState::Disconnected => "disconnected",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectionState> {
        match s {
            "connected" => Some(ConnectionState::Connected),
            "needs_relogin" => Some(ConnectionState::NeedsRelogin),
            "disconnected" => Some(ConnectionState::Disconnected),
            _ => None,
        }
    }
}

/// A store's connection row. Secret columns are sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: String,
    pub owner: String,
    pub owner_email: String,
    pub tenant_code: String,
    pub tenant_name: String,
    pub api_base_url: String,
    pub store_url: String,
    pub device_id: String,
    /// TrackingTech's store id as JSON (a number or a string, sent back as it came).
    pub tt_store_id: String,
    pub tt_store_name: String,
    pub customer_id: Option<String>,
    pub integration_token: Option<Vec<u8>>,
    pub woo_consumer_key: Option<Vec<u8>>,
    pub woo_consumer_secret: Option<Vec<u8>>,
    pub woo_permissions: String,
    pub webhook_id: Option<i64>,
    pub webhook_secret: Option<Vec<u8>>,
    pub state: ConnectionState,
    pub trigger_status: String,
    pub mark_completed: bool,
    pub notify_customer: bool,
    pub created_at: OffsetDateTime,
    pub connected_at: Option<OffsetDateTime>,
    pub disconnected_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub last_sent_at: Option<OffsetDateTime>,
    pub last_error: Option<Text>,
    pub last_error_at: Option<OffsetDateTime>,
    /// The highest order id the store had when it was (last) connected (0: it had none);
    /// `None` until read. Orders above it are new whatever their creation date says. Written
    /// by a (re)connect's upsert and by [`Store::set_order_id_at_connect`], never by
    /// [`Store::update_connection`].
    pub order_id_at_connect: Option<i64>,
    /// The store's IANA time zone (WordPress's `timezone_string`), when it has one.
    pub store_timezone: Option<String>,
    /// The store's fixed offset from UTC in minutes (`gmt_offset`), when it has no zone name.
    pub store_utc_offset: Option<i32>,
    /// The store's language (`es_CL`), read once at connect; `None` when unknown.
    pub store_language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    pub id: i64,
    pub connection_id: String,
    pub at: OffsetDateTime,
    pub kind: String,
    /// What happened, as a coded text rendered for the reader.
    pub message: Text,
}

/// Where an order stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    Queued,
    Sending,
    Sent,
    Failed,
    Rejected,
    Skipped,
    Cancelled,
}

impl OrderState {
    pub const ALL: [OrderState; 7] = [
        OrderState::Queued,
        OrderState::Sending,
        OrderState::Sent,
        OrderState::Failed,
        OrderState::Rejected,
        OrderState::Skipped,
        OrderState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Queued => "queued",
            OrderState::Sending => "sending",
            OrderState::Sent => "sent",
            OrderState::Failed => "failed",
            OrderState::Rejected => "rejected",
            OrderState::Skipped => "skipped",
            OrderState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A state as a backend read it from `orders.state`: one it does not know means the row
    /// is damaged.
    pub(crate) fn stored(s: &str) -> Result<OrderState> {
        OrderState::parse(s)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown order state {s:?}")))
    }
}

/// An order in the outbox. `source` and `payload` are sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub connection_id: String,
    pub order_id: i64,
    pub order_number: String,
    pub state: OrderState,
    pub attempts: i64,
    pub run_at: OffsetDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
    pub source: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub last_error: Option<Text>,
    pub last_error_at: Option<OffsetDateTime>,
    pub tt_id: Option<String>,
    pub tracking_id: Option<String>,
    pub tt_status: Option<String>,
    pub tt_status_name: Option<String>,
    pub tt_updated_at: Option<String>,
    pub woo_status: String,
    pub created_at: OffsetDateTime,
    pub first_attempt_at: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
}

/// A new order for the outbox, owned: the group commit holds it until its commit.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub connection_id: String,
    pub order_id: i64,
    pub order_number: String,
    pub woo_status: String,
    /// When WooCommerce last modified the order (`date_modified_gmt`), as of `woo_status`:
    /// a later note of an older status does not replace it ([`Store::note_woo_status`]).
    pub woo_modified_at: Option<OffsetDateTime>,
    /// The order as WooCommerce gave it, sealed (None: fetch it at the first attempt).
    pub source: Option<Vec<u8>>,
}

impl NewOrder {
    /// An order found by reading the store (backfill, reconcile) rather than delivered: its
    /// body is fetched again at the first attempt.
    pub fn found(connection_id: &str, order: &woocommerce::Order) -> NewOrder {
        NewOrder {
            connection_id: connection_id.to_owned(),
            order_id: i64::try_from(order.id).unwrap_or(i64::MAX),
            order_number: order.number_or_id(),
            woo_status: order.status.as_str().to_owned(),
            woo_modified_at: order.date_modified_gmt,
            source: None,
        }
    }
}

/// What [`Store::note_woo_status`] found for a known order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotedStatus {
    /// The status the order had before.
    pub previous: String,
    /// Whether the status noted is now the order's; false when the order holds the status of
    /// a later modification (a replayed or late delivery).
    pub kept: bool,
}

/// Whether a status as of `modified` replaces one as of `stored` (WooCommerce's
/// `date_modified_gmt` of each): a later or equal modification does (two changes within one
/// second of WooCommerce's clock arrive in order), an older one does not. A stored status
/// without a time (a row from before times were kept) gives way to any; a status without a
/// time never replaces one with a time, since nothing says it is newer.
pub(crate) fn status_is_current(
    stored: Option<OffsetDateTime>,
    modified: Option<OffsetDateTime>,
) -> bool {
    match (stored, modified) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(stored), Some(modified)) => modified >= stored,
    }
}

/// Whether noting `status` as of `modified` over `previous` as of `stored` changes the row:
/// another status, or a later time for the same one (so that a late delivery of a change in
/// between is still known to be older).
pub(crate) fn status_note_writes(
    previous: &str,
    stored: Option<OffsetDateTime>,
    status: &str,
    modified: Option<OffsetDateTime>,
) -> bool {
    previous != status || (modified.is_some() && modified != stored)
}

/// A new order waiting for a backend's group commit (both backends insert the new orders that
/// arrive together in one commit), and where to say whether it was inserted.
pub(crate) struct Pending {
    pub order: NewOrder,
    /// The answer goes back with the order, so that its buffers are freed by the task that
    /// allocated them, not by the committing thread (with glibc's malloc, a free from another
    /// thread takes the lock of the allocating thread's arena, which that thread is busy with).
    done: tokio::sync::oneshot::Sender<(Result<bool>, NewOrder)>,
}

/// Hands `order` to the group commit behind `queue` and waits until it is committed: whether it
/// was inserted (false: the outbox had it already).
pub(crate) async fn group_commit(
    queue: &tokio::sync::mpsc::Sender<Pending>,
    order: NewOrder,
) -> Result<bool> {
    let (done, answer) = tokio::sync::oneshot::channel();
    let stopped = || StoreError::Shared("the group commit has stopped".into());
    queue
        .send(Pending { order, done })
        .await
        .map_err(|_| stopped())?;
    let (inserted, _order) = answer.await.map_err(|_| stopped())?;
    inserted
}

/// Answers every order of a committed (or failed) batch, emptying it: whether each was
/// inserted, or the batch's error (a full disk stays [`StoreError::Full`]).
pub(crate) fn answer_batch(batch: &mut Vec<Pending>, result: Result<Vec<bool>>) {
    match result {
        Ok(inserted) => {
            for (p, inserted) in batch.drain(..).zip(inserted) {
                let _ = p.done.send((Ok(inserted), p.order));
            }
        }
        Err(e) => {
            let full = matches!(e, StoreError::Full);
            let message = e.to_string();
            for p in batch.drain(..) {
                let e = if full {
                    StoreError::Full
                } else {
                    StoreError::Shared(message.clone())
                };
                let _ = p.done.send((Err(e), p.order));
            }
        }
    }
}

/// How a send attempt ended. Applied only while the attempt still holds its lease.
#[derive(Debug, Clone)]
pub enum SendOutcome {
    Sent {
        tt_id: String,
        tracking_id: String,
        status: String,
        status_name: String,
        writeback: String,
    },
    Retry {
        run_at: OffsetDateTime,
        error: Text,
        hold_connection_until: Option<OffsetDateTime>,
    },
    /// 401: the connection needs a new login; the order waits, nothing is lost.
    NeedsRelogin {
        error: Text,
    },
    Failed {
        error: Text,
    },
    Rejected {
        error: Text,
    },
    Skipped {
        reason: Text,
    },
}

/// What a backend writes for an outcome in [`Store::finish_sends`], with the values it needs.
/// (PostgreSQL records sent and retried orders a statement per batch and the rare outcomes an
/// order at a time; SQLite's writer runs a statement per order on its own connection.)
pub(crate) enum Recording<'o> {
    Sent {
        tt_id: &'o str,
        tracking_id: &'o str,
        status: &'o str,
        status_name: &'o str,
        /// The write-back queued with it.
        writeback: &'o str,
    },
    /// Back to the queue until `run_at`; a connection told to wait (429) holds until
    /// `hold_connection_until`.
    Retried {
        run_at: OffsetDateTime,
        error: &'o Text,
        hold_connection_until: Option<OffsetDateTime>,
    },
    /// Back to the queue, the attempt not counted, the connection parked for a new login.
    Relogin { error: &'o Text },
    /// Ended for good in `state` (`failed`, `rejected` or `skipped`).
    Final {
        state: &'static str,
        error: &'o Text,
    },
}

impl SendOutcome {
    pub(crate) fn recording(&self) -> Recording<'_> {
        match self {
            SendOutcome::Sent {
                tt_id,
                tracking_id,
                status,
                status_name,
                writeback,
            } => Recording::Sent {
                tt_id,
                tracking_id,
                status,
                status_name,
                writeback,
            },
            SendOutcome::Retry {
                run_at,
                error,
                hold_connection_until,
            } => Recording::Retried {
                run_at: *run_at,
                error,
                hold_connection_until: *hold_connection_until,
            },
            SendOutcome::NeedsRelogin { error } => Recording::Relogin { error },
            SendOutcome::Failed { error } => Recording::Final {
                state: "failed",
                error,
            },
            SendOutcome::Rejected { error } => Recording::Final {
                state: "rejected",
                error,
            },
            SendOutcome::Skipped { reason } => Recording::Final {
                state: "skipped",
                error: reason,
            },
        }
    }
}

/// Which orders a batch statement changed: (connection, order).
pub(crate) type Changed = HashSet<(String, i64)>;

pub(crate) fn changed(changed: &Changed, connection_id: &str, order_id: i64) -> bool {
    changed.contains(&(connection_id.to_owned(), order_id))
}

/// What [`Store::finish_sends`] answers: per item, whether it was recorded — as `one_by_one`
/// says for those recorded an order at a time, where a batch statement changed it (`batched`)
/// for the rest.
pub(crate) fn recorded(
    items: &[Finished<'_>],
    one_by_one: &[Option<bool>],
    batched: &Changed,
) -> Vec<bool> {
    items
        .iter()
        .zip(one_by_one)
        .map(|(item, done)| {
            done.unwrap_or_else(|| changed(batched, item.connection_id, item.order_id))
        })
        .collect()
}

/// The activity entries (connection, kind, message) of the outcomes that were recorded, in
/// the batch's order.
pub(crate) fn recorded_activity<'a>(
    items: &[Finished<'a>],
    recorded: &[bool],
) -> Vec<(&'a str, &'a str, &'a Text)> {
    items
        .iter()
        .zip(recorded)
        .filter(|(_, recorded)| **recorded)
        .filter_map(|(item, _)| item.activity.map(|(k, m)| (item.connection_id, k, m)))
        .collect()
}

/// The outbox at a glance, for [`Store::outbox_summary`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    pub by_state: Vec<(OrderState, u64)>,
    pub oldest_queued: Option<OffsetDateTime>,
}

/// One attempt's end, for [`Store::finish_sends`].
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub connection_id: &'a str,
    pub order_id: i64,
    pub outcome: &'a SendOutcome,
    /// The activity entry (kind, message) to add with it.
    pub activity: Option<(&'a str, &'a Text)>,
}

/// A first attempt's payload (sealed), for [`Store::save_payloads`].
#[derive(Debug, Clone, Copy)]
pub struct PayloadToSave<'a> {
    pub connection_id: &'a str,
    pub order_id: i64,
    pub payload: &'a [u8],
}

/// How a write-back ended, for [`Store::finish_writebacks`]: done (neither field), retried at
/// `retry_at`, or failed for good (`error` alone).
#[derive(Debug, Clone, Copy)]
pub struct WritebackEnd<'a> {
    pub id: i64,
    pub retry_at: Option<OffsetDateTime>,
    pub error: Option<&'a str>,
    /// A warning for the connection's activity, recorded with this end (and only if it is).
    pub warning: Option<&'a Text>,
}

impl WritebackEnd<'_> {
    fn state(&self) -> &'static str {
        match (self.retry_at, self.error) {
            (Some(_), _) => "queued",
            (None, Some(_)) => "failed",
            (None, None) => "done",
        }
    }
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub connection_id: Option<String>,
    pub state: Option<OrderState>,
    pub limit: u32,
    pub offset: u32,
}

impl OrderFilter {
    /// Appends ` WHERE …` for the filter's conditions, only those it sets: a condition written
    /// as `(? IS NULL OR state = ?)` keeps either backend off its indexes, so counting one
    /// store's orders, or the queued ones, read every order of every store.
    pub(crate) fn push_where<DB>(&self, query: &mut sqlx::QueryBuilder<DB>)
    where
        DB: sqlx::Database,
        String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        &'static str: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let mut and = " WHERE ";
        if let Some(state) = self.state {
            query.push(and).push("state = ").push_bind(state.as_str());
            and = " AND ";
        }
        if let Some(connection_id) = &self.connection_id {
            query
                .push(and)
                .push("connection_id = ")
                .push_bind(connection_id.clone());
        }
    }
}

/// A queued write-back to WooCommerce; `body` is JSON the engine understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritebackRow {
    pub id: i64,
    pub connection_id: String,
    pub order_id: i64,
    pub body: String,
    pub attempts: i64,
}

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The installation row; `candidate` is inserted when there is none yet.
    async fn installation(&self, candidate: &Installation) -> Result<Installation>;
    /// True when the database already holds an installation (and so secrets sealed by a key).
    async fn has_installation(&self) -> Result<bool>;

    async fn insert_session(&self, session: &SessionRow) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>>;
    /// Replaces the session's mutable fields (owner, user, token, wizard, csrf, last seen).
    async fn update_session(&self, session: &SessionRow) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Gives a session a new id: deletes the row `old_id_hash` and inserts `session`, in one
    /// transaction, so the old cookie is dead the moment the new one exists.
    async fn replace_session(&self, old_id_hash: &str, session: &SessionRow) -> Result<()>;
    /// Deletes sessions last seen before `idle_before`; returns how many.
    async fn purge_sessions(&self, idle_before: OffsetDateTime) -> Result<u64>;

    /// Inserts a connection, or — for a store URL already known — replaces that row's
    /// credentials and settings in place, keeping its id, history and creation time.
    /// Returns the row as stored.
    async fn upsert_connection(&self, row: &ConnectionRow) -> Result<ConnectionRow>;
    async fn update_connection(&self, row: &ConnectionRow) -> Result<()>;
    async fn connection(&self, id: &str) -> Result<Option<ConnectionRow>>;
    /// Marks a connected connection as waiting for a TrackingTech login, with why, touching
    /// nothing else; a connection in any other state (disconnected meanwhile by a person) is
    /// left as it is. True when it changed.
    async fn mark_needs_relogin(&self, id: &str, error: &crate::text::Text) -> Result<bool>;
    /// Records a webhook ttwc made again for a connection (its id and sealed secret), touching
    /// nothing else, unless the connection was disconnected meanwhile. True when it changed.
    async fn set_webhook(&self, id: &str, webhook_id: i64, sealed_secret: &[u8]) -> Result<bool>;
    /// Records the store's time zone (name, or else a fixed offset in minutes) on its
    /// connection, touching nothing else.
    async fn set_store_zone(
        &self,
        id: &str,
        timezone: Option<&str>,
        utc_offset: Option<i32>,
    ) -> Result<()>;
    /// The connections among `ids` that exist, in no particular order: one query for a batch
    /// of jobs instead of one per connection.
    async fn connections_by_id(&self, ids: &[&str]) -> Result<Vec<ConnectionRow>>;
    async fn connection_by_store_url(&self, store_url: &str) -> Result<Option<ConnectionRow>>;
    /// Connections of one owner, or all when `owner` is None, newest first.
    async fn connections(&self, owner: Option<&str>) -> Result<Vec<ConnectionRow>>;

    /// Keeps keys WooCommerce delivered to the wc-auth callback; false (and nothing changed)
    /// when the grant already delivered keys, taken or not: an attempt is accepted once.
    async fn put_granted_keys(&self, grant_hash: &str, sealed: &[u8]) -> Result<bool>;
    /// Takes the keys of a grant younger than `newer_than`: reads them and empties the row,
    /// which stays (without the keys) so the grant cannot deliver keys again.
    async fn take_granted_keys(
        &self,
        grant_hash: &str,
        newer_than: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>>;
    /// Deletes grants (taken or not) received before `created_before`; returns how many.
    async fn purge_granted_keys(&self, created_before: OffsetDateTime) -> Result<u64>;

    async fn add_activity(&self, connection_id: &str, kind: &str, message: &Text) -> Result<()>;
    async fn activity(&self, connection_id: &str, limit: u32) -> Result<Vec<ActivityRow>>;

    /// Orders of the connection waiting to be sent or being sent.
    async fn queue_depth(&self, connection_id: &str) -> Result<u64>;

    // ---- The outbox ----

    /// Adds an order; false when the connection already has it (whatever its state).
    async fn enqueue_order(&self, order: NewOrder) -> Result<bool>;
    /// Records the WooCommerce status of a known order as of `modified` (the delivery's
    /// `date_modified_gmt`), unless the order holds the status of a later modification
    /// ([`status_is_current`]): a replayed or late delivery never sets an older status over a
    /// newer one. None for an unknown order.
    async fn note_woo_status(
        &self,
        connection_id: &str,
        order_id: i64,
        status: &str,
        modified: Option<OffsetDateTime>,
    ) -> Result<Option<NotedStatus>>;
    /// Leases up to `limit` due orders of connected connections, at most `per_connection`
    /// in flight per connection, and counts the attempt.
    async fn claim_sends(
        &self,
        owner: &str,
        lease: time::Duration,
        limit: u32,
        per_connection: u32,
    ) -> Result<Vec<OrderRow>>;
    /// Keeps the payload built at the first attempt (sealed) before it is sent; false when the
    /// lease was lost.
    async fn save_payload(
        &self,
        owner: &str,
        connection_id: &str,
        order_id: i64,
        payload: &[u8],
    ) -> Result<bool> {
        let saved = self
            .save_payloads(
                owner,
                &[PayloadToSave {
                    connection_id,
                    order_id,
                    payload,
                }],
            )
            .await?;
        Ok(saved.first().copied().unwrap_or(false))
    }
    /// Keeps several payloads in one transaction: one flag per item, as
    /// [`Store::save_payload`].
    async fn save_payloads(&self, owner: &str, items: &[PayloadToSave<'_>]) -> Result<Vec<bool>>;
    /// Ends an attempt; false when the lease was lost (another worker took over).
    async fn finish_send(
        &self,
        owner: &str,
        connection_id: &str,
        order_id: i64,
        outcome: &SendOutcome,
    ) -> Result<bool> {
        let item = Finished {
            connection_id,
            order_id,
            outcome,
            activity: None,
        };
        let recorded = self
            .finish_sends(owner, std::slice::from_ref(&item))
            .await?;
        Ok(recorded.first().copied().unwrap_or(false))
    }
    /// Ends several attempts in one transaction, each with its activity entry (written only
    /// where the lease was still `owner`'s): one flag per item, as [`Store::finish_send`].
    async fn finish_sends(&self, owner: &str, items: &[Finished<'_>]) -> Result<Vec<bool>>;
    /// Makes the queued retries of connections that send to TrackingTech at `api_base_url` due
    /// now (it answers again after an outage); returns how many. Holds set by a `Retry-After`
    /// stay.
    async fn release_retries(&self, api_base_url: &str) -> Result<u64>;
    /// Orders per state (states without orders left out) and when the oldest queued order
    /// was created: what `/metrics` shows, in two queries.
    async fn outbox_summary(&self) -> Result<OutboxSummary>;
    async fn order(&self, connection_id: &str, order_id: i64) -> Result<Option<OrderRow>>;
    async fn orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>>;
    async fn count_orders(&self, filter: &OrderFilter) -> Result<u64>;
    /// Sent orders whose shipment is not final, after `after_order_id`, by order id.
    async fn tracked_orders(
        &self,
        connection_id: &str,
        after_order_id: i64,
        limit: u32,
    ) -> Result<Vec<OrderRow>>;
    /// Records a new TrackingTech status and queues its write-back, together.
    async fn update_tracking(
        &self,
        connection_id: &str,
        order_id: i64,
        status: &str,
        status_name: &str,
        updated_at: &str,
        writeback: &str,
    ) -> Result<()>;
    /// Puts orders back in the queue, to be built afresh from the store's current order: one
    /// order that is failed, rejected, skipped or cancelled, or (`order_id` None) every failed
    /// or rejected order of the connection. Returns how many.
    async fn resend(&self, connection_id: &str, order_id: Option<i64>) -> Result<u64>;
    /// Cancels the connection's queued orders and write-backs (disconnect).
    async fn cancel_queue(&self, connection_id: &str) -> Result<u64>;
    async fn claim_writebacks(
        &self,
        owner: &str,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<WritebackRow>>;
    /// Ends a write-back: done, or retried at `retry_at`, or failed for good.
    async fn finish_writeback(
        &self,
        owner: &str,
        id: i64,
        retry_at: Option<OffsetDateTime>,
        error: Option<&str>,
    ) -> Result<()> {
        self.finish_writebacks(
            owner,
            &[WritebackEnd {
                id,
                retry_at,
                error,
                warning: None,
            }],
        )
        .await
    }
    /// Ends several write-backs in one transaction, each only where its lease is still
    /// `owner`'s.
    async fn finish_writebacks(&self, owner: &str, ends: &[WritebackEnd<'_>]) -> Result<()>;
    /// Stores the highest order id a connection's store had when connected, where none is
    /// stored yet; true when it stored it.
    async fn set_order_id_at_connect(&self, connection_id: &str, order_id: i64) -> Result<bool>;
    /// Records that the connection left an order out (older than the connection) and adds
    /// `message` to the activity, both in one transaction — unless the order was already noted
    /// or is in the outbox. True when it recorded it; so an order is noted once, whichever
    /// replica or delivery sees it.
    async fn note_left_out(
        &self,
        connection_id: &str,
        order_id: i64,
        message: &Text,
    ) -> Result<bool>;
    async fn reconcile_cursor(&self, connection_id: &str) -> Result<Option<OffsetDateTime>>;
    async fn set_reconcile_cursor(&self, connection_id: &str, cursor: OffsetDateTime)
    -> Result<()>;
    /// The status of ttwc's webhook in the store as reconcile last saw it (`active`, `paused`,
    /// `disabled`); None before the first look.
    async fn webhook_status(&self, connection_id: &str) -> Result<Option<String>>;
    /// Records the webhook's status; answers the one recorded before.
    async fn set_webhook_status(&self, connection_id: &str, status: &str)
    -> Result<Option<String>>;
    /// Takes or renews a named lease; true when `owner` holds it until `now + ttl`.
    async fn try_lease(&self, name: &str, owner: &str, ttl: time::Duration) -> Result<bool>;

    /// Checks the database answers and its schema is current.
    async fn ready(&self) -> Result<()>;

    /// Gathers the query planner's statistics of the job tables again when many of their rows
    /// changed since they were last gathered; true when it did. PostgreSQL's autovacuum does
    /// this where it runs, but a server may run without it, and with statistics from when the
    /// outbox was empty every claim read all queued orders (18 ms per claim at 15,000 queued).
    /// SQLite's planner needs none: nothing to do.
    async fn refresh_statistics(&self) -> Result<bool> {
        Ok(false)
    }
}

/// Opens the store a database URL names, running its migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(postgres::redact_url(url)))
    }
}

/// Now, truncated to whole microseconds so values survive a round trip through any backend.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}
