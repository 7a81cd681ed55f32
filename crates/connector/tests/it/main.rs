//! Connector integration tests: storage, the wizard over HTTP, the dashboard's actions.

mod browser;
mod dashboard;
mod display;
mod full_disk;
mod helpers;
mod legacy_texts;
mod observability;
mod outage;
mod reconnect_keys;
mod sessions;
mod site;
mod ssrf;
mod startup;
mod store;
mod store_errors;
mod sync;
mod takeover;
mod tracking;
mod wizard;
