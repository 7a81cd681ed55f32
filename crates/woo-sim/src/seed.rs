//! The store's starting content: settings, the admin user, REST keys, products and orders.
//!
//! A seed is plain JSON (`--seed FILE`); [`Seed::builtin`] is `seed/builtin.json`, a small Chilean
//! shop that covers the cases a shipping connector meets (products with and without weight, a
//! variable product whose variations do and do not inherit the parent's weight, a virtual product).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The store's starting content. Build it with [`Seed::builtin`], [`Seed::from_json`] or
/// [`Seed::load`]; the JSON format is the one of `seed/builtin.json` in this crate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub(crate) settings: SeedSettings,
    #[serde(default)]
    pub(crate) admin: SeedAdmin,
    #[serde(default)]
    pub(crate) api_keys: Vec<SeedKey>,
    #[serde(default)]
    pub(crate) products: Vec<SeedProduct>,
    #[serde(default)]
    pub(crate) orders: Vec<SeedOrder>,
}

/// Why a seed was refused.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not a seed in the expected JSON shape.
    #[error("seed is not valid JSON for woo-sim: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON parsed but describes an impossible store.
    #[error("invalid seed: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SeedSettings {
    pub currency: String,
    pub currency_symbol: String,
    /// `woocommerce_price_num_decimals`: money strings carry this many decimals.
    pub price_decimals: u8,
    pub weight_unit: String,
    pub dimension_unit: String,
    /// The site's timezone as a fixed offset from UTC, in minutes (Chile: -180 in summer).
    pub utc_offset_minutes: i32,
    /// WordPress's `timezone_string`: an IANA zone (`America/Santiago`), or `""` when the site
    /// is set to a fixed offset. Only reported (REST index); dates use `utc_offset_minutes`.
    pub timezone_string: String,
    /// The site's locale (`get_locale()`, `system_status` → `environment.language`). Status
    /// names are translated for `es_*` (WooCommerce's `es_CL` names), English otherwise.
    pub language: String,
    /// Order statuses a plugin registered (`wc_order_statuses` filter): slug without `wc-`, and
    /// the name the store shows.
    pub custom_order_statuses: Vec<SeedStatus>,
    /// Whether the Shipment Tracking plugin (`wc-shipment-tracking/v3`) is installed.
    pub shipment_tracking: bool,
    pub wc_version: String,
    pub wp_version: String,
}

impl Default for SeedSettings {
    fn default() -> Self {
        SeedSettings {
            currency: "CLP".into(),
            currency_symbol: "$".into(),
            price_decimals: 0,
            weight_unit: "kg".into(),
            dimension_unit: "cm".into(),
            utc_offset_minutes: -180,
            timezone_string: String::new(),
            language: "es_CL".into(),
            custom_order_statuses: Vec::new(),
            shipment_tracking: false,
            wc_version: "9.2.5".into(),
            wp_version: "7.0".into(),
        }
    }
}

/// A custom order status.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedStatus {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SeedAdmin {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub email: String,
}

