//! Wire types of the TrackingTech contract: what ttwc sends and what it accepts back.
//!
//! Answers are parsed leniently where the real API is unknown (ids may be numbers or strings,
//! pagination may sit at the top level or under `meta`, dates are kept as text) and strictly
//! where ttwc relies on a value (a token must be a string).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::contract;

/// A secret string that never shows itself in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// An identifier the API may give as a number or as a string; sent back exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Number(u64),
    Text(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolveRequest<'a> {
    pub code: &'a str,
    pub platform: &'a str,
    #[serde(rename = "deviceId")]
    pub device_id: &'a str,
}

impl<'a> ResolveRequest<'a> {
    pub fn new(code: &'a str, device_id: &'a str) -> Self {
        ResolveRequest {
            code,
            platform: contract::PLATFORM,
            device_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tenant {
    pub code: String,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Resolved {
    pub tenant: Tenant,
    /// The tenant's own API base URL, when it lives on another host.
    #[serde(default)]
    pub api_url: Option<String>,
}

impl Resolved {
    /// The tenant's own API base URL, when it gave a non-empty one. Whoever calls it decides
    /// how far to trust it (ttwc puts it behind its address guard).
    pub fn own_api_url(&self) -> Option<&str> {
        self.api_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }
}

#[derive(Clone, Serialize)]
pub struct LoginRequest<'a> {
    pub email: &'a str,
    pub password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
}

impl fmt::Debug for LoginRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: Id,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Login {
    pub token: Secret,
    /// Seconds until the token expires, when the API says.
    #[serde(default)]
    pub expires_in: Option<u64>,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Store {
    pub id: Id,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub address: String,
}

/// One page of a Laravel-style list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub last_page: u64,
    pub total: u64,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Laravel's paginator puts `last_page` and `total` either beside `data` or under `meta`
        // (API resources); both forms are accepted.
        #[derive(Deserialize)]
        struct Meta {
            last_page: Option<u64>,
            total: Option<u64>,
        }
        #[derive(Deserialize)]
        struct Raw<T> {
            data: Vec<T>,
            last_page: Option<u64>,
            total: Option<u64>,
            meta: Option<Meta>,
        }
        let raw = Raw::<T>::deserialize(deserializer)?;
        let meta = raw.meta.unwrap_or(Meta {
            last_page: None,
            total: None,
        });
        let total = raw.total.or(meta.total).unwrap_or(raw.data.len() as u64);
        let last_page = raw.last_page.or(meta.last_page).unwrap_or(1).max(1);
        Ok(Page {
            data: raw.data,
            last_page,
            total,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkRequest<'a> {
    pub store_id: &'a Id,
    pub store_url: &'a str,
    #[serde(rename = "deviceId")]
    pub device_id: &'a str,
    pub platform: &'a str,
}

impl<'a> LinkRequest<'a> {
    pub fn new(store_id: &'a Id, store_url: &'a str, device_id: &'a str) -> Self {
        LinkRequest {
            store_id,
            store_url,
            device_id,
            platform: contract::PLATFORM,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Linked {
    #[serde(deserialize_with = "id_as_string")]
    pub customer_id: String,
    pub integration_token: Secret,
}

/// The order body: exactly the disclosed fields, nothing else from the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub order_id: u64,
    pub customer_id: String,
    pub store_url: String,
    pub products: Vec<Product>,
    pub shipping: Shipping,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    pub sku: String,
    pub quantity: u32,
    /// Unit price as a decimal string; never a float.
    pub price: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weight: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weight_unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipping {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    /// The billing email: the contract carries it with the shipping address.
    pub email: String,
    /// The billing phone.
    pub phone: String,
}

/// An order body serialized once; retries send these exact bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct OrderPayload(bytes::Bytes);

impl OrderPayload {
    pub fn new(body: &OrderBody) -> OrderPayload {
        // Serializing plain structs of strings and integers cannot fail.
        OrderPayload(serde_json::to_vec(body).unwrap_or_default().into())
    }
    /// A payload stored earlier (e.g. in the outbox), sent as is.
    pub fn from_stored(bytes: impl Into<bytes::Bytes>) -> OrderPayload {
        OrderPayload(bytes.into())
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for OrderPayload {
    // The payload holds a customer's name and address: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderPayload({} bytes)", self.0.len())
    }
}

/// TrackingTech's answer to a sent order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SentOrder {
    pub id: Id,
    pub tracking_id: String,
    pub status: ShipmentStatus,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub status_name: String,
    /// True when the API answered 200: this key was already used and nothing new was created.
    #[serde(skip)]
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusRequest<'a> {
    pub order_ids: &'a [u64],
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderStatus {
    pub order_id: u64,
    pub tracking_id: String,
    pub status: ShipmentStatus,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub status_name: String,
    /// Kept as the API wrote it: ISO 8601 in this contract, `dd/mm/YYYY HH:MM` elsewhere in
    /// TrackingTech's API.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StatusList {
    pub data: Vec<OrderStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UninstallRequest<'a> {
    pub store_url: &'a str,
    pub customer_id: &'a str,
}

/// A shipment status string. Unknown strings are kept and shown as they come.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShipmentStatus(String);

impl ShipmentStatus {
    pub fn new(s: impl Into<String>) -> ShipmentStatus {
        ShipmentStatus(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Final statuses never change again, so nobody needs to ask for them.
    pub fn is_final(&self) -> bool {
        contract::status::FINAL.contains(&self.0.as_str())
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn id_as_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Id::deserialize(d)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_reads_top_level_and_meta_forms() {
        let top: Page<Store> = serde_json::from_str(
            r#"{"data":[{"id":1,"name":"A","address":"x"}],"last_page":3,"total":41}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((top.last_page, top.total, top.data.len()), (3, 41, 1));
        let meta: Page<Store> = serde_json::from_str(
            r#"{"data":[{"id":"s-1","name":"A","address":null}],"meta":{"last_page":2,"total":20}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((meta.last_page, meta.total), (2, 20));
        assert_eq!(meta.data[0].id, Id::Text("s-1".into()));
    }

    #[test]
    fn ids_go_back_as_they_came() {
        let n: Id = serde_json::from_str("7").unwrap_or_else(|e| panic!("{e}"));
        let s: Id = serde_json::from_str("\"7\"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_string(&n).ok().as_deref(), Some("7"));
        assert_eq!(serde_json::to_string(&s).ok().as_deref(), Some("\"7\""));
    }

    #[test]
    fn secrets_and_payloads_do_not_print() {
        let secret = Secret::new("tok_supersecret");
        assert!(!format!("{secret:?}").contains("supersecret"));
        let login = LoginRequest {
            email: "a@b.cl",
            password: "hunter22",
            code: Some("DEMO"),
        };
        let shown = format!("{login:?}");
        assert!(!shown.contains("hunter22") && !shown.contains("a@b.cl"));
        let body = OrderBody {
            order_id: 1,
            customer_id: "c".into(),
            store_url: "https://s".into(),
            products: vec![],
            shipping: Shipping {
                first_name: "Josefa".into(),
                ..Shipping::default()
            },
        };
        assert!(!format!("{:?}", OrderPayload::new(&body)).contains("Josefa"));
    }

    #[test]
    fn weight_fields_are_omitted_when_absent() {
        let p = Product {
            name: "Café".into(),
            sku: "CAF-1".into(),
            quantity: 2,
            price: "4990".into(),
            weight: None,
            weight_unit: None,
        };
        let v = serde_json::to_value(&p).unwrap_or_default();
        let keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["name", "price", "quantity", "sku"]);
    }

    #[test]
    fn final_statuses() {
        assert!(ShipmentStatus::new("delivered").is_final());
        assert!(ShipmentStatus::new("returned").is_final());
        assert!(!ShipmentStatus::new("in_transit").is_final());
        assert!(!ShipmentStatus::new("lost_in_space").is_final());
    }
}
