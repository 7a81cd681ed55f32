//! The crate's one integration-test binary.
//!
//! - `samples`: every answer captured from a real WooCommerce 9.2.5 store parses, and the real
//!   signed delivery verifies (a known-answer vector).
//! - `scripted`: the client against a local server that answers what each test scripts (auth
//!   fallback, error classes, malformed bodies, paging).
//! - `sim`: every client call against the WooCommerce simulator, over http and https.

/// Options for the tests' stand-in stores, which all listen on loopback: the guard refuses
/// loopback unless it is allowed, as an operator would allow an internal network.
pub fn loopback_options() -> woocommerce::HttpOptions {
    woocommerce::HttpOptions {
        policy: woocommerce::Policy::allowing(egress::loopback()),
        ..woocommerce::HttpOptions::default()
    }
}

/// A shared HTTP side built from `options`.
pub fn http(options: woocommerce::HttpOptions) -> woocommerce::Http {
    woocommerce::Http::new(options).expect("http client")
}

mod guard;
mod samples;
mod scripted;
mod server;
mod sim;
