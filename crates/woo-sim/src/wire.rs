//! The JSON WooCommerce answers with, built from the store's rows.
//!
//! The order is a struct so that its keys come out in WooCommerce's order (webhook bodies are
//! signed byte for byte); the other resources are built with `json!`. Shapes follow the golden
//! samples captured from WooCommerce 9.2.5: dates without zone, money as strings,
//! `line_items[].price` as a number, `_links` with `targetHints`.

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::store::{ItemMeta, Meta, Note, Order, Product, ProductKind, Store, Webhook};

/// `wc_rest_prepare_date_response`: `Y-m-d\TH:i:s`, no zone.
pub(crate) fn date(dt: OffsetDateTime) -> String {
    dt.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

/// The site-local rendering of a UTC instant.
pub(crate) fn local(store: &Store, dt: OffsetDateTime) -> OffsetDateTime {
    dt + time::Duration::minutes(i64::from(store.settings.utc_offset_minutes))
}

fn local_date(store: &Store, dt: OffsetDateTime) -> String {
    date(local(store, dt))
}

/// Links with the `targetHints` WordPress 6.7+ adds to `self`.
fn self_link(href: String, allow: &[&str]) -> Value {
    json!([{ "href": href, "targetHints": { "allow": allow } }])
}

fn link(href: String) -> Value {
    json!([{ "href": href }])
}

const ALL_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

#[derive(Serialize)]
struct Address<'a, T: Serialize>(&'a T);

#[derive(Serialize)]
struct Image {
    id: Value,
    src: String,
}

#[derive(Serialize)]
struct LineItemWire<'a> {
    id: u64,
    name: &'a str,
    product_id: u64,
    variation_id: u64,
    quantity: i64,
    tax_class: &'static str,
    subtotal: String,
    subtotal_tax: String,
    total: String,
    total_tax: String,
    taxes: [(); 0],
    meta_data: &'a [ItemMeta],
    sku: &'a Option<String>,
    price: Value,
    image: Image,
    parent_name: &'a Option<String>,
}

#[derive(Serialize)]
struct ShippingLineWire<'a> {
    id: u64,
    method_title: &'a str,
    method_id: &'a str,
    instance_id: &'a str,
    total: String,
    total_tax: String,
    taxes: [(); 0],
    meta_data: [(); 0],
}

#[derive(Serialize)]
pub(crate) struct OrderWire<'a> {
    id: u64,
    parent_id: u64,
    status: &'a str,
    currency: &'a str,
    version: &'a str,
    prices_include_tax: bool,
    date_created: String,
    date_modified: String,
    discount_total: String,
    discount_tax: String,
    shipping_total: String,
    shipping_tax: String,
    cart_tax: String,
    total: String,
    total_tax: String,
    customer_id: u64,
    order_key: &'a str,
    billing: Address<'a, crate::store::Billing>,
    shipping: Address<'a, crate::store::Shipping>,
    payment_method: &'a str,
    payment_method_title: &'a str,
    transaction_id: &'a str,
    customer_ip_address: &'static str,
    customer_user_agent: &'static str,
    created_via: &'a str,
    customer_note: &'a str,
    date_completed: Option<String>,
    date_paid: Option<String>,
    cart_hash: &'static str,
    number: String,
    meta_data: &'a [Meta],
    line_items: Vec<LineItemWire<'a>>,
    tax_lines: [(); 0],
    shipping_lines: Vec<ShippingLineWire<'a>>,
    fee_lines: [(); 0],
    coupon_lines: [(); 0],
    refunds: [(); 0],
    payment_url: String,
    is_editable: bool,
    needs_payment: bool,
    needs_processing: bool,
    date_created_gmt: String,
    date_modified_gmt: String,
    date_completed_gmt: Option<String>,
    date_paid_gmt: Option<String>,
    currency_symbol: &'a str,
    _links: Value,
}

/// PHP floats print without a fraction when whole (`9990`), else as the shortest decimal.
fn php_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::from(0))
    }
}