impl Default for SeedAdmin {
    fn default() -> Self {
        SeedAdmin {
            username: "admin".into(),
            password: "admin1234".into(),
            display_name: "admin".into(),
            email: "admin@tienda.example.cl".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedKey {
    #[serde(default)]
    pub consumer_key: Option<String>,
    #[serde(default)]
    pub consumer_secret: Option<String>,
    #[serde(default = "read_write")]
    pub permissions: String,
    #[serde(default)]
    pub description: String,
}

fn read_write() -> String {
    "read_write".into()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SeedDimensions {
    pub length: String,
    pub width: String,
    pub height: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedProduct {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub sku: String,
    /// `simple` or `variable`.
    #[serde(default = "simple", rename = "type")]
    pub kind: String,
    /// Regular price, as WooCommerce stores it (a decimal string).
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub weight: String,
    #[serde(default)]
    pub dimensions: SeedDimensions,
    #[serde(default, rename = "virtual")]
    pub is_virtual: bool,
    #[serde(default)]
    pub downloadable: bool,
    /// For variable products: the variation attribute (one, e.g. "Talla").
    #[serde(default)]
    pub attribute: Option<String>,
    #[serde(default)]
    pub variations: Vec<SeedVariation>,
}

fn simple() -> String {
    "simple".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedVariation {
    pub id: u64,
    /// The attribute value of this variation, e.g. "42".
    pub option: String,
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub price: String,
    /// Empty: the variation shows its parent's weight.
    #[serde(default)]
    pub weight: String,
    #[serde(default)]
    pub dimensions: SeedDimensions,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedOrder {
    #[serde(default = "pending")]
    pub status: String,
    /// How long ago the order was created, in hours.
    #[serde(default)]
    pub hours_ago: f64,
    #[serde(default)]
    pub billing: Map<String, Value>,
    #[serde(default)]
    pub shipping: Map<String, Value>,
    #[serde(default)]
    pub line_items: Vec<SeedLine>,
    #[serde(default)]
    pub shipping_lines: Vec<SeedShippingLine>,
    #[serde(default)]
    pub customer_note: String,
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub payment_method_title: String,
    #[serde(default = "checkout")]
    pub created_via: String,
    #[serde(default)]
    pub meta_data: Vec<SeedMeta>,
}

fn pending() -> String {
    "pending".into()
}

fn checkout() -> String {
    "checkout".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedLine {
    pub product_id: u64,
    #[serde(default)]
    pub variation_id: u64,
    #[serde(default = "one")]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedShippingLine {
    pub method_id: String,
    pub method_title: String,
    #[serde(default)]
    pub total: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedMeta {
    pub key: String,
    pub value: Value,
}

const BUILTIN: &str = include_str!("../seed/builtin.json");

/// Statuses a seeded order may have (`wc_get_order_statuses` plus block checkout's draft).
pub(crate) const ORDER_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
];

impl Seed {
    /// The builtin Chilean shop: admin `admin`/`admin1234`, one read_write key, weight unit `kg`,
    /// nine products and a few orders, none of them `processing`.
    pub fn builtin() -> Seed {
        match Seed::from_json(BUILTIN) {
            Ok(seed) => seed,
            // The builtin seed is compiled in and checked by a unit test; an empty store is the
            // least surprising fallback should it ever be broken.
            Err(_) => Seed {
                settings: SeedSettings::default(),
                admin: SeedAdmin::default(),
                api_keys: vec![SeedKey {
                    consumer_key: None,
                    consumer_secret: None,
                    permissions: read_write(),
                    description: "woo-sim".into(),
                }],
                products: Vec::new(),
                orders: Vec::new(),
            },
        }
    }

    /// Parses and checks a seed written as JSON.
    pub fn from_json(text: &str) -> Result<Seed, SeedError> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.validate()?;
        Ok(seed)
    }

    /// Reads a seed file.
    pub fn load(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Io {
            path: path.to_owned(),
            source,
        })?;
        Seed::from_json(&text)
    }

    /// Installs (or removes) the Shipment Tracking plugin: adds `wc-shipment-tracking/v3` to the
    /// REST index and serves its `/orders/<id>/shipment-trackings` routes.
    pub fn with_shipment_tracking(mut self, installed: bool) -> Seed {
        self.settings.shipment_tracking = installed;
        self
    }

    /// Sets WordPress's `timezone_string` (an IANA zone, or `""` for a fixed offset). Set
    /// `utc_offset_minutes` to the zone's current offset too: dates use the offset.
    pub fn with_timezone_string(mut self, zone: &str) -> Seed {
        self.settings.timezone_string = zone.to_owned();
        self
    }

    /// Sets the site's language (`es_CL`, `en_US`, ...).
    pub fn with_language(mut self, language: &str) -> Seed {
        self.settings.language = language.to_owned();
        self
    }

    /// Registers a custom order status (slug without `wc-`, the name the store shows).
    pub fn with_custom_order_status(mut self, slug: &str, name: &str) -> Seed {
        self.settings.custom_order_statuses.push(SeedStatus {
            slug: slug.to_owned(),
            name: name.to_owned(),
        });
        self
    }

    /// Sets the site's timezone offset from UTC in minutes (the builtin seed uses -180, Chile).
    pub fn with_utc_offset_minutes(mut self, minutes: i32) -> Seed {
        self.settings.utc_offset_minutes = minutes;
        self
    }

    fn validate(&self) -> Result<(), SeedError> {
        let bad = |m: String| Err(SeedError::Invalid(m));
        let mut ids = std::collections::BTreeSet::new();
        for p in &self.products {
            if p.id == 0 || !ids.insert(p.id) {
                return bad(format!("product id {} is zero or repeated", p.id));
            }
            match p.kind.as_str() {
                "simple" if p.variations.is_empty() => {}
                "variable" if p.attribute.is_some() => {}
                other => {
                    return bad(format!(
                        "product {}: type {other:?} must be \"simple\" (no variations) or \"variable\" (with \"attribute\")",
                        p.id
                    ));
                }
            }
            for v in &p.variations {
                if v.id == 0 || !ids.insert(v.id) {
                    return bad(format!("variation id {} is zero or repeated", v.id));
                }
            }
        }
        for c in &self.settings.custom_order_statuses {
            let ok = !c.slug.is_empty()
                && c.slug.len() <= 17
                && !c.slug.starts_with("wc-")
                && c.slug.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_'
                });
            if !ok || ORDER_STATUSES.contains(&c.slug.as_str()) {
                return bad(format!(
                    "custom order status {:?}: a new slug of at most 17 lowercase letters, digits, - and _, without wc-",
                    c.slug
                ));
            }
        }
        for (i, o) in self.orders.iter().enumerate() {
            if !ORDER_STATUSES.contains(&o.status.as_str())
                && !self
                    .settings
                    .custom_order_statuses
                    .iter()
                    .any(|c| c.slug == o.status)
            {
                return bad(format!("order #{i}: unknown status {:?}", o.status));
            }
            for l in &o.line_items {
                let Some(p) = self.products.iter().find(|p| p.id == l.product_id) else {
                    return bad(format!("order #{i}: unknown product {}", l.product_id));
                };
                if l.variation_id != 0 && !p.variations.iter().any(|v| v.id == l.variation_id) {
                    return bad(format!(
                        "order #{i}: product {} has no variation {}",
                        l.product_id, l.variation_id
                    ));
                }
            }
        }
        for k in &self.api_keys {
            if !matches!(k.permissions.as_str(), "read" | "write" | "read_write") {
                return bad(format!("api key permissions {:?}", k.permissions));
            }
            if let Some(ck) = &k.consumer_key
                && !is_key(ck, "ck_")
            {
                return bad(format!("consumer_key {ck:?} is not ck_ + 40 hex"));
            }
            if let Some(cs) = &k.consumer_secret
                && !is_key(cs, "cs_")
            {
                return bad("consumer_secret is not cs_ + 40 hex".into());
            }
        }
        Ok(())
    }
}

/// Whether `s` is `prefix` followed by 40 lowercase hex digits, as `wc_rand_hash` makes them.
pub(crate) fn is_key(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|h| {
        h.len() == 40
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_seed_parses_and_is_valid() {
        let seed = Seed::from_json(BUILTIN);
        assert!(seed.is_ok(), "{seed:?}");
        let seed = Seed::builtin();
        assert!(seed.products.len() >= 8);
        assert!(seed.orders.iter().all(|o| o.status != "processing"));
        assert_eq!(seed.admin.username, "admin");
        assert_eq!(seed.settings.weight_unit, "kg");
        assert!(!seed.settings.shipment_tracking);
    }

    #[test]
    fn invalid_seeds_are_refused() {
        assert!(matches!(Seed::from_json("{"), Err(SeedError::Json(_))));
        assert!(matches!(
            Seed::from_json(r#"{"products":[{"id":1,"name":"a"},{"id":1,"name":"b"}]}"#),
            Err(SeedError::Invalid(_))
        ));
        assert!(matches!(
            Seed::from_json(r#"{"api_keys":[{"consumer_key":"ck_123"}]}"#),
            Err(SeedError::Invalid(_))
        ));
        assert!(matches!(
            Seed::load(Path::new("/nonexistent/seed.json")),
            Err(SeedError::Io { .. })
        ));
    }
}
