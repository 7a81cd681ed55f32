//! The sync engine: the outbox's workers and the schedules around them.
//!
//! Design notes.
//! - The `orders` table is the outbox: the webhook receiver commits a `queued` row before it
//!   answers 2xx, keyed by (connection, WooCommerce order id), so duplicate deliveries, ttwc's own
//!   write-backs (which fire `order.updated` again) and reconcile all land on the same row.
//! - A worker claims due rows with a lease (owner + deadline) in the database and counts the
//!   attempt there; a crashed worker's lease expires and another takes the row over. Every
//!   outcome is written only where the lease is still the worker's.
//! - The payload is built once, at the first attempt, and stored (sealed) *before* it is sent, so
//!   a retry — or a replay after a crash — sends the same bytes under the same idempotency key
//!   (`<deviceId>:<order id>`), which TrackingTech answers with the first result.
//! - Retry decisions start from the clients' one classifier: transient errors back off
//!   exponentially with full jitter and never earlier than a `Retry-After` (which also holds the
//!   whole connection), auth errors park the connection until the merchant logs in again, and
//!   rejections are kept with TrackingTech's message until resent.
//! - Status polling, reconcile, statistics and the purge of idle sessions and old wc-auth grants
//!   run under named leases, so with several replicas one does each run.

pub mod backfill;
mod schedules;
mod send;
mod tracking;
mod writeback;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;
use tokio::sync::{Mutex, Semaphore, watch};

use crate::app::App;
use crate::config::Settings;

pub use send::source_context;
pub use writeback::Writeback;

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Sends in flight, overall.
    pub concurrency: usize,
    /// Sends in flight per connection.
    pub per_connection: u32,
    pub lease: Duration,
    /// Transient failures are retried until an order has waited this long; then `failed`.
    pub max_age: Duration,
    /// How often an idle worker looks for due work (a delivery wakes it at once).
    pub idle_poll: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub status_interval: Duration,
    pub reconcile_interval: Duration,
    /// How often idle sessions and old wc-auth grants are deleted.
    pub purge_interval: Duration,
}

impl EngineConfig {
    pub fn from_settings(settings: &Settings) -> EngineConfig {
        EngineConfig {
            concurrency: settings.send_concurrency as usize,
            per_connection: settings.sends_per_connection,
            lease: settings.job_lease,
            max_age: settings.retry_max_age,
            idle_poll: Duration::from_millis(250),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(300),
            status_interval: settings.status_interval,
            reconcile_interval: settings.reconcile_interval,
            purge_interval: Duration::from_secs(600),
        }
    }
}

/// State shared by the engine's tasks.
pub(crate) struct Shared {
    pub app: App,
    pub config: EngineConfig,
    /// This process's lease owner name.
    pub owner: String,
    /// The store's weight unit, per connection, fetched once per process run.
    pub weight_units: Mutex<HashMap<String, String>>,
    /// Whether the store serves the Shipment Tracking REST namespace, per connection.
    pub tracking_api: Mutex<HashMap<String, bool>>,
    /// TrackingTech base URLs whose last answer here was a transient failure (not a 429).
    pub failing: Mutex<HashSet<String>>,
}

impl Shared {
    /// Notes a transient failure (down, 5xx, unreachable) of the TrackingTech at `base_url`.
    pub(crate) async fn trackingtech_failed(&self, base_url: &str) {
        let mut failing = self.failing.lock().await;
        if !failing.contains(base_url) {
            failing.insert(base_url.to_owned());
        }
    }

