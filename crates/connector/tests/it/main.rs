//! Connector integration tests: storage, the wizard over HTTP, the dashboard's actions.

mod helpers;
mod store;
mod wizard;
