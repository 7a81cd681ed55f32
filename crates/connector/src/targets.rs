//! What the webhook receiver needs to know about a connection, kept in memory for a moment.
//!
//! Every delivery names its connection; reading the row and opening its webhook secret for each
//! one cost a database round trip and an AES-GCM open per delivery, for facts that change a few
//! times in a connection's life. Entries live [`TTL`]: changes made through this process's
//! [`App`](crate::App) drop the entry at once, and changes made by another process (a replica, a
//! `ttwc disconnect`) are seen within [`TTL`]. A signature that fails against a cached secret is
//! checked again against a fresh read before the delivery is refused, so a reconnect's new
//! secret works at once everywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::store::{ConnectionRow, ConnectionState};

/// How long a cached connection is trusted.
pub const TTL: Duration = Duration::from_secs(1);

/// The receiver's view of one connection.
#[derive(Clone)]
pub struct Target {
    pub id: String,
    pub state: ConnectionState,
    pub trigger_status: String,
    /// When the store was (last) connected: orders created before are not sent automatically.
    pub connected_at: OffsetDateTime,
    /// The highest order id the store had when connected, once known.
    pub order_id_at_connect: Option<i64>,
    /// The opened webhook secret; `None` when there is none or it does not open.
    pub webhook_secret: Option<woocommerce::WebhookSecret>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("trigger_status", &self.trigger_status)
            .field("connected_at", &self.connected_at)
            .field("order_id_at_connect", &self.order_id_at_connect)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Target {
    /// What decides whether an order is new since this connection.
    pub fn new_since(&self) -> crate::connection::NewSince {
        crate::connection::NewSince {
            connected_at: self.connected_at,
            order_id_at_connect: self.order_id_at_connect,
        }
    }

    pub fn new(row: &ConnectionRow, webhook_secret: Option<woocommerce::WebhookSecret>) -> Target {
        Target {
            id: row.id.clone(),
            state: row.state,
            trigger_status: row.trigger_status.clone(),
            connected_at: row.connected_at.unwrap_or(row.created_at),
            order_id_at_connect: row.order_id_at_connect,
            webhook_secret,
        }
    }
}

/// Connections the receiver has looked up, each with the time it was read.
#[derive(Default)]
pub struct Targets {
    entries: Mutex<HashMap<String, (Instant, Arc<Target>)>>,
}

impl Targets {
    /// The cached target, if read less than [`TTL`] ago.
    pub fn get(&self, id: &str) -> Option<Arc<Target>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(id) {
            Some((read, target)) if read.elapsed() < TTL => Some(target.clone()),
            _ => None,
        }
    }

    pub fn put(&self, target: Target) -> Arc<Target> {
        let target = Arc::new(target);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Only real connections are cached, so the map is bounded by their number; expired
        // entries are dropped as the map grows rather than on a timer.
        if entries.len() >= 1024 && entries.len().is_power_of_two() {
            entries.retain(|_, (read, _)| read.elapsed() < TTL);
        }
        entries.insert(target.id.clone(), (Instant::now(), target.clone()));
        target
    }

    /// Drops a connection this process has just changed.
    pub fn forget(&self, id: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str) -> Target {
        Target {
            id: id.into(),
            state: ConnectionState::Connected,
            trigger_status: "processing".into(),
            connected_at: OffsetDateTime::UNIX_EPOCH,
            order_id_at_connect: None,
            webhook_secret: woocommerce::WebhookSecret::new("s3cret-value").ok(),
        }
    }

    #[test]
    fn entries_are_served_until_forgotten() {
        let targets = Targets::default();
        assert!(targets.get("con_a").is_none());
        targets.put(target("con_a"));
        assert_eq!(
            targets.get("con_a").map(|t| t.id.clone()),
            Some("con_a".into())
        );
        assert!(targets.get("con_b").is_none());
        targets.forget("con_a");
        assert!(targets.get("con_a").is_none());
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let targets = Targets::default();
        targets.entries.lock().unwrap().insert(
            "con_old".into(),
            (Instant::now() - TTL, Arc::new(target("con_old"))),
        );
        assert!(targets.get("con_old").is_none());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", target("con_a"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
