//! WooCommerce REST v3 wire types: what ttwc reads of orders, products, variations, webhooks,
//! notes and settings.
//!
//! Every type ignores fields it does not name (a store's answer has dozens more, and plugins add
//! their own) and reads its fields leniently (see the crate's `de` module): `null` strings, ids
//! as strings, `"yes"` booleans. A field is required only when an answer without it cannot be
//! what we asked for (`id`, an order's `status`).
//!
//! Quirks kept on purpose:
//! - Money is a decimal **string** (`"63960.00"`) and stays one; parse it with a decimal type,
//!   never a float.
//! - Dates come as `YYYY-MM-DDTHH:MM:SS` with no zone. Only the `_gmt` variants are read, as UTC;
//!   the others are in the store's local time zone, which the API does not state.
//! - Weights and dimensions are strings, `""` when unset; the unit is the store-wide
//!   [`WeightUnit`] setting.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::de;
use crate::secrets::WebhookSecret;

/// An order status slug, without WooCommerce's internal `wc-` prefix.
///
/// A newtype over the string rather than an enum: stores add their own statuses
/// (`checkout-draft` from block checkout, a shipping plugin's `shipped`), and an order in one of
/// them must still parse.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrderStatus(String);

impl<'de> Deserialize<'de> for OrderStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::string(d).map(OrderStatus::new)
    }
}

impl OrderStatus {
    pub const PENDING: &'static str = "pending";
    pub const PROCESSING: &'static str = "processing";
    pub const ON_HOLD: &'static str = "on-hold";
    pub const COMPLETED: &'static str = "completed";
    pub const CANCELLED: &'static str = "cancelled";
    pub const REFUNDED: &'static str = "refunded";
    pub const FAILED: &'static str = "failed";
    /// Block checkout's draft; such orders reach `order.updated` webhooks and must be ignored.
    pub const CHECKOUT_DRAFT: &'static str = "checkout-draft";

