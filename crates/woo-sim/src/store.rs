//! The store's state: products, orders with their notes and meta, webhooks, API keys, sessions
//! and the simulator's own bookkeeping (delivery log, faults).
//!
//! Everything lives behind one `std::sync::Mutex` owned by [`crate::server::App`]; it is never
//! held across an `.await`. Operations that "save" an order return the webhook deliveries the save
//! queues ([`Trigger`]); the caller hands them to [`crate::webhooks`] once the lock is released.

use std::collections::{BTreeMap, HashMap, HashSet};

use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::seed::{Seed, SeedAdmin, SeedDimensions, SeedSettings};

/// The WordPress user id of the seeded admin (the store's only user).
pub(crate) const ADMIN_USER_ID: u64 = 1;

/// A REST API key row (`{prefix}woocommerce_api_keys`).
#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub key_id: u64,
    pub user_id: u64,
    pub description: String,
    pub permissions: String,
    /// `wc_api_hash(ck)`: hex HMAC-SHA256 of the plaintext key with the key "wc-api".
    pub consumer_key_hash: String,
    /// Stored in plaintext, as WooCommerce does.
    pub consumer_secret: String,
    pub truncated_key: String,
    /// Used OAuth nonces keyed by their timestamp (WooCommerce's serialized `nonces` column).
    pub nonces: BTreeMap<i64, String>,
    pub last_access: Option<OffsetDateTime>,
}

