//! Creating products and variations through REST (`POST /products`,
//! `POST /products/<id>/variations`), as `WC_REST_Products_Controller` and
//! `WC_REST_Product_Variations_Controller` do for the fields woo-sim keeps.
//!
//! Nothing is required: a product without a name is saved as "Product" (the data store's
//! default title), `type` defaults to `simple`. Fields of the wrong JSON type answer
//! `rest_invalid_param` like WordPress's schema validation; a SKU already in use answers
//! `product_invalid_sku` (400) with `resource_id` and `unique_sku`, as `WC_Product::set_sku`.
//! Nothing is stored when the request is refused.

use serde_json::{Map, Value, json};

use crate::error::RestError;
use crate::seed::SeedDimensions;
use crate::store::{Product, ProductKind, Store, now, slugify};

/// The fields of a new product or variation, checked.
struct Fields {
    name: Option<String>,
    sku: String,
    regular_price: String,
    weight: String,
    dimensions: SeedDimensions,
    is_virtual: bool,
    downloadable: bool,
}

fn body(json: Option<&Map<String, Value>>) -> Map<String, Value> {
    json.cloned().unwrap_or_default()
}

fn string_field(
    m: &Map<String, Value>,
    key: &str,
    label: &str,
) -> Result<Option<String>, RestError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RestError::invalid_param(
            label,
            format!("{label} is not of type string."),
        )),
    }
}

fn bool_field(m: &Map<String, Value>, key: &str) -> Result<bool, RestError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RestError::invalid_param(
            key,
            format!("{key} is not of type boolean."),
        )),
    }
}

fn fields(m: &Map<String, Value>) -> Result<Fields, RestError> {
    let dims = match m.get("dimensions") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(d)) => d.clone(),
        Some(_) => {
            return Err(RestError::invalid_param(
                "dimensions",
                "dimensions is not of type object.",
            ));
        }
    };
    let dim = |k: &str| -> Result<String, RestError> {
        Ok(string_field(&dims, k, &format!("dimensions[{k}]"))?.unwrap_or_default())
    };
    let regular_price = string_field(m, "regular_price", "regular_price")?.unwrap_or_default();
    if !regular_price.is_empty() && regular_price.trim().parse::<f64>().is_err() {
        // `wc_format_decimal` would keep only the digits; a price that is not a number is a
        // caller's mistake worth saying.
        return Err(RestError::invalid_param(
            "regular_price",
            "regular_price is not a decimal number.",
        ));
    }
    Ok(Fields {
        name: string_field(m, "name", "name")?,
        sku: string_field(m, "sku", "sku")?.unwrap_or_default(),
        regular_price,
        weight: string_field(m, "weight", "weight")?.unwrap_or_default(),
        dimensions: SeedDimensions {
            length: dim("length")?,
            width: dim("width")?,
            height: dim("height")?,
        },
        is_virtual: bool_field(m, "virtual")?,
        downloadable: bool_field(m, "downloadable")?,
    })
}

/// `product_invalid_sku` when another product or variation has this SKU.
fn check_sku(store: &Store, sku: &str) -> Result<(), RestError> {
    if sku.is_empty() {
        return Ok(());
    }
    if let Some(other) = store.products.values().find(|p| p.sku == sku) {
        let mut n = 1;
        let unique = loop {
            let candidate = format!("{sku}-{n}");
            if !store.products.values().any(|p| p.sku == candidate) {
                break candidate;
            }
            n += 1;
        };
        let mut e = RestError::new(400, "product_invalid_sku", "Invalid or duplicated SKU.");
        e.data.insert("resource_id".into(), json!(other.id));
        e.data.insert("unique_sku".into(), json!(unique));
        return Err(e);
    }
    Ok(())
}

/// `wp_unique_post_slug`: `slug`, else `slug-2`, `slug-3`, …
fn unique_slug(store: &Store, base: &str) -> String {
    let taken = |s: &str| store.products.values().any(|p| p.slug == s);
    if !taken(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !taken(s))
        .unwrap_or_else(|| base.to_owned())
}