    /// A status from its slug; a leading `wc-` (the database spelling) is dropped, as the REST
    /// API does.
    pub fn new(slug: impl Into<String>) -> OrderStatus {
        let slug = slug.into();
        let slug = match slug.strip_prefix("wc-") {
            Some(rest) => rest.to_owned(),
            None => slug,
        };
        OrderStatus(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn processing() -> OrderStatus {
        OrderStatus::new(Self::PROCESSING)
    }

    pub fn completed() -> OrderStatus {
        OrderStatus::new(Self::COMPLETED)
    }
}

impl PartialEq<str> for OrderStatus {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for OrderStatus {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// An order (`GET /wc/v3/orders/<id>`, list items, and webhook delivery bodies).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de::id")]
    pub parent_id: u64,
    /// The number shown to the customer (a plugin may make it differ from `id`).
    #[serde(default, deserialize_with = "de::string")]
    pub number: String,
    #[serde(default, deserialize_with = "de::string")]
    pub order_key: String,
    #[serde(default, deserialize_with = "de::string")]
    pub created_via: String,
    pub status: OrderStatus,
    #[serde(default, deserialize_with = "de::string")]
    pub currency: String,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_created_gmt: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_modified_gmt: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_paid_gmt: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_completed_gmt: Option<OffsetDateTime>,
    /// Decimal string, like every money field.
    #[serde(default, deserialize_with = "de::string")]
    pub discount_total: String,
    #[serde(default, deserialize_with = "de::string")]
    pub shipping_total: String,
    #[serde(default, deserialize_with = "de::string")]
    pub total: String,
    #[serde(default, deserialize_with = "de::string")]
    pub total_tax: String,
    #[serde(default, deserialize_with = "de::boolean")]
    pub prices_include_tax: bool,
    /// The WordPress user id of the customer; 0 for a guest.
    #[serde(default, deserialize_with = "de::id")]
    pub customer_id: u64,
    #[serde(default, deserialize_with = "de::string")]
    pub customer_note: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub billing: Address,
    #[serde(default, deserialize_with = "null_as_default")]
    pub shipping: Address,
    #[serde(default, deserialize_with = "de::string")]
    pub payment_method: String,
    #[serde(default, deserialize_with = "de::string")]
    pub payment_method_title: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub meta_data: Vec<MetaData>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub line_items: Vec<LineItem>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub shipping_lines: Vec<ShippingLine>,
}

impl Order {
    /// The value of the first meta entry with `key`, as WooCommerce's `get_meta($key, true)`.
    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.meta_data
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// The first meta entry with `key` when its value is a string.
    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta(key).and_then(Value::as_str)
    }

    /// The number the merchant knows the order by: `number`, or the id when the store sent none.
    pub fn number_or_id(&self) -> String {
        number_or_id(&self.number, self.id)
    }
}

/// `number`, or `id` when `number` is empty (WooCommerce's number is the id unless a plugin
/// changes it; an empty one is a store or plugin that sent none).
pub(crate) fn number_or_id(number: &str, id: u64) -> String {
    if number.is_empty() {
        id.to_string()
    } else {
        number.to_owned()
    }
}

/// A billing or shipping address. Billing has `email`; shipping has `phone` since WooCommerce 5.6
/// although the schema omits it. `state` is the stored code (`CL-RM`), or free text on old orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Address {
    #[serde(deserialize_with = "de::string")]
    pub first_name: String,
    #[serde(deserialize_with = "de::string")]
    pub last_name: String,
    #[serde(deserialize_with = "de::string")]
    pub company: String,
    #[serde(deserialize_with = "de::string")]
    pub address_1: String,
    #[serde(deserialize_with = "de::string")]
    pub address_2: String,
    #[serde(deserialize_with = "de::string")]
    pub city: String,
    #[serde(deserialize_with = "de::string")]
    pub state: String,
    #[serde(deserialize_with = "de::string")]
    pub postcode: String,
    #[serde(deserialize_with = "de::string")]
    pub country: String,
    #[serde(deserialize_with = "de::string")]
    pub email: String,
    #[serde(deserialize_with = "de::string")]
    pub phone: String,
}

/// One `meta_data` entry of an order, line or product. The value is any JSON: plugins store
/// arrays and objects there.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetaData {
    /// The meta row id; absent in some plugin-built payloads.
    #[serde(default, deserialize_with = "de::id")]
    pub id: u64,
    #[serde(deserialize_with = "de::string")]
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

/// A product line of an order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LineItem {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// The product; for a variation, its parent product.
    #[serde(default, deserialize_with = "de::id")]
    pub product_id: u64,
    /// The variation, or 0.
    #[serde(default, deserialize_with = "de::id")]
    pub variation_id: u64,
    #[serde(default, deserialize_with = "de::int")]
    pub quantity: i64,
    /// `null` when the product was deleted after the order.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub sku: Option<String>,
    /// `total / quantity` as a JSON **number** (a float, possibly not round).
    ///
    /// Never use it for money: it is a float computed after rounding. Use `total` and
    /// `subtotal`, which are decimal strings.
    #[serde(default, deserialize_with = "de::opt_number")]
    pub price: Option<serde_json::Number>,
    #[serde(default, deserialize_with = "de::string")]
    pub subtotal: String,
    #[serde(default, deserialize_with = "de::string")]
    pub total: String,
    /// Variation attributes appear here (`talla` = `42`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub meta_data: Vec<MetaData>,
    /// The parent product's name for a variation line, else `None`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub parent_name: Option<String>,
}

/// A shipping line: which method the customer chose.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShippingLine {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de::string")]
    pub method_title: String,
    /// `flat_rate`, `free_shipping`, `local_pickup`, `pickup_location` (block checkout's
    /// pickup), or a plugin's id.
    #[serde(default, deserialize_with = "de::string")]
    pub method_id: String,
    /// A string in practice (`""` or `"3"`), a number from some plugins; kept as text.
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: String,
    #[serde(default, deserialize_with = "de::string")]
    pub total: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub meta_data: Vec<MetaData>,
}