/// `wc_api_hash`.
pub(crate) fn wc_api_hash(consumer_key: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(b"wc-api") {
        Ok(mut mac) => {
            mac.update(consumer_key.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// `wc_rand_hash`: 40 hex digits from 20 random bytes.
pub(crate) fn rand_hash() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    hex::encode(bytes)
}

/// What kind of product a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProductKind {
    Simple,
    Variable,
    Variation,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: u64,
    pub parent_id: u64,
    pub name: String,
    pub slug: String,
    pub sku: String,
    pub kind: ProductKind,
    pub price: String,
    /// The product's own weight ('' when unset); see [`Store::effective_weight`].
    pub weight: String,
    pub dimensions: SeedDimensions,
    pub is_virtual: bool,
    pub downloadable: bool,
    /// Variable products: the attribute name ("Talla").
    pub attribute: Option<String>,
    /// Variable products: the attribute's declared options ("40", "42").
    pub options: Vec<String>,
    /// Variations: their attribute value ("42").
    pub option: Option<String>,
    pub variations: Vec<u64>,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Billing {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Shipping {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub phone: String,
}

/// Applies the string fields of a JSON object onto an address, as WooCommerce's setters do
/// (fields not sent stay untouched; unknown fields are ignored).
pub(crate) fn merge_address<T: Serialize + for<'de> Deserialize<'de> + Default>(
    current: &T,
    patch: &Map<String, Value>,
) -> T {
    let mut base = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in patch {
        if base.contains_key(k) {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => {
                    if *b {
                        "1".into()
                    } else {
                        String::new()
                    }
                }
                _ => continue,
            };
            base.insert(k.clone(), Value::String(s));
        }
    }
    serde_json::from_value(Value::Object(base)).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Meta {
    pub id: u64,
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ItemMeta {
    pub id: u64,
    pub key: String,
    pub value: String,
    pub display_key: String,
    pub display_value: String,
}

#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub variation_id: u64,
    pub quantity: i64,
    pub subtotal: f64,
    pub total: f64,
    pub sku: Option<String>,
    pub meta: Vec<ItemMeta>,
    /// `image.id` as WooCommerce renders it: `""` for simple products, `0` for variations.
    pub image_id: Value,
    pub parent_name: Option<String>,
    /// Whether the product is virtual and downloadable (for `needs_processing`).
    pub virtual_downloadable: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct ShippingLine {
    pub id: u64,
    pub method_title: String,
    pub method_id: String,
    pub instance_id: String,
    pub total: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub id: u64,
    pub author: String,
    pub date_created: OffsetDateTime,
    pub note: String,
    pub customer_note: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub status: String,
    pub currency: String,
    pub version: String,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
    pub date_paid: Option<OffsetDateTime>,
    pub date_completed: Option<OffsetDateTime>,
    pub customer_id: u64,
    pub order_key: String,
    pub billing: Billing,
    pub shipping: Shipping,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub created_via: String,
    pub customer_note: String,
    pub meta: Vec<Meta>,
    pub line_items: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    /// Newest last; the REST list shows them newest first.
    pub notes: Vec<Note>,
}

impl Order {
    pub fn items_total(&self) -> f64 {
        self.line_items.iter().map(|l| l.total).sum()
    }
    pub fn shipping_total(&self) -> f64 {
        self.shipping_lines.iter().map(|l| l.total).sum()
    }
    pub fn total(&self) -> f64 {
        self.items_total() + self.shipping_total()
    }
    pub fn needs_processing(&self) -> bool {
        self.line_items.iter().any(|l| !l.virtual_downloadable)
    }
    pub fn is_editable(&self) -> bool {
        matches!(
            self.status.as_str(),
            "pending" | "on-hold" | "auto-draft" | "checkout-draft"
        )
    }
    pub fn needs_payment(&self) -> bool {
        matches!(self.status.as_str(), "pending" | "failed") && self.total() > 0.0
    }
}

/// WooCommerce's `es_CL` translation of a core status name (`_x( ..., 'Order status' )`).
fn status_label_es(status: &str) -> Option<&'static str> {
    Some(match status {
        "pending" => "Pendiente de pago",
        "processing" => "Procesando",
        "on-hold" => "En espera",
        "completed" => "Completado",
        "cancelled" => "Cancelado",
        "refunded" => "Reembolsado",
        "failed" => "Fallido",
        "checkout-draft" => "Borrador",
        _ => return None,
    })
}

impl Store {
    /// `wc_get_order_statuses()`: every registered status (slug without `wc-`) and its name in
    /// the site's language, core ones first in WooCommerce's order, then the custom ones.
    pub fn order_statuses(&self) -> Vec<(String, String)> {
        let spanish = self.settings.language.starts_with("es");
        let core = crate::seed::ORDER_STATUSES.iter().map(|s| {
            let name = status_label_es(s)
                .filter(|_| spanish)
                .map(str::to_owned)
                .unwrap_or_else(|| status_label(s));
            ((*s).to_owned(), name)
        });
        core.chain(
            self.settings
                .custom_order_statuses
                .iter()
                .map(|c| (c.slug.clone(), c.name.clone())),
        )
        .collect()
    }

    /// Whether `slug` is a registered order status.
    pub fn is_order_status(&self, slug: &str) -> bool {
        crate::seed::ORDER_STATUSES.contains(&slug)
            || self
                .settings
                .custom_order_statuses
                .iter()
                .any(|c| c.slug == slug)
    }
}

/// `wc_get_order_status_name`.
pub(crate) fn status_label(status: &str) -> String {
    match status {
        "pending" => "Pending payment",
        "processing" => "Processing",
        "on-hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        "refunded" => "Refunded",
        "failed" => "Failed",
        "checkout-draft" => "Draft",
        other => other,
    }
    .to_owned()
}

#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub topic: String,
    pub delivery_url: String,
    pub secret: String,
    pub api_version: String,
    pub user_id: u64,
    pub failure_count: u32,
    pub pending_delivery: bool,
    pub date_created: OffsetDateTime,
    pub date_modified: Option<OffsetDateTime>,
}

impl Webhook {
    pub fn resource(&self) -> &str {
        if self.topic.starts_with("action.") {
            "action"
        } else {
            self.topic.split('.').next().unwrap_or("")
        }
    }
    pub fn event(&self) -> &str {
        if let Some(hook) = self.topic.strip_prefix("action.") {
            hook
        } else {
            self.topic.split('.').nth(1).unwrap_or("")
        }
    }
    /// `get_hooks` as WooCommerce 9.2.5 maps topics.
    pub fn hooks(&self) -> Vec<String> {
        let list: &[&str] = match self.topic.as_str() {
            "order.created" => &["woocommerce_new_order"],
            "order.updated" => &["woocommerce_update_order", "woocommerce_order_refunded"],
            "order.deleted" => &["wp_trash_post", "woocommerce_trash_order"],
            "order.restored" => &["untrashed_post", "woocommerce_untrash_order"],
            "product.created" => &[
                "woocommerce_process_product_meta",
                "woocommerce_new_product",
                "woocommerce_new_product_variation",
            ],
            "product.updated" => &[
                "woocommerce_process_product_meta",
                "woocommerce_update_product",
                "woocommerce_update_product_variation",
            ],
            "product.deleted" | "coupon.deleted" => &["wp_trash_post"],
            "product.restored" | "coupon.restored" => &["untrashed_post"],
            "customer.created" => &[
                "user_register",
                "woocommerce_created_customer",
                "woocommerce_new_customer",
            ],
            "customer.updated" => &["profile_update", "woocommerce_update_customer"],
            "customer.deleted" => &["delete_user"],
            "coupon.created" => &[
                "woocommerce_process_shop_coupon_meta",
                "woocommerce_new_coupon",
            ],
            "coupon.updated" => &[
                "woocommerce_process_shop_coupon_meta",
                "woocommerce_update_coupon",
            ],
            _ => &[],
        };
        if let Some(hook) = self.topic.strip_prefix("action.") {
            return vec![hook.to_owned()];
        }
        list.iter().map(|s| (*s).to_owned()).collect()
    }
}

/// `wc_is_webhook_valid_topic`.
pub(crate) fn is_valid_topic(topic: &str) -> bool {
    if let Some(hook) = topic.strip_prefix("action.") {
        return hook.starts_with("woocommerce_") || hook.starts_with("wc_");
    }
    let Some((resource, event)) = topic.split_once('.') else {
        return false;
    };
    let resource_ok = matches!(resource, "coupon" | "customer" | "order" | "product");
    let event_ok = matches!(event, "created" | "updated" | "deleted" | "restored")
        || (resource == "product" && event == "published");
    resource_ok && event_ok
}

/// One webhook delivery (or ping) as the simulator logged it; `GET /_sim/deliveries`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeliveryRecord {
    pub webhook_id: u64,
    pub topic: String,
    pub order_id: Option<u64>,
    pub delivery_id: Option<String>,
    pub ping: bool,
    pub url: String,
    pub response_code: Option<u16>,
    pub error: Option<String>,
    pub success: bool,
    pub time: String,
    pub unix_ms: i128,
}

/// Fault injection set through `PUT /_sim/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Faults {
    pub rest_latency_ms: u64,
    pub rest_error_rate: f64,
    pub webhooks_paused: bool,
    pub strip_authorization: bool,
}

/// A webhook delivery queued by a save: (webhook id, order id).
pub(crate) type Trigger = (u64, u64);

/// What happened to an order, for webhook topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderEvent {
    Created,
    Updated,
}

