//! Every path, header and fixed string of the TrackingTech contract, in one place.
//!
//! TrackingTech publishes no API reference; the contract below is the one ttwc decided on
//! (`docs/trackingtech-api.yaml`). Adapting to the real API should be a change to this module
//! and to `types`, not to callers.

/// Production base URL; the official plugin moved here from a testing environment in 1.0.1.
pub const PRODUCTION_BASE_URL: &str = "https://api-app.trackingtech.cl/api";

/// The `platform` string the tenant validator and `link` require.
pub const PLATFORM: &str = "woocommerce";

pub const PATH_RESOLVE: &str = "/external/tenants/resolve";
pub const PATH_LOGIN: &str = "/external/login";
pub const PATH_STORES: &str = "/external/stores";
pub const PATH_LINK: &str = "/external/woocommerce/link";
pub const PATH_ORDERS: &str = "/external/woocommerce/orders";
pub const PATH_ORDER_STATUS: &str = "/external/woocommerce/orders/status";
pub const PATH_UNINSTALL: &str = "/external/woocommerce/uninstall";

pub const HEADER_IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The most order ids one status request may carry.
pub const MAX_STATUS_BATCH: usize = 100;

/// Shipment status strings seen so far. Anything else is kept as it comes.
pub mod status {
    pub const CREATED: &str = "created";
    pub const PENDING: &str = "pending";
    pub const PICKED_UP: &str = "picked_up";
    pub const IN_TRANSIT: &str = "in_transit";
    pub const OUT_FOR_DELIVERY: &str = "out_for_delivery";
    pub const DELIVERED: &str = "delivered";
    pub const FAILED_ATTEMPT: &str = "failed_attempt";
    pub const RETURNED: &str = "returned";
    pub const CANCELLED: &str = "cancelled";

    /// Statuses after which a shipment never changes again.
    pub const FINAL: [&str; 3] = [DELIVERED, RETURNED, CANCELLED];
}
