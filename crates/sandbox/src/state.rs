//! The sandbox's memory: what it has created (kept, and saved to the state file) and what only
//! matters while it runs (login throttling, faults, the request log).
//!
//! Design note: all durable state sits in one `Data` value behind one mutex, and every handler
//! does its whole read-check-write inside one `App::update` call. That makes each request atomic
//! (two sends with the same Idempotency-Key cannot both create an order) without any locking
//! protocol. After a change the whole `Data` is serialized under the lock with a generation
//! number and written outside it; the writer skips snapshots older than the last one written,
//! so a slow write can never overwrite newer state.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::Faults;
use crate::fixtures::Fixtures;
use crate::{Error, clock, status};

/// How many contract requests the admin request log keeps (the oldest go first).
pub(crate) const REQUEST_LOG_LIMIT: usize = 10_000;

/// The first sandbox order id. Far from the small numbers WooCommerce uses for its order ids, so
/// a client that mixes the two up fails loudly in tests.
const FIRST_ORDER_ID: u64 = 900_001;

/// Everything the state file holds.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Data {
    pub(crate) next_order_id: u64,
    /// By customer id.
    pub(crate) customers: BTreeMap<String, Customer>,
    /// Integration token → customer id.
    pub(crate) integration_tokens: BTreeMap<String, String>,
    /// Login token → who and until when.
    pub(crate) login_tokens: BTreeMap<String, LoginToken>,
    /// In creation order.
    pub(crate) orders: Vec<Order>,
    /// Customer id → Idempotency-Key → the created order it stands for.
    pub(crate) idempotency: BTreeMap<String, BTreeMap<String, Idempotency>>,
    /// Customer id → Idempotency-Key → how many send requests carried it.
    pub(crate) key_requests: BTreeMap<String, BTreeMap<String, u64>>,
    #[serde(skip)]
    dirty: bool,
    #[serde(skip)]
    generation: u64,
    /// Lookups over `orders`, rebuilt on load: without them every send and status query
    /// walked every order the sandbox holds, and a benchmark of 100,000 orders measured the
    /// sandbox instead of the client.
    #[serde(skip)]
    index: Index,
}

#[derive(Debug, Default)]
struct Index {
    tracking_ids: HashSet<String>,
    /// (customer id, WooCommerce order id) → position in `orders` of the latest such order.
    latest: HashMap<(String, u64), usize>,
    /// No order that can still move had its last change before this (a lower bound; 0 when
    /// unknown), so the status schedule has nothing to do until `period` after it.
    oldest_movable_ms: i64,
}