pub(crate) struct Store {
    pub settings: SeedSettings,
    pub admin: SeedAdmin,
    pub keys: Vec<ApiKey>,
    pub products: BTreeMap<u64, Product>,
    pub orders: BTreeMap<u64, Order>,
    pub webhooks: BTreeMap<u64, Webhook>,
    pub deliveries: Vec<DeliveryRecord>,
    /// Logged-in browser sessions (cookie value -> user id).
    pub sessions: HashMap<String, u64>,
    /// Outstanding wc-auth grant nonces.
    pub auth_nonces: HashSet<String>,
    pub faults: Faults,
    /// Deliveries queued and not yet started: the Action Scheduler de-duplication key.
    pub queued: HashSet<Trigger>,
    /// Deliveries started and not yet logged (the request is out, its answer not in).
    pub in_flight: usize,
    next_post: u64,
    next_item: u64,
    next_meta: u64,
    next_comment: u64,
    next_webhook: u64,
    next_key: u64,
}

/// The plaintext credentials of a key created by [`Store::create_key`].
#[derive(Debug, Clone)]
pub(crate) struct NewKey {
    pub key_id: u64,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub permissions: String,
}

pub(crate) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// `wc_order_` + 13 random alphanumerics (`wc_generate_order_key`).
fn order_key() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..13)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("wc_order_{tail}")
}

/// `sanitize_title`, enough for product names in Spanish.
pub(crate) fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        let c = match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// A line to add to a new order.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewLine {
    pub product_id: u64,
    pub variation_id: u64,
    pub quantity: i64,
    pub name: Option<String>,
    pub total: Option<f64>,
    pub subtotal: Option<f64>,
}

