//! The product: connections, the order mapping, the outbox and its workers, storage and the web app.
//!
//! Nothing lives here yet; the sync engine and the wizard arrive with issues 4 and 5.
