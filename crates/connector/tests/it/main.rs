//! Connector integration tests: storage, the wizard over HTTP, the dashboard's actions.

mod helpers;
mod startup;
mod store;
mod wizard;