impl ShippingLine {
    /// Whether the customer collects the order themselves (no courier shipment).
    pub fn is_pickup(&self) -> bool {
        matches!(self.method_id.as_str(), "local_pickup" | "pickup_location")
    }
}

/// A product's `dimensions`: decimal strings in the store's dimension unit, `""` when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Dimensions {
    #[serde(deserialize_with = "de::string")]
    pub length: String,
    #[serde(deserialize_with = "de::string")]
    pub width: String,
    #[serde(deserialize_with = "de::string")]
    pub height: String,
}

/// A product (`GET /wc/v3/products`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// `simple`, `variable`, `grouped`, `external`, or a plugin's type.
    #[serde(rename = "type", default, deserialize_with = "de::string")]
    pub kind: String,
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    #[serde(default, deserialize_with = "de::opt_string")]
    pub sku: Option<String>,
    /// Decimal string in the store's [`WeightUnit`]; `""` when unset.
    #[serde(default, deserialize_with = "de::string")]
    pub weight: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub dimensions: Dimensions,
    #[serde(rename = "virtual", default, deserialize_with = "de::boolean")]
    pub is_virtual: bool,
    #[serde(default, deserialize_with = "de::boolean")]
    pub downloadable: bool,
    #[serde(default, deserialize_with = "de::id")]
    pub parent_id: u64,
    /// Variation ids of a variable product.
    #[serde(default, deserialize_with = "de::ids")]
    pub variations: Vec<u64>,
}

impl Product {
    /// The weight as written in the store, or `None` when unset.
    pub fn weight(&self) -> Option<&str> {
        non_empty(&self.weight)
    }
}

/// A variation (`GET /wc/v3/products/<id>/variations`).
///
/// `weight` already falls back to the parent's weight when the variation has none of its own
/// (WooCommerce's `get_weight` does that in view context).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Variation {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The parent product. Recent WooCommerce sends it; when it is absent the client fills it in
    /// from the product the variations were asked for.
    #[serde(default, deserialize_with = "de::id")]
    pub parent_id: u64,
    #[serde(rename = "type", default, deserialize_with = "de::string")]
    pub kind: String,
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    #[serde(default, deserialize_with = "de::opt_string")]
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub weight: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub dimensions: Dimensions,
    #[serde(rename = "virtual", default, deserialize_with = "de::boolean")]
    pub is_virtual: bool,
    #[serde(default, deserialize_with = "de::boolean")]
    pub downloadable: bool,
}

impl Variation {
    /// The weight (own or inherited), or `None` when unset.
    pub fn weight(&self) -> Option<&str> {
        non_empty(&self.weight)
    }
}

/// The store's weight unit (`woocommerce_weight_unit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightUnit {
    Kg,
    G,
    Lbs,
    Oz,
    /// A unit added by a plugin; kept so the caller can report it.
    Other(String),
}

impl WeightUnit {
    pub fn parse(s: &str) -> WeightUnit {
        match s.trim() {
            "kg" => WeightUnit::Kg,
            "g" => WeightUnit::G,
            "lbs" => WeightUnit::Lbs,
            "oz" => WeightUnit::Oz,
            other => WeightUnit::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            WeightUnit::Kg => "kg",
            WeightUnit::G => "g",
            WeightUnit::Lbs => "lbs",
            WeightUnit::Oz => "oz",
            WeightUnit::Other(s) => s,
        }
    }

    /// Kilograms in one unit, or `None` for an unknown unit.
    pub fn kilograms_per_unit(&self) -> Option<f64> {
        match self {
            WeightUnit::Kg => Some(1.0),
            WeightUnit::G => Some(0.001),
            WeightUnit::Lbs => Some(0.453_592_37),
            WeightUnit::Oz => Some(0.028_349_523_125),
            WeightUnit::Other(_) => None,
        }
    }
}

/// One setting (`GET /wc/v3/settings/<group>/<id>`); only its value is read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SettingValue {
    #[serde(default, deserialize_with = "de::string")]
    pub id: String,
    #[serde(default)]
    pub value: Value,
}