/// The fields of a new order.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewOrder {
    pub status: String,
    pub billing: Billing,
    pub shipping: Shipping,
    pub lines: Vec<NewLine>,
    pub shipping_lines: Vec<(String, String, f64)>,
    pub customer_note: String,
    pub customer_id: u64,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub created_via: String,
    pub meta: Vec<(String, Value)>,
    pub set_paid: bool,
    pub created: Option<OffsetDateTime>,
}

pub(crate) fn parse_money(s: &str) -> f64 {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .unwrap_or(0.0)
}

impl Store {
    pub fn from_seed(seed: &Seed, api_key: Option<&(String, String)>) -> (Store, NewKey) {
        let created = now() - time::Duration::days(30);
        let mut store = Store {
            settings: seed.settings.clone(),
            admin: seed.admin.clone(),
            keys: Vec::new(),
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            deliveries: Vec::new(),
            sessions: HashMap::new(),
            auth_nonces: HashSet::new(),
            faults: Faults::default(),
            queued: HashSet::new(),
            in_flight: 0,
            next_post: 1,
            next_item: 1,
            next_meta: 1,
            next_comment: 1,
            next_webhook: 1,
            next_key: 1,
        };
        let mut max_id = 0;
        for p in &seed.products {
            let kind = if p.kind == "variable" {
                ProductKind::Variable
            } else {
                ProductKind::Simple
            };
            let slug = p.slug.clone().unwrap_or_else(|| slugify(&p.name));
            store.products.insert(
                p.id,
                Product {
                    id: p.id,
                    parent_id: 0,
                    name: p.name.clone(),
                    slug: slug.clone(),
                    sku: p.sku.clone(),
                    kind,
                    price: p.price.clone(),
                    weight: p.weight.clone(),
                    dimensions: p.dimensions.clone(),
                    is_virtual: p.is_virtual,
                    downloadable: p.downloadable,
                    attribute: p.attribute.clone(),
                    options: p.variations.iter().map(|v| v.option.clone()).collect(),
                    option: None,
                    variations: p.variations.iter().map(|v| v.id).collect(),
                    created,
                },
            );
            max_id = max_id.max(p.id);
            for v in &p.variations {
                store.products.insert(
                    v.id,
                    Product {
                        id: v.id,
                        parent_id: p.id,
                        name: format!("{} - {}", p.name, v.option),
                        slug: format!("{}-{}", slug, slugify(&v.option)),
                        sku: v.sku.clone(),
                        kind: ProductKind::Variation,
                        price: if v.price.is_empty() {
                            p.price.clone()
                        } else {
                            v.price.clone()
                        },
                        weight: v.weight.clone(),
                        dimensions: v.dimensions.clone(),
                        is_virtual: false,
                        downloadable: false,
                        attribute: p.attribute.clone(),
                        options: Vec::new(),
                        option: Some(v.option.clone()),
                        variations: Vec::new(),
                        created,
                    },
                );
                max_id = max_id.max(v.id);
            }
        }
        store.next_post = max_id + 1;
        // Keys: the first seeded key (or a default one) is "the" key of the Handle.
        let mut seeded_keys = seed.api_keys.clone();
        if seeded_keys.is_empty() {
            seeded_keys.push(crate::seed::SeedKey {
                consumer_key: None,
                consumer_secret: None,
                permissions: "read_write".into(),
                description: "woo-sim".into(),
            });
        }
        let mut first = None;
        for (i, k) in seeded_keys.iter().enumerate() {
            let (ck, cs) = match (i, api_key) {
                (0, Some((ck, cs))) => (ck.clone(), cs.clone()),
                _ => (
                    k.consumer_key
                        .clone()
                        .unwrap_or_else(|| format!("ck_{}", rand_hash())),
                    k.consumer_secret
                        .clone()
                        .unwrap_or_else(|| format!("cs_{}", rand_hash())),
                ),
            };
            let new = store.insert_key(&ck, &cs, &k.permissions, &k.description);
            if first.is_none() {
                first = Some(new);
            }
        }
        for o in &seed.orders {
            let created = now() - time::Duration::seconds_f64(o.hours_ago.max(0.0) * 3600.0);
            let new = NewOrder {
                status: o.status.clone(),
                billing: merge_address(&Billing::default(), &o.billing),
                shipping: merge_address(&Shipping::default(), &o.shipping),
                lines: o
                    .line_items
                    .iter()
                    .map(|l| NewLine {
                        product_id: l.product_id,
                        variation_id: l.variation_id,
                        quantity: l.quantity,
                        ..NewLine::default()
                    })
                    .collect(),
                shipping_lines: o
                    .shipping_lines
                    .iter()
                    .map(|s| {
                        (
                            s.method_id.clone(),
                            s.method_title.clone(),
                            parse_money(&s.total),
                        )
                    })
                    .collect(),
                customer_note: o.customer_note.clone(),
                payment_method: o.payment_method.clone(),
                payment_method_title: o.payment_method_title.clone(),
                created_via: o.created_via.clone(),
                meta: o
                    .meta_data
                    .iter()
                    .map(|m| (m.key.clone(), m.value.clone()))
                    .collect(),
                created: Some(created),
                ..NewOrder::default()
            };
            // Seeded orders exist before any webhook, so nothing is triggered.
            let _ = store.create_order(new);
        }
        let first = first.unwrap_or(NewKey {
            key_id: 0,
            consumer_key: String::new(),
            consumer_secret: String::new(),
            permissions: String::new(),
        });
        (store, first)
    }