/// The variation attribute of a new variable product: the first of `attributes` marked
/// `variation` (or the first one), with its declared options.
fn attribute(m: &Map<String, Value>) -> Result<Option<(String, Vec<String>)>, RestError> {
    let list = match m.get("attributes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(RestError::invalid_param(
                "attributes",
                "attributes is not of type array.",
            ));
        }
    };
    let objects: Vec<&Map<String, Value>> = list.iter().filter_map(Value::as_object).collect();
    let chosen = objects
        .iter()
        .find(|a| a.get("variation").and_then(Value::as_bool) == Some(true))
        .or_else(|| objects.first());
    let Some(a) = chosen else {
        return Ok(None);
    };
    let Some(name) = a
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    let options = match a.get("options") {
        Some(Value::Array(o)) => o
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        // WooCommerce also takes the options as one "a | b" string.
        Some(Value::String(s)) => s.split('|').map(|o| o.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    Ok(Some((name.to_owned(), options)))
}

/// `POST /products`: returns the new product's id.
pub(crate) fn create_product(
    store: &mut Store,
    json: Option<&Map<String, Value>>,
) -> Result<u64, RestError> {
    let m = body(json);
    let kind = match string_field(&m, "type", "type")?.as_deref() {
        None | Some("simple") => ProductKind::Simple,
        Some("variable") => ProductKind::Variable,
        Some("grouped" | "external") => {
            return Err(RestError::new(
                501,
                "woo_sim_unsupported_product_type",
                "woo-sim only makes simple and variable products.",
            ));
        }
        Some(_) => {
            return Err(RestError::invalid_param(
                "type",
                "type is not one of simple, grouped, external, and variable.",
            ));
        }
    };
    let f = fields(&m)?;
    let attr = attribute(&m)?;
    check_sku(store, &f.sku)?;
    let name = f
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "Product".to_owned());
    let slug = unique_slug(store, &slugify(&name));
    let id = store.next_post_id();
    let variable = kind == ProductKind::Variable;
    let (attribute, options) = match (variable, attr) {
        (true, Some((n, o))) => (Some(n), o),
        _ => (None, Vec::new()),
    };
    store.products.insert(
        id,
        Product {
            id,
            parent_id: 0,
            name,
            slug,
            sku: f.sku,
            kind,
            // A variable product's price is its cheapest variation's, none yet.
            price: if variable {
                String::new()
            } else {
                f.regular_price
            },
            weight: f.weight,
            dimensions: f.dimensions,
            is_virtual: f.is_virtual,
            downloadable: f.downloadable,
            attribute,
            options,
            option: None,
            variations: Vec::new(),
            created: now(),
        },
    );
    Ok(id)
}

/// `POST /products/<parent>/variations`: returns the new variation's id.
pub(crate) fn create_variation(
    store: &mut Store,
    parent: Option<u64>,
    json: Option<&Map<String, Value>>,
) -> Result<u64, RestError> {
    let parent = parent
        .and_then(|id| store.products.get(&id))
        .filter(|p| p.kind == ProductKind::Variable)
        .cloned()
        .ok_or_else(|| RestError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID."))?;
    let m = body(json);
    let f = fields(&m)?;
    let attr_name = parent.attribute.clone().unwrap_or_default();
    let option = match m.get("attributes") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_object)
            .find(|a| {
                a.get("name").and_then(Value::as_str).is_some_and(|n| {
                    n.eq_ignore_ascii_case(&attr_name) || slugify(n) == slugify(&attr_name)
                })
            })
            .and_then(|a| a.get("option").and_then(Value::as_str))
            .map(str::to_owned),
        None | Some(Value::Null) => None,
        Some(_) => {
            return Err(RestError::invalid_param(
                "attributes",
                "attributes is not of type array.",
            ));
        }
    }
    .unwrap_or_default();
    check_sku(store, &f.sku)?;
    let id = store.next_post_id();
    let name = if option.is_empty() {
        parent.name.clone()
    } else {
        format!("{} - {option}", parent.name)
    };
    let price = f.regular_price.clone();
    store.products.insert(
        id,
        Product {
            id,
            parent_id: parent.id,
            name,
            slug: format!("{}-{}", parent.slug, slugify(&option)),
            sku: f.sku,
            kind: ProductKind::Variation,
            price: price.clone(),
            weight: f.weight,
            dimensions: f.dimensions,
            is_virtual: f.is_virtual,
            downloadable: f.downloadable,
            attribute: parent.attribute.clone(),
            options: Vec::new(),
            option: Some(option),
            variations: Vec::new(),
            created: now(),
        },
    );
    if let Some(p) = store.products.get_mut(&parent.id) {
        p.variations.push(id);
    }
    // The parent's price is its cheapest variation's (`WC_Product_Variable::sync`).
    let cheapest = store
        .products
        .get(&parent.id)
        .map(|p| p.variations.clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| store.products.get(v))
        .map(|v| v.price.clone())
        .filter(|p| !p.is_empty())
        .min_by(|a, b| crate::store::parse_money(a).total_cmp(&crate::store::parse_money(b)));
    if let Some(p) = store.products.get_mut(&parent.id) {
        p.price = cheapest.unwrap_or_default();
    }
    Ok(id)
}