    /// Notes an accepted send: when the TrackingTech at `base_url` had been failing, the orders
    /// waiting out their backoff go now instead of minutes after it came back.
    pub(crate) async fn trackingtech_answered(&self, base_url: &str) {
        if !self.failing.lock().await.remove(base_url) {
            return;
        }
        match self.app.store().release_retries(base_url).await {
            Ok(n) => {
                tracing::info!(
                    released = n,
                    "TrackingTech answers again: queued retries go now"
                );
                if n > 0 {
                    self.app.wakeup().notify_one();
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not release the queued retries"),
        }
    }
}

/// Runs the engine until `shutdown` turns true.
pub fn spawn(
    app: App,
    config: EngineConfig,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let owner = format!(
        "{}-{}",
        std::process::id(),
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(8)
            .map(char::from)
            .collect::<String>()
    );
    let shared = Arc::new(Shared {
        app,
        config,
        owner,
        weight_units: Mutex::new(HashMap::new()),
        tracking_api: Mutex::new(HashMap::new()),
        failing: Mutex::new(HashSet::new()),
    });
    tokio::spawn(async move {
        let sends = tokio::spawn(send_loop(shared.clone(), shutdown.clone()));
        let writebacks = tokio::spawn(writeback::run(shared.clone(), shutdown.clone()));
        let status = tokio::spawn(schedules::status_loop(shared.clone(), shutdown.clone()));
        let reconcile = tokio::spawn(schedules::reconcile_loop(shared.clone(), shutdown.clone()));
        let statistics = tokio::spawn(schedules::statistics_loop(shared.clone(), shutdown.clone()));
        let purge = tokio::spawn(schedules::purge_loop(shared.clone(), shutdown.clone()));
        let _ = tokio::join!(sends, writebacks, status, reconcile, statistics, purge);
    })
}

/// Claims due orders as permits free up and sends each in its own task.
async fn send_loop(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(shared.config.concurrency));
    let (record, to_record) = tokio::sync::mpsc::channel(shared.config.concurrency.max(1));
    let recorder = tokio::spawn(send::recorder(shared.clone(), to_record));
    let (save, to_save) = tokio::sync::mpsc::channel(shared.config.concurrency.max(1));
    let saver = tokio::spawn(send::saver(shared.clone(), to_save));
    let writers = Arc::new(send::Writers { record, save });
    let wake = shared.app.wakeup();
    // A claim that came back short (less due than permits free, or the rest held back by the
    // per-connection limit) is not repeated for every send that finishes: each claim is a
    // write that walks the due orders, and back to back they crowded out the recording of
    // outcomes. The next one waits out a short gap (a delivery still goes within it).
    let mut next_claim = tokio::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        if tokio::time::Instant::now() < next_claim {
            tokio::select! {
                () = tokio::time::sleep_until(next_claim) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        // Under load, claim in batches: wait for half the permits rather than running a claim
        // (a write) for every send that finishes. A lone order still goes at once.
        let free = permits.available_permits();
        let claiming = free > 0 && free >= shared.config.concurrency / 2;
        let claimed = if !claiming {
            Vec::new()
        } else {
            match shared
                .app
                .store()
                .claim_sends(
                    &shared.owner,
                    to_time(shared.config.lease),
                    free as u32,
                    shared.config.per_connection,
                )
                .await
            {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::error!(error = %e, "claiming orders failed");
                    Vec::new()
                }
            }
        };
        if claiming && claimed.len() < free {
            next_claim = tokio::time::Instant::now() + CLAIM_GAP;
        }
        if claimed.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(shared.config.idle_poll) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let ids: Vec<&str> = claimed.iter().map(|j| j.connection_id.as_str()).collect();
        let connections = send::prepare(&shared, &ids).await;
        for job in claimed {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let shared = shared.clone();
            let wake = wake.clone();
            let writers = writers.clone();
            let conn = connections
                .get(&job.connection_id)
                .cloned()
                .unwrap_or(Ok(None));
            tokio::spawn(async move {
                send::attempt(&shared, job, conn, &writers).await;
                drop(permit);
                // A freed permit may let the next due order go.
                wake.notify_one();
            });
        }
    }
    // Let in-flight sends finish (their leases would otherwise have to expire).
    let _ = permits.acquire_many(shared.config.concurrency as u32).await;
    drop(writers);
    let _ = recorder.await;
    let _ = saver.await;
}

/// The least time between two claims when the last one found less than it could take.
const CLAIM_GAP: Duration = Duration::from_millis(10);

/// Exponential backoff with full jitter: a random wait in [0, min(cap, base·2^(attempt-1))],
/// never less than `floor` (a Retry-After).
pub fn backoff(config: &EngineConfig, attempt: i64, floor: Option<Duration>) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 30) - 1).unwrap_or(0);
    let ceiling = config
        .backoff_base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(config.backoff_cap);
    let jittered = ceiling.mul_f64(rand::rng().random_range(0.0..=1.0));
    jittered.max(floor.unwrap_or(Duration::ZERO))
}

pub(crate) fn to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let secs = Duration::from_secs;
        let config = EngineConfig {
            backoff_base: secs(2),
            backoff_cap: secs(300),
            ..EngineConfig::from_settings(&Settings::defaults())
        };
        // The longest wait of each attempt, written out: 2 s doubling from the first attempt,
        // capped at 300 s from the ninth. An attempt below one counts as the first, and the
        // doubling stops short of overflowing however many attempts there were.
        let ceilings = [
            (i64::MIN, secs(2)),
            (0, secs(2)),
            (1, secs(2)),
            (2, secs(4)),
            (3, secs(8)),
            (4, secs(16)),
            (5, secs(32)),
            (6, secs(64)),
            (7, secs(128)),
            (8, secs(256)),
            (9, secs(300)),
            (10, secs(300)),
            (30, secs(300)),
            (31, secs(300)),
            (i64::MAX, secs(300)),
        ];
        // Full jitter: every draw lies in [0, ceiling], and over many draws they reach both
        // ends of it. 400 uniform draws all above a tenth of the range, or all below nine
        // tenths, happen with a chance of 0.9^400 (about 5e-19) when the range is right; a
        // ceiling twice too small or too large, or jitter kept to half the range, fails.
        for (attempt, ceiling) in ceilings {
            let draws: Vec<Duration> = (0..400).map(|_| backoff(&config, attempt, None)).collect();
            let (lowest, highest) = (
                draws.iter().min().copied().unwrap_or_default(),
                draws.iter().max().copied().unwrap_or_default(),
            );
            assert!(
                highest <= ceiling,
                "attempt {attempt}: waited {highest:?}, more than {ceiling:?}"
            );
            assert!(
                highest >= ceiling.mul_f64(0.9),
                "attempt {attempt}: never above {highest:?}, the ceiling is {ceiling:?}"
            );
            assert!(
                lowest <= ceiling.mul_f64(0.1),
                "attempt {attempt}: never below {lowest:?}, the ceiling is {ceiling:?}"
            );
        }
        // A Retry-After is a floor: longer than the backoff, it is the wait exactly; shorter,
        // the jittered backoff above it stands.
        assert_eq!(backoff(&config, 1, Some(secs(40))), secs(40));
        assert_eq!(backoff(&config, 9, Some(secs(301))), secs(301));
        let draws: Vec<Duration> = (0..400)
            .map(|_| backoff(&config, 9, Some(secs(3))))
            .collect();
        assert!(
            draws.iter().all(|d| (secs(3)..=secs(300)).contains(d)),
            "{draws:?}"
        );
        assert!(
            draws.iter().any(|d| *d >= secs(270)),
            "the floor replaced the backoff: {draws:?}"
        );
    }
}