pub(crate) fn order<'a>(store: &'a Store, o: &'a Order, base: &str) -> OrderWire<'a> {
    let zero = store.money(0.0);
    let line_items = o
        .line_items
        .iter()
        .map(|l| LineItemWire {
            id: l.id,
            name: &l.name,
            product_id: l.product_id,
            variation_id: l.variation_id,
            quantity: l.quantity,
            tax_class: "",
            subtotal: store.money(l.subtotal),
            subtotal_tax: zero.clone(),
            total: store.money(l.total),
            total_tax: zero.clone(),
            taxes: [],
            meta_data: &l.meta,
            sku: &l.sku,
            price: if l.quantity == 0 {
                Value::from(0)
            } else {
                php_number(l.total / l.quantity as f64)
            },
            image: Image {
                id: l.image_id.clone(),
                src: String::new(),
            },
            parent_name: &l.parent_name,
        })
        .collect();
    let shipping_lines = o
        .shipping_lines
        .iter()
        .map(|s| ShippingLineWire {
            id: s.id,
            method_title: &s.method_title,
            method_id: &s.method_id,
            instance_id: &s.instance_id,
            total: store.money(s.total),
            total_tax: zero.clone(),
            taxes: [],
            meta_data: [],
        })
        .collect();
    let mut links = serde_json::Map::new();
    links.insert(
        "self".into(),
        self_link(format!("{base}/wp-json/wc/v3/orders/{}", o.id), ALL_METHODS),
    );
    links.insert(
        "collection".into(),
        link(format!("{base}/wp-json/wc/v3/orders")),
    );
    if o.customer_id != 0 {
        links.insert(
            "customer".into(),
            link(format!("{base}/wp-json/wc/v3/customers/{}", o.customer_id)),
        );
    }
    OrderWire {
        id: o.id,
        parent_id: 0,
        status: &o.status,
        currency: &o.currency,
        version: &o.version,
        prices_include_tax: false,
        date_created: local_date(store, o.date_created),
        date_modified: local_date(store, o.date_modified),
        discount_total: zero.clone(),
        discount_tax: zero.clone(),
        shipping_total: store.money(o.shipping_total()),
        shipping_tax: zero.clone(),
        cart_tax: zero.clone(),
        total: store.money(o.total()),
        total_tax: zero,
        customer_id: o.customer_id,
        order_key: &o.order_key,
        billing: Address(&o.billing),
        shipping: Address(&o.shipping),
        payment_method: &o.payment_method,
        payment_method_title: &o.payment_method_title,
        transaction_id: &o.transaction_id,
        customer_ip_address: "",
        customer_user_agent: "",
        created_via: &o.created_via,
        customer_note: &o.customer_note,
        date_completed: o.date_completed.map(|d| local_date(store, d)),
        date_paid: o.date_paid.map(|d| local_date(store, d)),
        cart_hash: "",
        number: o.id.to_string(),
        meta_data: &o.meta,
        line_items,
        tax_lines: [],
        shipping_lines,
        fee_lines: [],
        coupon_lines: [],
        refunds: [],
        payment_url: format!(
            "{base}/checkout/order-pay/{}/?pay_for_order=true&key={}",
            o.id, o.order_key
        ),
        is_editable: o.is_editable(),
        needs_payment: o.needs_payment(),
        needs_processing: o.needs_processing(),
        date_created_gmt: date(o.date_created),
        date_modified_gmt: date(o.date_modified),
        date_completed_gmt: o.date_completed.map(date),
        date_paid_gmt: o.date_paid.map(date),
        currency_symbol: &store.settings.currency_symbol,
        _links: Value::Object(links),
    }
}

/// The order as a JSON value (for the admin API and tests).
pub(crate) fn order_value(store: &Store, o: &Order, base: &str) -> Value {
    serde_json::to_value(order(store, o, base)).unwrap_or(Value::Null)
}

pub(crate) fn note(store: &Store, order_id: u64, n: &Note, base: &str) -> Value {
    json!({
        "id": n.id,
        "author": n.author,
        "date_created": local_date(store, n.date_created),
        "date_created_gmt": date(n.date_created),
        "note": n.note,
        "customer_note": n.customer_note,
        "_links": {
            "self": self_link(format!("{base}/wp-json/wc/v3/orders/{order_id}/notes/{}", n.id), &["GET", "DELETE"]),
            "collection": link(format!("{base}/wp-json/wc/v3/orders/{order_id}/notes")),
            "up": link(format!("{base}/wp-json/wc/v3/orders/{order_id}")),
        }
    })
}