    fn insert_key(&mut self, ck: &str, cs: &str, permissions: &str, description: &str) -> NewKey {
        let key_id = self.next_key;
        self.next_key += 1;
        self.keys.push(ApiKey {
            key_id,
            user_id: ADMIN_USER_ID,
            description: description.to_owned(),
            permissions: permissions.to_owned(),
            consumer_key_hash: wc_api_hash(ck),
            consumer_secret: cs.to_owned(),
            truncated_key: ck
                .chars()
                .rev()
                .take(7)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect(),
            nonces: BTreeMap::new(),
            last_access: None,
        });
        NewKey {
            key_id,
            consumer_key: ck.to_owned(),
            consumer_secret: cs.to_owned(),
            permissions: permissions.to_owned(),
        }
    }

    /// `WC_Auth::create_keys`.
    pub fn create_key(&mut self, description: &str, permissions: &str) -> NewKey {
        let ck = format!("ck_{}", rand_hash());
        let cs = format!("cs_{}", rand_hash());
        self.insert_key(&ck, &cs, permissions, description)
    }

    pub fn delete_key(&mut self, key_id: u64) {
        self.keys.retain(|k| k.key_id != key_id);
    }

    pub fn key_by_consumer_key(&mut self, ck: &str) -> Option<&mut ApiKey> {
        let hash = wc_api_hash(ck);
        self.keys.iter_mut().find(|k| k.consumer_key_hash == hash)
    }

    pub fn decimals(&self) -> usize {
        usize::from(self.settings.price_decimals)
    }

    /// `wc_format_decimal($x, dp)`.
    pub fn money(&self, x: f64) -> String {
        format!("{:.*}", self.decimals(), x)
    }

    /// The weight the REST API shows: a variation without its own weight shows its parent's.
    pub fn effective_weight(&self, p: &Product) -> String {
        if p.kind == ProductKind::Variation
            && p.weight.is_empty()
            && let Some(parent) = self.products.get(&p.parent_id)
        {
            return parent.weight.clone();
        }
        p.weight.clone()
    }

    /// Same inheritance for each dimension.
    pub fn effective_dimensions(&self, p: &Product) -> SeedDimensions {
        let mut d = p.dimensions.clone();
        if p.kind == ProductKind::Variation
            && let Some(parent) = self.products.get(&p.parent_id)
        {
            if d.length.is_empty() {
                d.length = parent.dimensions.length.clone();
            }
            if d.width.is_empty() {
                d.width = parent.dimensions.width.clone();
            }
            if d.height.is_empty() {
                d.height = parent.dimensions.height.clone();
            }
        }
        d
    }

    fn next_meta_id(&mut self) -> u64 {
        let id = self.next_meta;
        self.next_meta += 1;
        id
    }

    fn next_item_id(&mut self) -> u64 {
        let id = self.next_item;
        self.next_item += 1;
        id
    }

