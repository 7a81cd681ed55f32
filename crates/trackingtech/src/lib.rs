//! TrackingTech API: wire types, an async client and its error taxonomy.
//!
//! The contract itself (paths, status strings) lives in [`contract`]; the JSON shapes in
//! [`types`]. The [`Client`] speaks it over reqwest with rustls and turns every answer into
//! either a typed value or an [`Error`] whose [`Error::class`] says what to do next:
//! retry later, ask a person to log in again, or keep the rejection for a person to fix.
//! [`device_id`] computes the installation's `deviceId` for a store.
//!
//! This crate knows nothing of WooCommerce or of storage.

mod client;
pub mod contract;
mod device;
mod error;
pub mod types;

pub use client::{Client, ClientOptions, MAX_BODY_BYTES};
pub use device::{StoreUrlError, device_id, normalize_store_url};
#[doc(hidden)]
pub use error::error_from_answer;
pub use error::{Error, ErrorClass, FieldErrors};
pub use types::{
    Id, LinkRequest, Linked, Login, LoginRequest, OrderBody, OrderPayload, OrderStatus, Page,
    Product, ResolveRequest, Resolved, Secret, SentOrder, ShipmentStatus, Shipping, Store, Tenant,
    UninstallRequest, User,
};
