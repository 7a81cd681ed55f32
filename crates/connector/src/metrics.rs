//! Metrics, in Prometheus' text format at `/metrics`.
//!
//! Counters are counted where things happen (deliveries by outcome, sends by outcome,
//! TrackingTech errors by class) and a histogram times each send; gauges that are facts about
//! the database (orders by state, the age of the oldest queued order) are read at scrape time,
//! so every replica reports the same truth.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::{OrderState, Store};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Class {
    pub class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct State {
    pub state: String,
}

/// Every metric ttwc exports.
pub struct Metrics {
    registry: Registry,
    /// Webhook deliveries accepted (2xx), by what happened: queued, known, ping, ignored.
    pub deliveries_received: Family<Outcome, Counter>,
    /// Webhook deliveries refused, by reason: unknown_connection, bad_signature, bad_request,
    /// wrong_topic, storage.
    pub deliveries_refused: Family<Reason, Counter>,
    /// Send attempts by outcome: sent, retry, needs_relogin, failed, rejected, skipped.
    pub sends: Family<Outcome, Counter>,
    /// TrackingTech errors by class: transient, auth, rejected.
    pub trackingtech_errors: Family<Class, Counter>,
    /// Seconds from claiming an order to recording the outcome.
    pub send_seconds: Histogram,
    orders: Family<State, Gauge>,
    oldest_queued_seconds: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("ttwc");
        let deliveries_received = Family::<Outcome, Counter>::default();
        registry.register(
            "deliveries_received",
            "Webhook deliveries answered 2xx, by outcome",
            deliveries_received.clone(),
        );
        let deliveries_refused = Family::<Reason, Counter>::default();
        registry.register(
            "deliveries_refused",
            "Webhook deliveries refused, by reason",
            deliveries_refused.clone(),
        );
        let sends = Family::<Outcome, Counter>::default();
        registry.register(
            "sends",
            "Send attempts to TrackingTech, by outcome",
            sends.clone(),
        );
        let trackingtech_errors = Family::<Class, Counter>::default();
        registry.register(
            "trackingtech_errors",
            "TrackingTech errors, by class",
            trackingtech_errors.clone(),
        );
        let send_seconds = Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]);
        registry.register(
            "send_seconds",
            "Time to send one order and record the outcome",
            send_seconds.clone(),
        );
        let orders = Family::<State, Gauge>::default();
        registry.register("orders", "Orders in the outbox, by state", orders.clone());
        let oldest_queued_seconds = Gauge::default();
        registry.register(
            "oldest_queued_seconds",
            "Age of the oldest order waiting to be sent",
            oldest_queued_seconds.clone(),
        );
        Metrics {
            registry,
            deliveries_received,
            deliveries_refused,
            sends,
            trackingtech_errors,
            send_seconds,
            orders,
            oldest_queued_seconds,
        }
    }

    pub fn delivery(&self, outcome: &str) {
        self.deliveries_received
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn refused(&self, reason: &str) {
        self.deliveries_refused
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn send(&self, outcome: &str) {
        self.sends
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn trackingtech_error(&self, class: &str) {
        self.trackingtech_errors
            .get_or_create(&Class {
                class: class.to_owned(),
            })
            .inc();
    }

    /// Reads the database's gauges and renders everything.
    pub async fn render(&self, store: &dyn Store) -> Result<String, crate::store::StoreError> {
        let summary = store.outbox_summary().await?;
        for state in OrderState::ALL {
            let n = summary
                .by_state
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            self.orders
                .get_or_create(&State {
                    state: state.as_str().to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let age = summary
            .oldest_queued
            .map(|created| (crate::store::now() - created).whole_seconds())
            .unwrap_or(0);
        self.oldest_queued_seconds.set(age.max(0));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