    fn build_line(&mut self, l: &NewLine) -> LineItem {
        let id = self.next_item_id();
        let quantity = l.quantity;
        let wanted = if l.variation_id != 0 {
            l.variation_id
        } else {
            l.product_id
        };
        let product = self.products.get(&wanted).cloned();
        let Some(product) = product else {
            // WooCommerce keeps a line whose product does not exist, with no product attached.
            let total = l.total.unwrap_or(0.0);
            return LineItem {
                id,
                name: l.name.clone().unwrap_or_default(),
                product_id: 0,
                variation_id: 0,
                quantity,
                subtotal: l.subtotal.unwrap_or(total),
                total,
                sku: None,
                meta: Vec::new(),
                image_id: Value::String(String::new()),
                parent_name: None,
                virtual_downloadable: false,
            };
        };
        let price = parse_money(&product.price);
        let computed = price * quantity as f64;
        let total = l.total.unwrap_or(computed);
        let subtotal = l
            .subtotal
            .unwrap_or(if l.total.is_some() { total } else { computed });
        let (product_id, variation_id, parent_name, image_id, meta) =
            if product.kind == ProductKind::Variation {
                let parent = self.products.get(&product.parent_id).cloned();
                let attr = product.attribute.clone().unwrap_or_default();
                let option = product.option.clone().unwrap_or_default();
                let meta = vec![ItemMeta {
                    id: self.next_meta_id(),
                    key: slugify(&attr),
                    value: option.clone(),
                    display_key: attr,
                    display_value: option,
                }];
                (
                    product.parent_id,
                    product.id,
                    parent.map(|p| p.name),
                    Value::from(0),
                    meta,
                )
            } else {
                (
                    product.id,
                    0,
                    None,
                    Value::String(String::new()),
                    Vec::new(),
                )
            };
        LineItem {
            id,
            name: l.name.clone().unwrap_or_else(|| product.name.clone()),
            product_id,
            variation_id,
            quantity,
            subtotal,
            total,
            sku: Some(product.sku.clone()),
            meta,
            image_id,
            parent_name,
            virtual_downloadable: product.is_virtual && product.downloadable,
        }
    }

    /// The next post id (products, variations and orders share it).
    pub fn next_post_id(&mut self) -> u64 {
        let id = self.next_post;
        self.next_post += 1;
        id
    }

