//! Connector integration tests.

mod store;
