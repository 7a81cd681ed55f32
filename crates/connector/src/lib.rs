//! The product: connections, the order mapping, the outbox and its workers, storage and the web app.
//!
//! Layers, one folder each: `store/` (the only place that runs SQL), `engine/` (outbox, workers,
//! schedules; with the sync engine), `web/` (routes, templates, sessions). `connection` holds a
//! connection's lifecycle (the wizard's steps, disconnect) for both the web app and the CLI;
//! `crypto` seals the secrets the store keeps; `display` is how text from outside is shown.

pub mod app;
pub mod config;
pub mod connection;
pub mod crypto;
pub mod display;
pub mod engine;
pub mod mapping;
pub mod metrics;
pub mod site;
pub mod store;
pub mod targets;
pub mod text;
pub mod web;

pub use app::{App, AppOptions, StartError};
pub use config::Settings;