fn price_html(store: &Store, price: &str) -> String {
    let amount = crate::store::parse_money(price);
    let dp = store.decimals();
    let fixed = format!("{amount:.dp$}");
    let (int, frac) = fixed.split_once('.').unwrap_or((fixed.as_str(), ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    };
    format!(
        "<span class=\"woocommerce-Price-amount amount\"><bdi><span class=\"woocommerce-Price-currencySymbol\">&#36;</span>{number}</bdi></span>"
    )
}

fn dims(d: &crate::seed::SeedDimensions) -> Value {
    json!({ "length": d.length, "width": d.width, "height": d.height })
}

pub(crate) fn product(store: &Store, p: &Product, base: &str) -> Value {
    let created_local = local_date(store, p.created);
    let created_gmt = date(p.created);
    let variable = p.kind == ProductKind::Variable;
    let is_variation = p.kind == ProductKind::Variation;
    let attributes = match (&p.attribute, variable) {
        // A variation read through `/products/<id>`: its chosen value (`get_attributes`).
        (Some(name), false) if is_variation => {
            json!([{ "id": 0, "name": name, "option": p.option.clone().unwrap_or_default() }])
        }
        (Some(name), true) => {
            let options = &p.options;
            json!([{ "id": 0, "name": name, "slug": name, "position": 0, "visible": true,
                     "variation": true, "options": options }])
        }
        _ => json!([]),
    };
    let related: Vec<u64> = store
        .products
        .values()
        .filter(|o| o.kind != ProductKind::Variation && o.id != p.id)
        .map(|o| o.id)
        .take(5)
        .collect();
    json!({
        "id": p.id,
        "name": p.name,
        "slug": p.slug,
        "permalink": format!("{base}/product/{}/", p.slug),
        "date_created": created_local,
        "date_created_gmt": created_gmt,
        "date_modified": created_local,
        "date_modified_gmt": created_gmt,
        "type": match p.kind {
            ProductKind::Variable => "variable",
            ProductKind::Variation => "variation",
            ProductKind::Simple => "simple",
        },
        "status": "publish",
        "featured": false,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": p.sku,
        "price": p.price,
        "regular_price": if variable { String::new() } else { p.price.clone() },
        "sale_price": "",
        "date_on_sale_from": null,
        "date_on_sale_from_gmt": null,
        "date_on_sale_to": null,
        "date_on_sale_to_gmt": null,
        "on_sale": false,
        "purchasable": true,
        "total_sales": 0,
        "virtual": p.is_virtual,
        "downloadable": p.downloadable,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": false,
        "stock_quantity": null,
        "backorders": "no",
        "backorders_allowed": false,
        "backordered": false,
        "low_stock_amount": null,
        "sold_individually": false,
        // In the view context a variation's empty weight and dimensions are its parent's.
        "weight": store.effective_weight(p),
        "dimensions": dims(&store.effective_dimensions(p)),
        "shipping_required": !p.is_virtual,
        "shipping_taxable": !p.is_virtual,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": true,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": p.parent_id,
        "purchase_note": "",
        "categories": if is_variation {
            json!([])
        } else {
            json!([{ "id": 15, "name": "Uncategorized", "slug": "uncategorized" }])
        },
        "tags": [],
        "images": [],
        "attributes": attributes,
        "default_attributes": [],
        "variations": p.variations,
        "grouped_products": [],
        "menu_order": 0,
        "price_html": price_html(store, &p.price),
        "related_ids": related,
        "meta_data": [],
        "stock_status": "instock",
        "has_options": variable,
        "post_password": "",
        "global_unique_id": "",
        "_links": {
            "self": self_link(format!("{base}/wp-json/wc/v3/products/{}", p.id), ALL_METHODS),
            "collection": link(format!("{base}/wp-json/wc/v3/products")),
        }
    })
}

pub(crate) fn variation(store: &Store, v: &Product, base: &str) -> Value {
    let created_local = local_date(store, v.created);
    let created_gmt = date(v.created);
    let parent = store.products.get(&v.parent_id);
    let parent_slug = parent.map(|p| p.slug.clone()).unwrap_or_default();
    let attr = v.attribute.clone().unwrap_or_default();
    let option = v.option.clone().unwrap_or_default();
    let attr_slug = crate::store::slugify(&attr);
    json!({
        "id": v.id,
        "type": "variation",
        "date_created": created_local,
        "date_created_gmt": created_gmt,
        "date_modified": created_local,
        "date_modified_gmt": created_gmt,
        "description": "",
        "permalink": format!("{base}/product/{parent_slug}/?attribute_{attr_slug}={option}"),
        "sku": v.sku,
        "global_unique_id": "",
        "price": v.price,
        "regular_price": v.price,
        "sale_price": "",
        "date_on_sale_from": null,
        "date_on_sale_from_gmt": null,
        "date_on_sale_to": null,
        "date_on_sale_to_gmt": null,
        "on_sale": false,
        "status": "publish",
        "purchasable": true,
        "virtual": v.is_virtual,
        "downloadable": v.downloadable,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": false,
        "stock_quantity": null,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": false,
        "backordered": false,
        "low_stock_amount": null,
        "weight": store.effective_weight(v),
        "dimensions": dims(&store.effective_dimensions(v)),
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": null,
        "attributes": [{ "id": 0, "name": attr, "slug": attr_slug, "option": option }],
        "menu_order": 0,
        "meta_data": [],
        "name": option,
        "parent_id": v.parent_id,
        "_links": {
            "self": self_link(format!("{base}/wp-json/wc/v3/products/{}/variations/{}", v.parent_id, v.id), ALL_METHODS),
            "collection": link(format!("{base}/wp-json/wc/v3/products/{}/variations", v.parent_id)),
            "up": link(format!("{base}/wp-json/wc/v3/products/{}", v.parent_id)),
        }
    })
}

pub(crate) fn webhook(store: &Store, w: &Webhook, base: &str) -> Value {
    json!({
        "id": w.id,
        "name": w.name,
        "status": w.status,
        "topic": w.topic,
        "resource": w.resource(),
        "event": w.event(),
        "hooks": w.hooks(),
        "delivery_url": w.delivery_url,
        "date_created": local_date(store, w.date_created),
        "date_created_gmt": date(w.date_created),
        "date_modified": w.date_modified.map(|d| local_date(store, d)),
        "date_modified_gmt": w.date_modified.map(date),
        "_links": {
            "self": self_link(format!("{base}/wp-json/wc/v3/webhooks/{}", w.id), ALL_METHODS),
            "collection": link(format!("{base}/wp-json/wc/v3/webhooks")),
        }
    })
}

pub(crate) fn weight_unit_setting(store: &Store, base: &str) -> Value {
    json!({
        "id": "woocommerce_weight_unit",
        "label": "Weight unit",
        "description": "This controls what unit you will define weights in.",
        "type": "select",
        "default": "kg",
        "options": { "kg": "kg", "g": "g", "lbs": "lbs", "oz": "oz" },
        "tip": "This controls what unit you will define weights in.",
        "value": store.settings.weight_unit,
        "group_id": "products",
        "_links": {
            "self": self_link(
                format!("{base}/wp-json/wc/v3/settings/products/woocommerce_weight_unit"),
                &["GET", "POST", "PUT", "PATCH"],
            ),
            "collection": link(format!("{base}/wp-json/wc/v3/settings/products")),
        }
    })
}

/// `GET /wc/v3/reports/orders/totals`: every registered status (`wc_get_order_statuses`, slug
/// without `wc-`, name in the site's language) with its number of orders, zeros included.
pub(crate) fn order_totals(store: &Store) -> Value {
    let rows: Vec<Value> = store
        .order_statuses()
        .into_iter()
        .map(|(slug, name)| {
            let total = store.orders.values().filter(|o| o.status == slug).count();
            json!({ "slug": slug, "name": name, "total": total })
        })
        .collect();
    Value::Array(rows)
}

/// `GET /wc/v3/system_status`: the report's sections, with only the environment facts a
/// connector reads filled in (the rest of the report is server detail woo-sim does not have).
pub(crate) fn system_status(store: &Store, base: &str) -> Value {
    json!({
        "environment": {
            "home_url": base,
            "site_url": base,
            "version": store.settings.wc_version,
            "wp_version": store.settings.wp_version,
            "wp_multisite": false,
            "language": store.settings.language,
        },
        "database": {},
        "active_plugins": [],
        "inactive_plugins": [],
        "dropins_mu_plugins": { "dropins": [], "mu_plugins": [] },
        "theme": {},
        "settings": {
            "currency": store.settings.currency,
            "currency_symbol": store.settings.currency_symbol,
            "currency_position": "left",
            "number_of_decimals": store.settings.price_decimals,
        },
        "security": {},
        "pages": [],
        "post_type_counts": [],
    })
}