    /// Creates an order (a "new" save: `woocommerce_new_order`). Returns the id; triggers are
    /// computed by the caller with [`Store::triggers`], since REST creation also re-saves.
    pub fn create_order(&mut self, new: NewOrder) -> u64 {
        let id = self.next_post;
        self.next_post += 1;
        let created = new.created.unwrap_or_else(now);
        let lines: Vec<LineItem> = new.lines.iter().map(|l| self.build_line(l)).collect();
        let shipping_lines = new
            .shipping_lines
            .iter()
            .map(|(method_id, title, total)| ShippingLine {
                id: self.next_item_id(),
                method_title: title.clone(),
                method_id: method_id.clone(),
                instance_id: String::new(),
                total: *total,
            })
            .collect();
        let meta = new
            .meta
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| Meta {
                id: self.next_meta_id(),
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        let status = if new.status.is_empty() {
            "pending".to_owned()
        } else {
            new.status.clone()
        };
        let mut order = Order {
            id,
            status: status.clone(),
            currency: self.settings.currency.clone(),
            version: self.settings.wc_version.clone(),
            date_created: created,
            date_modified: created,
            date_paid: None,
            date_completed: None,
            customer_id: new.customer_id,
            order_key: order_key(),
            billing: new.billing,
            shipping: new.shipping,
            payment_method: new.payment_method,
            payment_method_title: new.payment_method_title,
            transaction_id: new.transaction_id,
            created_via: if new.created_via.is_empty() {
                "rest-api".into()
            } else {
                new.created_via
            },
            customer_note: new.customer_note,
            meta,
            line_items: lines,
            shipping_lines,
            notes: Vec::new(),
        };
        if matches!(status.as_str(), "processing" | "completed") {
            order.date_paid = Some(created);
        }
        if status == "completed" {
            order.date_completed = Some(created);
        }
        if new.set_paid && order.needs_payment() {
            let to = if order.needs_processing() {
                "processing"
            } else {
                "completed"
            };
            order.date_paid = Some(created);
            if to == "completed" {
                order.date_completed = Some(created);
            }
            order.status = to.to_owned();
            let note = format!(
                "Order status changed from {} to {}.",
                status_label(&status),
                status_label(to)
            );
            self.push_note(&mut order, note, false, "WooCommerce".into(), created);
        }
        self.orders.insert(id, order);
        id
    }

    pub fn push_note(
        &mut self,
        order: &mut Order,
        text: String,
        customer_note: bool,
        author: String,
        at: OffsetDateTime,
    ) -> u64 {
        let id = self.next_comment;
        self.next_comment += 1;
        order.notes.push(Note {
            id,
            author,
            date_created: at,
            note: text,
            customer_note,
        });
        id
    }

    /// `WC_Order::add_order_note` on an existing order: no save, no webhook.
    pub fn add_note(
        &mut self,
        order_id: u64,
        text: String,
        customer_note: bool,
        author: String,
    ) -> Option<u64> {
        let mut order = self.orders.remove(&order_id)?;
        let id = self.push_note(&mut order, text, customer_note, author, now());
        self.orders.insert(order_id, order);
        Some(id)
    }

    /// Sets the status as `set_status` + `save` + `status_transition` do: dates, the transition
    /// note. Does not compute triggers (see [`Store::save_order`]).
    pub fn apply_status(&mut self, order: &mut Order, to: &str) {
        let from = order.status.clone();
        if from == to {
            return;
        }
        order.status = to.to_owned();
        let at = now();
        if matches!(to, "processing" | "completed") && order.date_paid.is_none() {
            order.date_paid = Some(at);
        }
        if to == "completed" {
            order.date_completed = Some(at);
        }
        let note = format!(
            "Order status changed from {} to {}.",
            status_label(&from),
            status_label(to)
        );
        self.push_note(order, note, false, "WooCommerce".into(), at);
    }

    /// `update_meta_data($key, $value, $id)` followed by the save (null values delete the row).
    pub fn update_meta(&mut self, order: &mut Order, key: &str, value: Value, id: Option<u64>) {
        let mut target = None;
        if let Some(id) = id.filter(|id| *id != 0) {
            target = order.meta.iter().position(|m| m.id == id);
        } else {
            let matches: Vec<usize> = order
                .meta
                .iter()
                .enumerate()
                .filter(|(_, m)| m.key == key)
                .map(|(i, _)| i)
                .collect();
            for &i in &matches {
                order.meta[i].value = Value::Null;
            }
            target = matches.first().copied().or(target);
        }
        match target {
            Some(i) => {
                order.meta[i].key = key.to_owned();
                order.meta[i].value = value;
            }
            None => {
                let id = self.next_meta_id();
                order.meta.push(Meta {
                    id,
                    key: key.to_owned(),
                    value,
                });
            }
        }
        // save_meta_data: rows whose value is null are deleted.
        order.meta.retain(|m| !m.value.is_null());
    }

    /// Marks an existing order saved: bumps `date_modified` and returns the deliveries queued by
    /// `woocommerce_update_order`.
    pub fn touch_order(&mut self, order: &mut Order) {
        order.date_modified = now();
    }

    /// The webhooks an order event reaches, per `WC_Webhook::should_deliver`.
    pub fn triggers(&self, event: OrderEvent, order_id: u64) -> Vec<Trigger> {
        let Some(order) = self.orders.get(&order_id) else {
            return Vec::new();
        };
        if matches!(order.status.as_str(), "draft" | "auto-draft" | "new") {
            return Vec::new();
        }
        let topic = match event {
            // Block checkout drafts never reach order.created (woocommerce#66995).
            OrderEvent::Created if order.status == "checkout-draft" => return Vec::new(),
            OrderEvent::Created => "order.created",
            OrderEvent::Updated => "order.updated",
        };
        self.webhooks
            .values()
            .filter(|w| w.status == "active" && w.topic == topic)
            .map(|w| (w.id, order_id))
            .collect()
    }

    pub fn new_webhook_id(&mut self) -> u64 {
        let id = self.next_webhook;
        self.next_webhook += 1;
        id
    }
}
