//! The product: connections, the order mapping, the outbox and its workers, storage and the web app.
//!
//! Layers, one folder each: `store/` (the only place that runs SQL), `engine/` (outbox, workers,
//! schedules; with the sync engine), `web/` (routes, templates, sessions). `crypto` seals the
//! secrets the store keeps.

pub mod crypto;
pub mod store;
