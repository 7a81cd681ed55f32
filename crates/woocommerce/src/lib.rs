//! WooCommerce REST v3 client, webhook verification and wc-auth, as seen from outside a store.
//!
//! ttwc never runs inside WordPress: it talks to a store only through WooCommerce's public
//! integration points, and this crate is the whole of that conversation.
//!
//! - [`StoreUrl`], [`Credentials`], [`WebhookSecret`]: checked newtypes built once at the edge.
//! - [`Http`]: the HTTP side all store calls share, with the address guard ([`Policy`]).
//! - [`Client`]: the REST v3 client, a handle over [`Http`]. Over `https` it authenticates with HTTP Basic and falls back
//!   to `consumer_key`/`consumer_secret` query parameters when the host strips the
//!   `Authorization` header; over plain `http` it signs every request with OAuth 1.0a
//!   (HMAC-SHA256), which is the only thing WooCommerce accepts there ([`oauth`]).
//! - [`types`]: the wire types (orders, products, variations, webhooks, notes, settings), tolerant
//!   of extra fields and of the quirks real stores show.
//! - [`Error`] and [`ErrorClass`]: every failure, classed transient / auth / rejected the same
//!   way as the TrackingTech client.
//! - [`webhook`]: signature check, `X-WC-Webhook-*` headers, the ping.
//! - [`wc_auth`]: the `/wc-auth/v1/authorize` URL and the key callback.
//!
//! The golden samples in `testdata/woocommerce-samples/` hold real answers this crate must parse.

mod client;
mod de;
mod error;
pub mod oauth;
mod response;
mod secrets;
mod store_url;
pub mod types;
pub mod wc_auth;
pub mod webhook;

pub use client::{AuthMode, BuildError, Client, Http, HttpOptions, MAX_INDEX_BYTES, OrderQuery};
pub use egress::{Policy, Refused};
pub use error::{AuthProblem, BodyProblem, CertProblem, Error, ErrorClass, TransportKind};
pub use secrets::{Credentials, CredentialsError, WebhookSecret, WebhookSecretError};
pub use store_url::{StoreUrl, StoreUrlError};
pub use types::{
    Address, LineItem, MetaData, Order, OrderNote, OrderStatus, OrderStatusTotal, Product,
    RestIndex, ShipmentTracking, ShippingLine, Variation, Webhook, WebhookCreate, WebhookStatus,
    WeightUnit,
};