impl Default for Data {
    fn default() -> Data {
        Data {
            next_order_id: FIRST_ORDER_ID,
            customers: BTreeMap::new(),
            integration_tokens: BTreeMap::new(),
            login_tokens: BTreeMap::new(),
            orders: Vec::new(),
            idempotency: BTreeMap::new(),
            key_requests: BTreeMap::new(),
            dirty: false,
            generation: 0,
            index: Index::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub(crate) id: String,
    /// Lowercased, as accounts are matched.
    pub(crate) account_email: String,
    pub(crate) store_id: u64,
    pub(crate) store_url: String,
    /// `validate::url_key` of `store_url`: what makes two links the same store.
    pub(crate) url_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LoginToken {
    pub(crate) account_email: String,
    pub(crate) expires_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Order {
    /// The sandbox id, unique across customers.
    pub(crate) id: u64,
    /// The WooCommerce order id from the body.
    pub(crate) order_id: u64,
    pub(crate) customer_id: String,
    pub(crate) tracking_id: String,
    pub(crate) status: String,
    pub(crate) updated_at_ms: i64,
    pub(crate) idempotency_key: String,
    /// The body exactly as received.
    pub(crate) body: Value,
}

impl Order {
    /// The shape of one `orders/status` item, also answered by the admin status call.
    pub(crate) fn status_json(&self) -> Value {
        serde_json::json!({
            "order_id": self.order_id,
            "tracking_id": self.tracking_id,
            "status": self.status,
            "status_name": status::name(&self.status),
            "updated_at": clock::rfc3339(self.updated_at_ms),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Idempotency {
    pub(crate) body: Value,
    /// The first answer, replayed as is.
    pub(crate) answer: Value,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    data: Data,
}

impl Data {
    /// Records that something changed, so `App::update` saves it.
    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }

    /// Moves orders along the status schedule: each non-final order takes one step per full
    /// `period` since its last change. Done lazily before every request instead of on a timer,
    /// so each order's status is a pure function of time and `updated_at` stays exact.
    fn catch_up(&mut self, now_ms: i64, period: Option<Duration>) {
        let Some(period) = period else { return };
        let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1);
        if now_ms.saturating_sub(self.index.oldest_movable_ms) < period_ms {
            return;
        }
        let mut oldest_movable = i64::MAX;
        for order in &mut self.orders {
            while let Some(next) = status::next(&order.status) {
                if now_ms.saturating_sub(order.updated_at_ms) < period_ms {
                    break;
                }
                order.status = next.to_owned();
                order.updated_at_ms = order.updated_at_ms.saturating_add(period_ms);
                self.dirty = true;
            }
            if status::next(&order.status).is_some() {
                oldest_movable = oldest_movable.min(order.updated_at_ms);
            }
        }
        self.index.oldest_movable_ms = oldest_movable;
    }

    /// Adds a created order, keeping the lookups current.
    pub(crate) fn push_order(&mut self, order: Order) {
        self.index.tracking_ids.insert(order.tracking_id.clone());
        self.index.latest.insert(
            (order.customer_id.clone(), order.order_id),
            self.orders.len(),
        );
        self.index.oldest_movable_ms = self.index.oldest_movable_ms.min(order.updated_at_ms);
        self.orders.push(order);
        self.dirty = true;
    }

    pub(crate) fn tracking_id_taken(&self, tracking_id: &str) -> bool {
        self.index.tracking_ids.contains(tracking_id)
    }

    /// Rebuilds the lookups from `orders` (after loading a state file).
    fn reindex(&mut self) {
        let mut index = Index::default();
        for (i, order) in self.orders.iter().enumerate() {
            index.tracking_ids.insert(order.tracking_id.clone());
            index
                .latest
                .insert((order.customer_id.clone(), order.order_id), i);
        }
        self.index = index;
    }

    /// The most recent order of `customer_id` with WooCommerce id `order_id`.
    pub(crate) fn latest_order(&self, customer_id: &str, order_id: u64) -> Option<&Order> {
        self.index
            .latest
            .get(&(customer_id.to_owned(), order_id))
            .and_then(|&i| self.orders.get(i))
    }

    pub(crate) fn key_requests(&self, customer_id: &str, key: &str) -> u64 {
        self.key_requests
            .get(customer_id)
            .and_then(|m| m.get(key))
            .copied()
            .unwrap_or(0)
    }

    /// Revokes the integration tokens of one customer, or of all; returns how many.
    pub(crate) fn revoke(&mut self, customer_id: Option<&str>) -> usize {
        let before = self.integration_tokens.len();
        self.integration_tokens
            .retain(|_, c| customer_id.is_some_and(|id| id != c));
        let revoked = before - self.integration_tokens.len();
        if revoked > 0 {
            self.dirty = true;
        }
        revoked
    }
}

/// What only matters while the sandbox runs.
#[derive(Default)]
pub(crate) struct Runtime {
    /// Lowercased email → times of recent failed logins.
    pub(crate) failed_logins: HashMap<String, VecDeque<Instant>>,
    pub(crate) faults: Faults,
    pub(crate) down_until: Option<Instant>,
    pub(crate) requests: VecDeque<LoggedRequest>,
}

pub(crate) struct LoggedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) at_ms: i64,
}

/// Shared by every handler.
pub(crate) struct App {
    pub(crate) fixtures: Fixtures,
    pub(crate) admin_token: String,
    pub(crate) token_ttl: Duration,
    pub(crate) advance_every: Option<Duration>,
    pub(crate) login_attempts_per_minute: u32,
    data: Mutex<Data>,
    runtime: Mutex<Runtime>,
    state_file: Option<PathBuf>,
    /// The generation last written to the state file; held while writing, so writes are serial.
    written: tokio::sync::Mutex<u64>,
}

impl App {
    pub(crate) fn new(config: crate::Config) -> Result<App, Error> {
        let data = match &config.state_file {
            Some(path) => load(path)?,
            None => Data::default(),
        };
        Ok(App {
            fixtures: config.fixtures,
            admin_token: config.admin_token,
            token_ttl: config.token_ttl,
            advance_every: config.advance_every,
            login_attempts_per_minute: config.login_attempts_per_minute,
            data: Mutex::new(data),
            runtime: Mutex::new(Runtime::default()),
            state_file: config.state_file,
            written: tokio::sync::Mutex::new(0),
        })
    }

    /// Runs `f` on the durable state (after the status schedule has caught up), then saves the
    /// state if anything changed.
    pub(crate) async fn update<T>(&self, f: impl FnOnce(&mut Data, i64) -> T) -> T {
        let (out, snapshot) = {
            let mut data = lock(&self.data);
            let now = clock::now_ms();
            data.catch_up(now, self.advance_every);
            let out = f(&mut data, now);
            let snapshot = if data.dirty {
                data.dirty = false;
                data.generation += 1;
                self.state_file
                    .as_ref()
                    .map(|_| (data.generation, serialize(&data)))
            } else {
                None
            };
            (out, snapshot)
        };
        if let Some((generation, bytes)) = snapshot {
            self.write(generation, bytes).await;
        }
        out
    }

    /// The runtime-only state.
    pub(crate) fn runtime(&self) -> MutexGuard<'_, Runtime> {
        lock(&self.runtime)
    }

    /// Writes the current state whatever its generation; used at shutdown.
    pub(crate) async fn flush(&self) {
        let snapshot = {
            let data = lock(&self.data);
            self.state_file
                .as_ref()
                .map(|_| (data.generation, serialize(&data)))
        };
        if let Some((generation, bytes)) = snapshot {
            let mut written = self.written.lock().await;
            self.write_file(bytes).await;
            *written = generation;
        }
    }

    async fn write(&self, generation: u64, bytes: Vec<u8>) {
        let mut written = self.written.lock().await;
        if generation <= *written {
            return;
        }
        self.write_file(bytes).await;
        *written = generation;
    }

    async fn write_file(&self, bytes: Vec<u8>) {
        let Some(path) = self.state_file.clone() else {
            return;
        };
        let result = tokio::task::spawn_blocking(move || write_atomically(&path, &bytes)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(%error, "could not save the sandbox state file; recent changes are not on disk")
            }
            Err(error) => tracing::error!(%error, "the state file writer stopped"),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere; the data is still consistent enough to serve a
    // test fake, and refusing every later request would hide the original failure.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn serialize(data: &Data) -> Vec<u8> {
    #[derive(Serialize)]
    struct StateFileRef<'a> {
        version: u32,
        data: &'a Data,
    }
    // Serializing plain maps, strings and JSON values cannot fail.
    serde_json::to_vec_pretty(&StateFileRef { version: 1, data }).unwrap_or_default()
}

fn load(path: &Path) -> Result<Data, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Data::default()),
        Err(source) => {
            return Err(Error::StateRead {
                path: path.to_owned(),
                source,
            });
        }
    };
    let file: StateFile = serde_json::from_slice(&bytes).map_err(|source| Error::StateCorrupt {
        path: path.to_owned(),
        source,
    })?;
    if file.version != 1 {
        return Err(Error::StateVersion {
            path: path.to_owned(),
            version: file.version,
        });
    }
    let mut data = file.data;
    data.reindex();
    Ok(data)
}

/// Write a sibling temporary file, then rename it over the target: a crash leaves either the old
/// state or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