/// A webhook's status. `paused` is set by a person; `disabled` is what WooCommerce sets after the
/// 7th failed delivery in a row (and what an invalid status becomes).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookStatus(String);

impl WebhookStatus {
    pub const ACTIVE: &'static str = "active";
    pub const PAUSED: &'static str = "paused";
    pub const DISABLED: &'static str = "disabled";

    pub fn new(s: impl Into<String>) -> WebhookStatus {
        WebhookStatus(s.into())
    }
    pub fn active() -> WebhookStatus {
        WebhookStatus::new(Self::ACTIVE)
    }
    pub fn paused() -> WebhookStatus {
        WebhookStatus::new(Self::PAUSED)
    }
    pub fn disabled() -> WebhookStatus {
        WebhookStatus::new(Self::DISABLED)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_active(&self) -> bool {
        self.0 == Self::ACTIVE
    }
}

impl fmt::Display for WebhookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for WebhookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A webhook (`/wc/v3/webhooks`). The secret is not read: WooCommerce 9.2.5 does not return it
/// even on create, so the caller must keep the one it sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Webhook {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    pub status: WebhookStatus,
    /// `<resource>.<event>`, e.g. `order.updated`.
    #[serde(default, deserialize_with = "de::string")]
    pub topic: String,
    #[serde(default, deserialize_with = "de::string")]
    pub resource: String,
    #[serde(default, deserialize_with = "de::string")]
    pub event: String,
    #[serde(default, deserialize_with = "de::string")]
    pub delivery_url: String,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_created_gmt: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_modified_gmt: Option<OffsetDateTime>,
}

/// What to create a webhook with. WooCommerce creates it `active` whatever status is sent, and
/// pings `delivery_url` (form body `webhook_id=<id>`) before answering.
#[derive(Debug, Clone)]
pub struct WebhookCreate {
    pub name: String,
    /// E.g. `order.updated`.
    pub topic: String,
    pub delivery_url: String,
    pub secret: WebhookSecret,
}

impl WebhookCreate {
    pub(crate) fn to_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "topic": self.topic,
            "delivery_url": self.delivery_url,
            "secret": self.secret.expose(),
            "status": WebhookStatus::ACTIVE,
        })
    }
}

/// An order note (`/wc/v3/orders/<id>/notes`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderNote {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `WooCommerce` for notes written by the system or by an API key, or a user's name.
    #[serde(default, deserialize_with = "de::string")]
    pub author: String,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_created_gmt: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::string")]
    pub note: String,
    /// Whether the note was also e-mailed to the customer.
    #[serde(default, deserialize_with = "de::boolean")]
    pub customer_note: bool,
}

/// The REST index (`GET /wp-json/`): which API namespaces the store serves, and the site's
/// time zone as WordPress keeps it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RestIndex {
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The site's IANA zone (`America/Santiago`); empty when the site is set to a fixed offset
    /// ("UTC-4" in WordPress's settings) or the index does not say.
    #[serde(default, deserialize_with = "de::string")]
    pub timezone_string: String,
    /// The site's offset from UTC in hours (`-4`, `5.5`); `None` when absent or not a number.
    #[serde(default, deserialize_with = "de::opt_hours")]
    pub gmt_offset: Option<f64>,
    /// WordPress's home address (`home_url()`): the one WooCommerce signs OAuth requests against.
    #[serde(default)]
    pub home: Option<String>,
    /// WordPress's site address (`site_url()`), where WordPress's own files are.
    #[serde(default)]
    pub url: Option<String>,
}

impl RestIndex {
    /// The namespace of the Shipment Tracking extension.
    pub const SHIPMENT_TRACKING: &'static str = "wc-shipment-tracking/v3";

    pub fn has_namespace(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == namespace)
    }
}

/// One order status the store has registered, as `GET /wc/v3/reports/orders/totals` lists it:
/// the slug without `wc-`, the name the store shows (translated, custom ones included) and how
/// many orders have it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderStatusTotal {
    #[serde(deserialize_with = "de::string")]
    pub slug: String,
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    #[serde(default, deserialize_with = "de::int")]
    pub total: i64,
}

