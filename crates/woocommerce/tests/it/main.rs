//! The crate's one integration-test binary.
//!
//! - `samples`: every answer captured from a real WooCommerce 9.2.5 store parses, and the real
//!   signed delivery verifies (a known-answer vector).
//! - `scripted`: the client against a local server that answers what each test scripts (auth
//!   fallback, error classes, malformed bodies, paging).
//! - `sim`: every client call against the WooCommerce simulator, over http and https.

mod samples;
mod scripted;
mod server;
mod sim;