/// The part of `GET /wc/v3/system_status` ttwc reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct SystemStatus {
    #[serde(default)]
    pub environment: SystemEnvironment,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct SystemEnvironment {
    /// The site's locale (`get_locale()`), e.g. `es_CL`.
    #[serde(default, deserialize_with = "de::string")]
    pub language: String,
}

/// A tracking entry of the Shipment Tracking extension.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShipmentTracking {
    #[serde(default, deserialize_with = "de::string")]
    pub tracking_id: String,
    #[serde(default, deserialize_with = "de::string")]
    pub tracking_provider: String,
    #[serde(default, deserialize_with = "de::string")]
    pub custom_tracking_provider: String,
    #[serde(default, deserialize_with = "de::string")]
    pub tracking_number: String,
    #[serde(default, deserialize_with = "de::string")]
    pub tracking_link: String,
}

/// WooCommerce's (WordPress REST's) error body: `{"code", "message", "data": {"status"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct WcErrorBody {
    #[serde(default, deserialize_with = "de::string")]
    pub code: String,
    #[serde(default, deserialize_with = "de::string")]
    pub message: String,
}

/// An object that may be `null` instead of `{}`.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn non_empty(s: &str) -> Option<&str> {
    let t = s.trim();
    if t.is_empty() { None } else { Some(t) }
}

/// A list that may be `null` (as some plugins send) instead of `[]`.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_tolerates_custom_status_nulls_and_odd_types() {
        let o: Order = serde_json::from_value(json!({
            "id": "7",
            "status": "wc-shipped",
            "customer_id": null,
            "billing": {"first_name": null, "phone": 56912345678u64},
            "shipping": null,
            "meta_data": [{"key": "_x", "value": {"a": [1, 2]}}],
            "line_items": [{"id": 1, "sku": null, "price": 10.5, "quantity": "2"}],
            "shipping_lines": [{"id": 2, "method_id": "pickup_location", "instance_id": 3}],
            "date_created_gmt": "2026-11-27T08:26:42",
            "extra": {"whatever": true}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.id, 7);
        assert_eq!(o.status, "shipped");
        assert_eq!(o.billing.phone, "56912345678");
        assert_eq!(o.shipping, Address::default());
        assert_eq!(o.meta("_x"), Some(&json!({"a": [1, 2]})));
        assert_eq!(o.line_items[0].sku, None);
        assert_eq!(o.line_items[0].quantity, 2);
        assert_eq!(
            o.line_items[0].price.as_ref().and_then(|n| n.as_f64()),
            Some(10.5)
        );
        assert!(o.shipping_lines[0].is_pickup());
        assert_eq!(o.shipping_lines[0].instance_id, "3");
    }

    #[test]
    fn order_without_status_is_not_an_order() {
        // A `deleted` webhook delivers just `{"id": N}`; it must not pass for an order.
        assert!(serde_json::from_value::<Order>(json!({"id": 5})).is_err());
    }

    #[test]
    fn weight_units() {
        assert_eq!(WeightUnit::parse("kg"), WeightUnit::Kg);
        assert_eq!(
            WeightUnit::parse("lbs").kilograms_per_unit(),
            Some(0.453_592_37)
        );
        assert_eq!(
            WeightUnit::parse("stone"),
            WeightUnit::Other("stone".into())
        );
        assert_eq!(WeightUnit::parse("stone").kilograms_per_unit(), None);
    }

    #[test]
    fn webhook_create_body_carries_the_secret() {
        let c = WebhookCreate {
            name: "ttwc".into(),
            topic: "order.updated".into(),
            delivery_url: "https://ttwc.example/hook".into(),
            secret: WebhookSecret::new("abc123").unwrap(),
        };
        assert_eq!(c.to_json()["secret"], "abc123");
        assert!(!format!("{c:?}").contains("abc123"));
    }
}
