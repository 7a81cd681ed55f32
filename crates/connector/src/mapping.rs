//! The one place where a WooCommerce order becomes a TrackingTech order body.
//!
//! [`map_order`] is pure: everything it needs besides the order (the link's customer id, the
//! store URL, the store's weight unit, what is known of the products) comes in a [`Context`],
//! which [`load_products`] helps fill. It answers one of three [`Outcome`]s, decided in this
//! order:
//!
//! 1. **Skip** (recorded as `skipped`; nothing for a courier to do):
//!    - the order has shipping lines and every one of them is a local pickup
//!      ([`ShippingLine::is_pickup`]: `local_pickup`, `pickup_location`);
//!    - no line with a quantity ≥ 1 needs shipping: every such line's product (or variation) is
//!      known and virtual. A product the store no longer has counts as needing shipping, since
//!      skipping a parcel loses it while sending a virtual one only costs a call.
//!
//!    Skips come before refusals: a pickup order without an address is skipped, not refused.
//! 2. **Refuse** (recorded as `rejected` before any call; TrackingTech could not deliver it):
//!    no line with a quantity ≥ 1; no street address or no city/comuna in the chosen address; a
//!    line whose `total` is not a decimal; a quantity too large for the contract. Each reason is
//!    a coded [`Text`] (rendered in the reader's language) that names the order by its `number`
//!    (its `id` when the number is empty), says what to fix, and never holds the customer's
//!    personal data.
//! 3. **Send** the [`OrderBody`], which holds exactly the contract's fields:
//!    - `order_id` is the WooCommerce `id`; `customer_id` and `store_url` come from the context.
//!    - `products`: every line with a quantity ≥ 1, in order (lines with quantity ≤ 0 are left
//!      out). `name` as is (no truncation), `sku` `""` when null, `price` from [`unit_price`] —
//!      the line's `total` (after discounts) divided by its quantity, in decimal. The line's
//!      `price` field is a float and is never read. `weight` is the variation's, else its parent
//!      product's, kept as the store wrote it; it is left out (with `weight_unit`) when unset or
//!      not a plain non-negative decimal (`"1,5"`, `"abc"`), since garbage is worse than
//!      nothing. `weight_unit` is the store's unit, sent only beside a weight.
//!    - `shipping`: the shipping address, or the billing one when the shipping address is empty
//!      (no `address_1` and no `city`, after trimming), which is what WooCommerce does for a
//!      store that does not ask for a separate shipping address. `email` and `phone` are always
//!      billing's (the contract says so; the shipping phone is optional in WooCommerce). `state`
//!      is the stored code (`CL-RM`); an empty `country` becomes `CL` when the state is a
//!      Chilean code.
//!
//! Nothing here panics on any input: sizes, signs and strings are checked, never assumed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};
use trackingtech::{OrderBody, Shipping};
use woocommerce::{Address, LineItem, Order, Product, ShippingLine, Variation};

use crate::text::{Code, Text};

/// What ttwc knows of a product or variation id that appears in an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInfo {
    /// The weight as the store wrote it (a variation's own or inherited one), `None` when unset.
    pub weight: Option<String>,
    /// False for virtual products, which need no courier.
    pub needs_shipping: bool,
}

/// What [`map_order`] needs besides the order itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The customer identifier TrackingTech gave when the store was linked.
    pub customer_id: &'a str,
    /// The connection's normalized store URL.
    pub store_url: &'a str,
    /// The store's weight unit: `kg`, `g`, `lbs` or `oz` (or a plugin's).
    pub weight_unit: &'a str,
    /// Keyed by product id and by variation id (they share WordPress's id space).
    pub products: &'a HashMap<u64, ProductInfo>,
}

/// What to do with an order.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one outcome per order, consumed at once; boxing the body would buy nothing"
)]
pub enum Outcome {
    /// Send this body to TrackingTech.
    Send(OrderBody),
    /// Nothing to ship (recorded as `skipped`): no line needs shipping, or every shipping line is
    /// local pickup.
    Skip(Text),
    /// TrackingTech could not deliver it (recorded as `rejected` before any call): no street
    /// address, no city/comuna, no line with a quantity ≥ 1, a line whose total is not a decimal
    /// or whose quantity is too large.
    Refuse(Text),
}

/// Maps one order; see the module documentation for the rules.
pub fn map_order(order: &Order, ctx: &Context<'_>) -> Outcome {
    let label = order_label(order);
    let lines: Vec<(usize, &LineItem)> = order
        .line_items
        .iter()
        .enumerate()
        .filter(|(_, line)| line.quantity >= 1)
        .collect();

    if !order.shipping_lines.is_empty() && order.shipping_lines.iter().all(ShippingLine::is_pickup)
    {
        return Outcome::Skip(Text::new(Code::Pickup).with("number", label.as_str()));
    }
    if !lines.is_empty() && !lines.iter().any(|(_, line)| needs_shipping(line, ctx)) {
        return Outcome::Skip(Text::new(Code::NothingToShip).with("number", label.as_str()));
    }

    if lines.is_empty() {
        return Outcome::Refuse(Text::new(Code::NoQuantity).with("number", label.as_str()));
    }

    let address = chosen_address(order);
    if address.address_1.trim().is_empty() {
        return Outcome::Refuse(Text::new(Code::NoStreet).with("number", label.as_str()));
    }
    if address.city.trim().is_empty() {
        return Outcome::Refuse(Text::new(Code::NoCity).with("number", label.as_str()));
    }

    let mut products = Vec::with_capacity(lines.len());
    for (index, line) in lines {
        let position = index + 1;
        let Some(price) = unit_price(&line.total, line.quantity, &order.total) else {
            let name = short_name(&line.name);
            return Outcome::Refuse(
                Text::new(Code::BadPrice)
                    .with("number", label.as_str())
                    .with("line", position as i64)
                    .with("name", name),
            );
        };
        let Ok(quantity) = u32::try_from(line.quantity) else {
            let name = short_name(&line.name);
            return Outcome::Refuse(
                Text::new(Code::QuantityTooLarge)
                    .with("number", label.as_str())
                    .with("line", position as i64)
                    .with("name", name)
                    .with("quantity", line.quantity),
            );
        };
        let weight = line_weight(line, ctx);
        products.push(trackingtech::Product {
            name: line.name.clone(),
            sku: line.sku.clone().unwrap_or_default(),
            quantity,
            price,
            weight_unit: weight.as_ref().map(|_| ctx.weight_unit.trim().to_owned()),
            weight,
        });
    }

    Outcome::Send(OrderBody {
        order_id: order.id,
        customer_id: ctx.customer_id.to_owned(),
        store_url: ctx.store_url.to_owned(),
        products,
        shipping: shipping(order, address),
    })
}

/// Product ids and (parent, variation) pairs an order needs info for, sorted and without
/// duplicates. Variation lines list their parent among the product ids too (its weight is the
/// fallback); zero ids (a deleted product) are left out.
pub fn needed_products(order: &Order) -> (Vec<u64>, Vec<(u64, u64)>) {
    let mut products = BTreeSet::new();
    let mut variations = BTreeSet::new();
    for line in &order.line_items {
        if line.product_id != 0 {
            products.insert(line.product_id);
            if line.variation_id != 0 {
                variations.insert((line.product_id, line.variation_id));
            }
        }
    }
    (
        products.into_iter().collect(),
        variations.into_iter().collect(),
    )
}

/// Fetches what [`map_order`] needs for these orders: products by batched `include=` (the
/// client batches by 100) and variations per parent (with `include=` of the needed ids); a
/// variation without its own weight falls back to its parent's (WooCommerce usually already
/// shows it inherited); `needs_shipping = !virtual`. Ids the store no longer has are simply
/// absent from the map (their lines map without weight and count as needing shipping).
///
/// Variations are asked for only under parents the store still has, and a 404 for them (a
/// parent deleted in between) counts as "no variations"; any other error is returned.
pub async fn load_products(
    woo: &woocommerce::Client,
    orders: &[&Order],
) -> Result<HashMap<u64, ProductInfo>, woocommerce::Error> {
    let mut product_ids = BTreeSet::new();
    let mut wanted: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for order in orders {
        let (ids, pairs) = needed_products(order);
        product_ids.extend(ids);
        for (parent, variation) in pairs {
            wanted.entry(parent).or_default().push(variation);
        }
    }
    if product_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<u64> = product_ids.into_iter().collect();
    let products = woo.products_by_ids(&ids).await?;
    let mut variations = Vec::new();
    for (parent, ids) in wanted {
        if !products.iter().any(|p| p.id == parent) {
            continue;
        }
        match woo.variations(parent, &ids).await {
            Ok(found) => variations.extend(found),
            Err(woocommerce::Error::Rejected { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(product_infos(&products, &variations))
}

/// The map [`Context::products`] wants, from the store's products and variations.
fn product_infos(products: &[Product], variations: &[Variation]) -> HashMap<u64, ProductInfo> {
    let mut out: HashMap<u64, ProductInfo> = products
        .iter()
        .map(|p| {
            let info = ProductInfo {
                weight: p.weight().map(str::to_owned),
                needs_shipping: !p.is_virtual,
            };
            (p.id, info)
        })
        .collect();
    for v in variations {
        let parent_weight = products
            .iter()
            .find(|p| p.id == v.parent_id)
            .and_then(Product::weight);
        let info = ProductInfo {
            weight: v.weight().or(parent_weight).map(str::to_owned),
            needs_shipping: !v.is_virtual,
        };
        out.insert(v.id, info);
    }
    out
}

/// Unit price after discounts: line `total` ÷ `quantity`, in decimal, rounded half-up
/// (midpoint away from zero) to as many decimals as the order's own `total` string has (e.g.
/// `"25980"` → 0 decimals; `"19.90"` → 2). When the order total is not a decimal itself, the
/// line total's decimals are used. `None` when `quantity < 1` or the line total is not a
/// decimal.
pub fn unit_price(line_total: &str, quantity: i64, order_total: &str) -> Option<String> {
    if quantity < 1 {
        return None;
    }
    let line_total = line_total.trim();
    let line_decimals = decimals(line_total)?;
    // A Decimal holds at most 28 decimals: `rescale` asked for more leaves a value whose
    // `to_string` panics (found by the `order_mapping` fuzzer), so more are never asked for.
    let places = decimals(order_total.trim())
        .unwrap_or(line_decimals)
        .min(Decimal::MAX_SCALE);
    let total = Decimal::from_str_exact(line_total).ok()?;
    let unit = total.checked_div(Decimal::from(quantity))?;
    let mut rounded = unit.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    // Rounding never adds decimals a value lacks ("10" ÷ 1 stays "10"), but the price must
    // carry the store's own number of decimals ("10.00").
    rounded.rescale(places);
    Some(rounded.to_string())
}

/// The number of decimals of a plain decimal string (`-?\d+(\.\d+)?`), or `None` for anything
/// else (exponents, thousands separators, commas, underscores, blanks).
fn decimals(s: &str) -> Option<u32> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match frac {
        None => Some(0),
        Some(frac) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => {
            u32::try_from(frac.len()).ok()
        }
        Some(_) => None,
    }
}

/// Whether a weight is a plain non-negative decimal (`1`, `1.5`, `.5`).
fn is_plain_weight(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac)
}

fn needs_shipping(line: &LineItem, ctx: &Context<'_>) -> bool {
    let key = if line.variation_id != 0 {
        line.variation_id
    } else {
        line.product_id
    };
    ctx.products
        .get(&key)
        .is_none_or(|info| info.needs_shipping)
}

/// The variation's weight, else its parent's; only a usable one, and only with a unit to go
/// beside it.
fn line_weight(line: &LineItem, ctx: &Context<'_>) -> Option<String> {
    if ctx.weight_unit.trim().is_empty() {
        return None;
    }
    let usable = |id: u64| {
        ctx.products
            .get(&id)
            .and_then(|info| info.weight.as_deref())
            .map(str::trim)
            .filter(|w| is_plain_weight(w))
    };
    let own = if line.variation_id != 0 {
        usable(line.variation_id)
    } else {
        None
    };
    own.or_else(|| usable(line.product_id)).map(str::to_owned)
}

/// The shipping address, or billing's when the shipping one is empty.
fn chosen_address(order: &Order) -> &Address {
    let s = &order.shipping;
    if s.address_1.trim().is_empty() && s.city.trim().is_empty() {
        &order.billing
    } else {
        s
    }
}

fn shipping(order: &Order, address: &Address) -> Shipping {
    let country = if address.country.trim().is_empty() && address.state.starts_with("CL-") {
        "CL".to_owned()
    } else {
        address.country.clone()
    };
    Shipping {
        first_name: address.first_name.clone(),
        last_name: address.last_name.clone(),
        company: address.company.clone(),
        address_1: address.address_1.clone(),
        address_2: address.address_2.clone(),
        city: address.city.clone(),
        state: address.state.clone(),
        postcode: address.postcode.clone(),
        country,
        email: order.billing.email.clone(),
        phone: order.billing.phone.clone(),
    }
}

/// How the merchant knows the order: its `number`, or its `id` when the number is empty or
/// implausibly long (a message must stay readable).
fn order_label(order: &Order) -> String {
    let number = order.number.trim();
    if number.is_empty() || number.chars().count() > 40 {
        order.id.to_string()
    } else {
        number.to_owned()
    }
}

/// A product name cut for a message (the body itself always carries the whole name).
fn short_name(name: &str) -> String {
    const MAX: usize = 60;
    let name = name.trim();
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let mut short: String = name.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{Value, json};

    use super::*;
    use crate::text::Lang;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/woocommerce-samples/"
    );

    /// The `body` of a captured answer in `testdata/woocommerce-samples/`.
    fn sample(file: &str) -> Value {
        let path = format!("{SAMPLES}{file}");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the WooCommerce sample {path} is needed: {e}"));
        let mut v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
        v["body"].take()
    }

    fn order(v: Value) -> Order {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("not an order: {e}"))
    }

    const CHILE: &str = "\u{1f1e8}\u{1f1f1}";

    /// A plain Chilean order: one physical line, billing and shipping both set.
    fn base() -> Value {
        json!({
            "id": 1234, "number": "1234", "status": "processing", "total": "25980",
            "billing": {
                "first_name": "Josefa", "last_name": "Pérez", "company": "",
                "address_1": "Calle Falsa 123", "address_2": "", "city": "Ñuñoa",
                "state": "CL-RM", "postcode": "7750000", "country": "CL",
                "email": "josefa@example.cl", "phone": "+56911112222"
            },
            "shipping": {
                "first_name": "Josefa", "last_name": "Pérez", "company": "Oficina",
                "address_1": "Av. Irarrázaval 500", "address_2": "Of. 3", "city": "Ñuñoa",
                "state": "CL-RM", "postcode": "7750000", "country": "CL", "phone": "+56933334444"
            },
            "line_items": [
                {"id": 1, "name": "Polera", "product_id": 10, "variation_id": 0, "quantity": 2,
                 "sku": "POL-1", "price": 12990, "subtotal": "25980", "total": "25980"}
            ],
            "shipping_lines": [{"id": 9, "method_id": "flat_rate", "total": "3990"}]
        })
    }

    fn infos(entries: &[(u64, Option<&str>, bool)]) -> HashMap<u64, ProductInfo> {
        entries
            .iter()
            .map(|&(id, weight, needs_shipping)| {
                let info = ProductInfo {
                    weight: weight.map(str::to_owned),
                    needs_shipping,
                };
                (id, info)
            })
            .collect()
    }

    fn ctx(products: &HashMap<u64, ProductInfo>) -> Context<'_> {
        Context {
            customer_id: "cus-77",
            store_url: "https://tienda.example.cl",
            weight_unit: "kg",
            products,
        }
    }

    fn map(v: Value, products: &HashMap<u64, ProductInfo>) -> Outcome {
        map_order(&order(v), &ctx(products))
    }

    fn sent(outcome: Outcome) -> OrderBody {
        match outcome {
            Outcome::Send(body) => body,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    fn skipped(outcome: Outcome) -> Text {
        match outcome {
            Outcome::Skip(reason) => reason,
            other => panic!("expected Skip, got {other:?}"),
        }
    }

    fn refused(outcome: Outcome) -> Text {
        match outcome {
            Outcome::Refuse(reason) => reason,
            other => panic!("expected Refuse, got {other:?}"),
        }
    }

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Asserts that no customer data of `base()` appears in a reason.
    fn assert_no_personal_data(reason: &Text) {
        for text in [reason.render(Lang::Es), reason.render(Lang::En)] {
            for private in [
                "Josefa",
                "Pérez",
                "Calle Falsa",
                "Irarrázaval",
                "Ñuñoa",
                "7750000",
                "josefa@example.cl",
                "56911112222",
                "56933334444",
                "Oficina",
            ] {
                assert!(!text.contains(private), "{private:?} in {text:?}");
            }
        }
    }

    #[test]
    fn the_captured_sample_order_maps_to_this_exact_body() {
        let products: Vec<Product> = serde_json::from_value(sample("products-include.json"))
            .unwrap_or_else(|e| panic!("products: {e}"));
        let variations: Vec<Variation> = serde_json::from_value(sample("product-variations.json"))
            .unwrap_or_else(|e| panic!("variations: {e}"));
        let known = product_infos(&products, &variations);
        let body = sent(map(sample("order-get.json"), &known));
        let expected = OrderBody {
            order_id: 105,
            customer_id: "cus-77".into(),
            store_url: "https://tienda.example.cl".into(),
            products: vec![
                trackingtech::Product {
                    name: "Polera algodón".into(),
                    sku: "POL-1795767997".into(),
                    quantity: 2,
                    // "19980.00" / 2, with the order total's two decimals.
                    price: "9990.00".into(),
                    weight: Some("0.3".into()),
                    weight_unit: Some("kg".into()),
                },
                trackingtech::Product {
                    name: "Zapatilla urbana - 42".into(),
                    sku: "ZAP-1795767997-42".into(),
                    quantity: 1,
                    price: "34990.00".into(),
                    // Variation 104 has no weight of its own; the API shows the parent's.
                    weight: Some("0.9".into()),
                    weight_unit: Some("kg".into()),
                },
                trackingtech::Product {
                    name: "Tarjeta de regalo impresa".into(),
                    sku: "TAR-1795767997".into(),
                    quantity: 1,
                    price: "5000.00".into(),
                    weight: None,
                    weight_unit: None,
                },
            ],
            shipping: Shipping {
                first_name: "Ana".into(),
                last_name: "Rojas Muñoz".into(),
                company: "".into(),
                address_1: "Av. Providencia 1234".into(),
                address_2: "Depto 5".into(),
                city: "Providencia".into(),
                state: "CL-RM".into(),
                postcode: "7500000".into(),
                country: "CL".into(),
                email: "ana@example.cl".into(),
                phone: "+56912345678".into(),
            },
        };
        assert_eq!(body, expected);
    }

    #[test]
    fn product_infos_from_the_captured_samples() {
        let products: Vec<Product> = serde_json::from_value(sample("products-include.json"))
            .unwrap_or_else(|e| panic!("products: {e}"));
        let variations: Vec<Variation> = serde_json::from_value(sample("product-variations.json"))
            .unwrap_or_else(|e| panic!("variations: {e}"));
        let known = product_infos(&products, &variations);
        let info = |w: Option<&str>| ProductInfo {
            weight: w.map(str::to_owned),
            needs_shipping: true,
        };
        assert_eq!(known.get(&100), Some(&info(Some("0.3"))));
        assert_eq!(known.get(&101), Some(&info(None)));
        assert_eq!(known.get(&102), Some(&info(Some("0.9"))));
        assert_eq!(known.get(&103), Some(&info(Some("0.85"))));
        assert_eq!(known.get(&104), Some(&info(Some("0.9"))));
        assert_eq!(known.len(), 5);
    }

    #[test]
    fn a_variation_without_weight_takes_its_parents_and_virtual_is_no_shipping() {
        let products: Vec<Product> = serde_json::from_value(json!([
            {"id": 1, "weight": "2.5", "virtual": false},
            {"id": 5, "weight": "", "virtual": true}
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        // A store that does not show the inherited weight: the variation's is "".
        let variations: Vec<Variation> = serde_json::from_value(json!([
            {"id": 2, "parent_id": 1, "weight": ""},
            {"id": 3, "parent_id": 1, "weight": "0.4", "virtual": "yes"}
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        let known = product_infos(&products, &variations);
        assert_eq!(known[&2].weight.as_deref(), Some("2.5"));
        assert!(known[&2].needs_shipping);
        assert_eq!(known[&3].weight.as_deref(), Some("0.4"));
        assert!(!known[&3].needs_shipping);
        assert_eq!(known[&5].weight, None);
        assert!(!known[&5].needs_shipping);
    }

    #[test]
    fn the_body_has_exactly_the_contracts_keys() {
        let known = infos(&[(10, Some("1.5"), true)]);
        let body = sent(map(base(), &known));
        let v = serde_json::to_value(&body).unwrap_or_default();
        // Taken from the contract (reference/trackingtech-api.md, "Order body").
        assert_eq!(
            keys(&v),
            set(&[
                "order_id",
                "customer_id",
                "store_url",
                "products",
                "shipping"
            ])
        );
        assert_eq!(
            keys(&v["products"][0]),
            set(&["name", "sku", "quantity", "price", "weight", "weight_unit"])
        );
        assert_eq!(
            keys(&v["shipping"]),
            set(&[
                "first_name",
                "last_name",
                "company",
                "address_1",
                "address_2",
                "city",
                "state",
                "postcode",
                "country",
                "email",
                "phone",
            ])
        );
        assert_eq!(v["order_id"], json!(1234));
        assert_eq!(v["products"][0]["quantity"], json!(2));
        // Prices travel as strings, never numbers.
        assert_eq!(v["products"][0]["price"], json!("12990"));
    }

    #[test]
    fn fuzz_order_mapping_crash_3ca9f809_unit_price_with_over_28_decimals() {
        // An order total with 36 decimals used to make `unit_price` panic in Decimal's Display.
        let order_total = "9.999999999999999999999999999999999998";
        let p = unit_price("99999999.999999999", 9_999_999_999_999_999, order_total);
        assert_eq!(p.as_deref(), Some("0.0000000100000000000000009000"));
        let p = unit_price("99999999.999999999", 1, order_total);
        assert_eq!(p.as_deref(), Some("99999999.99999999900000000000"));
    }

    #[test]
    fn unit_prices_round_half_up_to_the_order_totals_decimals() {
        let cases = [
            (("25980", 2, "25980"), Some("12990")),
            (("9990", 3, "9990"), Some("3330")),
            (("10.00", 3, "30.00"), Some("3.33")),
            (("20.00", 3, "30.00"), Some("6.67")),
            (("10.01", 2, "19.90"), Some("5.01")),
            (("-10.01", 2, "19.90"), Some("-5.01")),
            // The order total decides the decimals, not the line total.
            (("19980.00", 2, "63960.00"), Some("9990.00")),
            (("10", 4, "40.00"), Some("2.50")),
            (("10", 1, "10.00"), Some("10.00")),
            (("0", 3, "0.00"), Some("0.00")),
            (("10.5", 2, "21"), Some("5")),
            (("9", 2, "9"), Some("5")),
            (("7", 2, "7"), Some("4")),
            (("0", 1, "0"), Some("0")),
            // An order total that is not a decimal: the line's own decimals.
            (("10.01", 2, ""), Some("5.01")),
            ((" 100 ", 4, "x"), Some("25")),
            (("10", 0, "10"), None),
            (("10", -2, "10"), None),
            (("abc", 1, "10"), None),
            (("", 1, "10"), None),
            (("1,5", 1, "10"), None),
            (("1e3", 1, "10"), None),
            (("1_000", 1, "10"), None),
            (("10.", 1, "10"), None),
            (("99999999999999999999999999999999", 1, "1"), None),
        ];
        for ((total, qty, order_total), want) in cases {
            assert_eq!(
                unit_price(total, qty, order_total).as_deref(),
                want,
                "{total} / {qty} with order total {order_total}"
            );
        }
        // Huge quantities and many decimals do not panic.
        assert_eq!(unit_price("1", i64::MAX, "1").as_deref(), Some("0"));
        assert!(unit_price("1", 3, "1.0000000000000000000000000000000").is_some());
    }

    #[test]
    fn a_discounted_line_is_priced_from_its_total_and_the_float_price_is_ignored() {
        let mut v = base();
        v["total"] = json!("9990");
        v["line_items"] = json!([
            {"id": 1, "name": "Tazón", "product_id": 10, "quantity": 3,
             "price": 3999.6666666666665, "subtotal": "11999", "total": "9990"}
        ]);
        let body = sent(map(v, &HashMap::new()));
        assert_eq!(body.products[0].price, "3330");
        assert_eq!(body.products[0].quantity, 3);
    }

    #[test]
    fn a_line_whose_total_is_not_a_number_is_refused_by_name() {
        let mut v = base();
        v["line_items"] = json!([
            {"id": 1, "name": "Polera", "product_id": 10, "quantity": 1, "total": "100"},
            {"id": 2, "name": "Manta chilota", "product_id": 11, "quantity": 1,
             "price": 29990, "total": "29.990,00"}
        ]);
        let reason = refused(map(v, &HashMap::new()));
        assert_eq!(reason.code, Code::BadPrice);
        assert!(
            reason.render(Lang::Es).contains("línea 2")
                && reason.render(Lang::Es).contains("Manta chilota")
        );
        assert!(
            reason.render(Lang::En).contains("Line 2")
                && reason.render(Lang::En).contains("Manta chilota")
        );
        assert!(
            reason.render(Lang::Es).contains("#1234") && reason.render(Lang::En).contains("#1234")
        );
        assert_no_personal_data(&reason);
    }

    #[test]
    fn a_quantity_beyond_the_contract_is_refused() {
        let mut v = base();
        v["line_items"][0]["quantity"] = json!(5_000_000_000_i64);
        let reason = refused(map(v, &HashMap::new()));
        assert_eq!(reason.code, Code::QuantityTooLarge);
        assert!(reason.render(Lang::En).contains("(5,000,000,000)"));
        assert!(reason.render(Lang::Es).contains("(5.000.000.000)"));
    }

    fn two_lines_with_variation() -> Value {
        let mut v = base();
        v["line_items"] = json!([
            {"id": 1, "name": "Zapatilla 40", "product_id": 14, "variation_id": 15,
             "quantity": 1, "total": "34990"},
            {"id": 2, "name": "Zapatilla 42", "product_id": 14, "variation_id": 16,
             "quantity": 1, "total": "34990"},
            {"id": 3, "name": "Tazón", "product_id": 13, "quantity": 1, "total": "8990"},
            {"id": 4, "name": "Borrado", "product_id": 0, "quantity": 1, "total": "1000"}
        ]);
        v
    }

    #[test]
    fn weights_come_from_the_variation_then_the_parent_else_are_left_out() {
        let known = infos(&[
            (14, Some("0.9"), true),
            (15, Some("0.85"), true),
            (16, None, true),
            (13, Some(""), true),
        ]);
        let body = sent(map(two_lines_with_variation(), &known));
        let weights: Vec<(Option<&str>, Option<&str>)> = body
            .products
            .iter()
            .map(|p| (p.weight.as_deref(), p.weight_unit.as_deref()))
            .collect();
        assert_eq!(
            weights,
            [
                (Some("0.85"), Some("kg")),
                (Some("0.9"), Some("kg")),
                (None, None),
                (None, None)
            ]
        );
        let v = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(
            keys(&v["products"][2]),
            set(&["name", "sku", "quantity", "price"])
        );
        assert_eq!(
            keys(&v["products"][3]),
            set(&["name", "sku", "quantity", "price"])
        );
    }

    #[test]
    fn a_weight_that_is_not_a_plain_decimal_is_left_out() {
        for bad in ["1,5", "abc", "-1", "1.5 kg", "1e3", "."] {
            let known = infos(&[(10, Some(bad), true)]);
            let body = sent(map(base(), &known));
            assert_eq!(body.products[0].weight, None, "{bad:?}");
            assert_eq!(body.products[0].weight_unit, None, "{bad:?}");
        }
        for good in ["0", "1", "1.5", "0.125", ".5"] {
            let known = infos(&[(10, Some(good), true)]);
            let body = sent(map(base(), &known));
            assert_eq!(body.products[0].weight.as_deref(), Some(good));
        }
        // A variation's bad weight gives way to the parent's good one.
        let known = infos(&[(14, Some("0.9"), true), (15, Some("abc"), true)]);
        let body = sent(map(two_lines_with_variation(), &known));
        assert_eq!(body.products[0].weight.as_deref(), Some("0.9"));
    }

    #[test]
    fn the_weight_unit_is_the_stores() {
        let known = infos(&[(10, Some("300"), true)]);
        let order = order(base());
        let context = Context {
            weight_unit: "g",
            ..ctx(&known)
        };
        let body = sent(map_order(&order, &context));
        assert_eq!(body.products[0].weight_unit.as_deref(), Some("g"));
        // Without a unit a weight means nothing: both are left out.
        let context = Context {
            weight_unit: "",
            ..ctx(&known)
        };
        let body = sent(map_order(&order, &context));
        assert_eq!(
            (
                body.products[0].weight.as_deref(),
                body.products[0].weight_unit.as_deref()
            ),
            (None, None)
        );
    }

    #[test]
    fn a_null_sku_is_sent_empty_and_ids_come_from_the_order_and_context() {
        let mut v = base();
        v["id"] = json!(555);
        v["line_items"][0]["sku"] = Value::Null;
        let body = sent(map(v, &HashMap::new()));
        assert_eq!(body.order_id, 555);
        assert_eq!(body.customer_id, "cus-77");
        assert_eq!(body.store_url, "https://tienda.example.cl");
        assert_eq!(body.products[0].sku, "");
    }

    #[test]
    fn an_empty_shipping_address_falls_back_to_billing() {
        for empty in [
            json!({}),
            Value::Null,
            json!({"first_name": "X", "address_1": "  ", "city": " "}),
        ] {
            let mut v = base();
            v["shipping"] = empty.clone();
            let body = sent(map(v, &HashMap::new()));
            assert_eq!(
                body.shipping,
                Shipping {
                    first_name: "Josefa".into(),
                    last_name: "Pérez".into(),
                    company: "".into(),
                    address_1: "Calle Falsa 123".into(),
                    address_2: "".into(),
                    city: "Ñuñoa".into(),
                    state: "CL-RM".into(),
                    postcode: "7750000".into(),
                    country: "CL".into(),
                    email: "josefa@example.cl".into(),
                    phone: "+56911112222".into(),
                },
                "shipping {empty}"
            );
        }
    }

    #[test]
    fn the_shipping_address_is_used_with_billings_email_and_phone() {
        let body = sent(map(base(), &HashMap::new()));
        assert_eq!(body.shipping.address_1, "Av. Irarrázaval 500");
        assert_eq!(body.shipping.address_2, "Of. 3");
        assert_eq!(body.shipping.company, "Oficina");
        // The shipping phone is +56933334444; the contract wants billing's.
        assert_eq!(body.shipping.phone, "+56911112222");
        assert_eq!(body.shipping.email, "josefa@example.cl");
        // An address with a street but no city is not "empty": it is refused, not replaced.
        let mut v = base();
        v["shipping"]["city"] = json!("");
        assert_eq!(refused(map(v, &HashMap::new())).code, Code::NoCity);
    }

    #[test]
    fn the_state_code_is_kept_and_a_chilean_one_implies_the_country() {
        let mut v = base();
        v["shipping"]["state"] = json!("CL-VS");
        v["shipping"]["country"] = json!("");
        let body = sent(map(v, &HashMap::new()));
        assert_eq!(
            (body.shipping.state.as_str(), body.shipping.country.as_str()),
            ("CL-VS", "CL")
        );
        let mut v = base();
        v["shipping"]["state"] = json!("Valparaíso");
        v["shipping"]["country"] = json!("");
        let body = sent(map(v, &HashMap::new()));
        assert_eq!(
            (body.shipping.state.as_str(), body.shipping.country.as_str()),
            ("Valparaíso", "")
        );
        let mut v = base();
        v["shipping"]["state"] = json!("AR-B");
        v["shipping"]["country"] = json!("AR");
        let body = sent(map(v, &HashMap::new()));
        assert_eq!(
            (body.shipping.state.as_str(), body.shipping.country.as_str()),
            ("AR-B", "AR")
        );
    }

    #[test]
    fn lines_without_a_positive_quantity_are_left_out() {
        let mut v = base();
        v["line_items"] = json!([
            {"id": 1, "name": "Cero", "product_id": 10, "quantity": 0, "total": "0"},
            {"id": 2, "name": "Uno", "product_id": 11, "quantity": 1, "total": "100"},
            {"id": 3, "name": "Negativo", "product_id": 12, "quantity": -2, "total": "-200"},
            {"id": 4, "name": "Dos", "product_id": 13, "quantity": "2", "total": "300"}
        ]);
        let body = sent(map(v, &HashMap::new()));
        let names: Vec<(&str, u32, &str)> = body
            .products
            .iter()
            .map(|p| (p.name.as_str(), p.quantity, p.price.as_str()))
            .collect();
        assert_eq!(names, [("Uno", 1, "100"), ("Dos", 2, "150")]);
    }

    #[test]
    fn an_order_without_a_positive_quantity_is_refused() {
        for lines in [
            json!([]),
            Value::Null,
            json!([{"id": 1, "name": "Cero", "product_id": 10, "quantity": 0, "total": "0"},
                   {"id": 2, "name": "Menos", "product_id": 10, "quantity": -1, "total": "0"}]),
        ] {
            let mut v = base();
            v["line_items"] = lines.clone();
            let reason = refused(map(v, &HashMap::new()));
            assert_eq!(reason.code, Code::NoQuantity, "{lines}");
            assert!(
                reason.render(Lang::Es).contains("#1234")
                    && reason.render(Lang::En).contains("#1234")
            );
        }
        // Even when every such line is virtual: there is nothing to decide a skip on.
        let mut v = base();
        v["line_items"][0]["quantity"] = json!(0);
        let known = infos(&[(10, None, false)]);
        assert_eq!(refused(map(v, &known)).code, Code::NoQuantity);
    }

    #[test]
    fn an_order_of_virtual_products_only_is_skipped() {
        let mut v = base();
        v["line_items"] = json!([
            {"id": 1, "name": "Gift card", "product_id": 19, "quantity": 1, "total": "10000"},
            {"id": 2, "name": "Curso", "product_id": 14, "variation_id": 22, "quantity": 1,
             "total": "5000"},
            // A physical product with no quantity does not count.
            {"id": 3, "name": "Polera", "product_id": 10, "quantity": 0, "total": "0"}
        ]);
        let known = infos(&[
            (19, None, false),
            (22, None, false),
            (14, Some("1"), true),
            (10, None, true),
        ]);
        let reason = skipped(map(v.clone(), &known));
        assert_eq!(reason.code, Code::NothingToShip);
        assert!(
            reason.render(Lang::Es).contains("#1234") && reason.render(Lang::En).contains("#1234")
        );
        // An unknown (deleted) product counts as needing shipping: the order is sent, virtual
        // lines included.
        v["line_items"][2]["product_id"] = json!(99);
        v["line_items"][2]["quantity"] = json!(1);
        let body = sent(map(v.clone(), &known));
        assert_eq!(body.products.len(), 3);
        // So does a variation the store no longer has, whatever its parent is.
        v["line_items"][2]["quantity"] = json!(0);
        v["line_items"][1]["variation_id"] = json!(23);
        let known = infos(&[(19, None, false), (14, None, false)]);
        assert_eq!(sent(map(v, &known)).products.len(), 2);
    }

    #[test]
    fn a_local_pickup_is_skipped_even_without_an_address() {
        for method in ["local_pickup", "pickup_location"] {
            let mut v = base();
            v["shipping_lines"] = json!([{"id": 9, "method_id": method, "total": "0"}]);
            v["shipping"] = json!({});
            v["billing"]["address_1"] = json!("");
            v["billing"]["city"] = json!("");
            let reason = skipped(map(v, &HashMap::new()));
            assert_eq!(reason.code, Code::Pickup, "{method}");
            assert!(
                reason.render(Lang::Es).contains("retiro en tienda"),
                "{}",
                reason.render(Lang::Es)
            );
            assert!(reason.render(Lang::En).contains("#1234"));
            assert_no_personal_data(&reason);
        }
        // One pickup line beside a delivery line: it ships.
        let mut v = base();
        v["shipping_lines"] = json!([
            {"id": 8, "method_id": "local_pickup"},
            {"id": 9, "method_id": "flat_rate"}
        ]);
        assert!(matches!(map(v, &HashMap::new()), Outcome::Send(_)));
        // No shipping line at all is not a pickup.
        let mut v = base();
        v["shipping_lines"] = json!([]);
        assert!(matches!(map(v, &HashMap::new()), Outcome::Send(_)));
    }

    #[test]
    fn an_order_without_a_street_is_refused_in_both_languages_without_personal_data() {
        let mut v = base();
        v["shipping"]["address_1"] = json!("   ");
        let reason = refused(map(v, &HashMap::new()));
        assert_eq!(reason.code, Code::NoStreet);
        assert_eq!(
            reason.render(Lang::Es),
            "El pedido #1234 no tiene dirección de envío (calle y número). Corrígelo en \
             WooCommerce y reenvíalo."
        );
        let en = reason.render(Lang::En);
        assert!(
            en.starts_with("Order #1234 has no shipping address"),
            "{en}"
        );
        assert!(reason.render(Lang::En).contains("WooCommerce"));
        assert_no_personal_data(&reason);
    }

    #[test]
    fn an_order_without_a_city_is_refused_and_the_id_stands_in_for_a_missing_number() {
        let mut v = base();
        v["number"] = json!("");
        v["shipping"] = json!({});
        v["billing"]["city"] = json!("");
        let reason = refused(map(v, &HashMap::new()));
        assert_eq!(reason.code, Code::NoCity);
        assert!(
            reason.render(Lang::Es).contains("#1234") && reason.render(Lang::Es).contains("comuna")
        );
        assert!(
            reason.render(Lang::En).contains("#1234") && reason.render(Lang::En).contains("city")
        );
        assert_no_personal_data(&reason);
        // A plugin's order number is what the merchant sees, so it is the one named.
        let mut v = base();
        v["number"] = json!("WEB-0042");
        v["shipping"]["city"] = json!("");
        let reason = refused(map(v, &HashMap::new()));
        assert!(
            reason.render(Lang::Es).contains("#WEB-0042")
                && reason.render(Lang::En).contains("#WEB-0042")
        );
    }

    #[test]
    fn names_travel_whole_emoji_rtl_and_huge_alike() {
        let huge = "Ñandú ".repeat(100 * 1024 / 7 + 1);
        assert!(huge.len() > 100 * 1024);
        let names = [
            format!("Polera {CHILE} 🧉 talla M"),
            "كتاب الطبخ — עברית".to_owned(),
            huge,
            "  espacios  \u{0} y \"comillas\"  ".to_owned(),
        ];
        for name in names {
            let mut v = base();
            v["line_items"][0]["name"] = json!(name);
            let body = sent(map(v, &HashMap::new()));
            assert_eq!(body.products[0].name, name);
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let back: OrderBody =
                serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("round trip: {e}"));
            assert_eq!(back, body);
        }
    }

    #[test]
    fn a_huge_name_is_cut_in_messages_only() {
        let huge = "ñ".repeat(100_000);
        let mut v = base();
        v["line_items"][0]["name"] = json!(huge);
        v["line_items"][0]["total"] = json!("n/a");
        let reason = refused(map(v, &HashMap::new()));
        let es = reason.render(Lang::Es);
        assert!(es.chars().count() < 400, "{}", es.len());
        assert!(reason.render(Lang::Es).contains("ñññ…"));
    }

    #[test]
    fn five_thousand_lines_map_without_panicking() {
        let lines: Vec<Value> = (0..5000_i64)
            .map(|i| {
                json!({"id": i + 1, "name": format!("Producto {i}"), "product_id": 1000 + i,
                       "variation_id": if i % 2 == 0 { 0 } else { 5000 + i },
                       "quantity": i % 7 - 1, "sku": null, "total": format!("{}", (i % 7 - 1) * 990)})
            })
            .collect();
        let mut v = base();
        v["line_items"] = json!(lines);
        let known: HashMap<u64, ProductInfo> = (0..5000_u64)
            .map(|i| {
                let info = ProductInfo {
                    weight: (i % 3 == 0).then(|| "0.5".to_owned()),
                    needs_shipping: i % 5 != 0,
                };
                (1000 + i, info)
            })
            .collect();
        let body = sent(map(v, &known));
        // Quantities cycle through -1..=5: 5 of every 7 lines are ≥ 1.
        let expected = (0..5000).filter(|i| i % 7 >= 2).count();
        assert_eq!(body.products.len(), expected);
        assert!(
            body.products
                .iter()
                .all(|p| p.price == "990" && p.sku.is_empty())
        );
    }

    #[test]
    fn strange_orders_never_panic() {
        let known = infos(&[(1, Some("abc"), false)]);
        for v in [
            json!({"id": 1, "status": "x"}),
            json!({"id": 1, "status": "x", "line_items": [{"id": 1}]}),
            json!({"id": 1, "status": "x", "total": "1e999",
                   "line_items": [{"id": 1, "product_id": 1, "quantity": 1, "total": "1e999"}]}),
            json!({"id": 1, "status": "x", "billing": {"address_1": "a", "city": "b"},
                   "line_items": [{"id": 1, "quantity": i64::MAX, "total": "1"}]}),
            json!({"id": 1, "status": "x", "billing": {"address_1": "a", "city": "b"},
                   "line_items": [{"id": 1, "quantity": i64::MIN, "total": "-1"}]}),
        ] {
            let outcome = map(v.clone(), &known);
            assert!(!matches!(outcome, Outcome::Send(_)), "{v} gave {outcome:?}");
        }
    }

    #[tokio::test]
    async fn load_products_asks_the_store_and_leaves_unknown_ids_out() {
        let sim = woo_sim::spawn(woo_sim::Config::new(woo_sim::Seed::builtin()))
            .await
            .unwrap_or_else(|e| panic!("woo-sim starts: {e}"));
        let store = woocommerce::StoreUrl::parse(&sim.base_url())
            .unwrap_or_else(|e| panic!("store url: {e}"));
        let keys = woocommerce::Credentials::new(sim.consumer_key(), sim.consumer_secret())
            .unwrap_or_else(|e| panic!("keys: {e}"));
        let http = woocommerce::Http::new(woocommerce::HttpOptions {
            policy: woocommerce::Policy::allowing(egress::loopback()),
            ..woocommerce::HttpOptions::default()
        })
        .unwrap_or_else(|e| panic!("client: {e}"));
        let woo = woocommerce::Client::new(&http, store, keys);
        // The builtin seed: 11 weighs 0.3, 13 has no weight, 14 is variable (0.9) with
        // variations 15 (0.85) and 16 (none of its own), 19 is virtual; 999 does not exist,
        // nor does variation 998 of it.
        let line = |id: u64, product: u64, variation: u64| {
            json!({"id": id, "product_id": product, "variation_id": variation, "quantity": 1,
                   "total": "1"})
        };
        let mut a = base();
        a["line_items"] = json!([line(1, 11, 0), line(2, 14, 15), line(3, 999, 998)]);
        let mut b = base();
        b["line_items"] = json!([
            line(1, 13, 0),
            line(2, 14, 16),
            line(3, 19, 0),
            line(4, 11, 0)
        ]);
        let (a, b) = (order(a), order(b));
        let known = load_products(&woo, &[&a, &b])
            .await
            .unwrap_or_else(|e| panic!("load_products: {e}"));
        sim.shutdown().await;
        let info = |w: Option<&str>, needs_shipping: bool| ProductInfo {
            weight: w.map(str::to_owned),
            needs_shipping,
        };
        let expected: HashMap<u64, ProductInfo> = [
            (11, info(Some("0.3"), true)),
            (13, info(None, true)),
            (14, info(Some("0.9"), true)),
            (15, info(Some("0.85"), true)),
            (16, info(Some("0.9"), true)),
            (19, info(None, false)),
        ]
        .into_iter()
        .collect();
        assert_eq!(known, expected);
        // And the second order, fully known, maps with those weights.
        let body = sent(map_order(&b, &ctx(&known)));
        let weights: Vec<Option<&str>> =
            body.products.iter().map(|p| p.weight.as_deref()).collect();
        assert_eq!(weights, [None, Some("0.9"), None, Some("0.3")]);
    }

    #[test]
    fn needed_products_lists_parents_and_variation_pairs_once() {
        let (products, variations) = needed_products(&order(two_lines_with_variation()));
        assert_eq!(products, [13, 14]);
        assert_eq!(variations, [(14, 15), (14, 16)]);
        let (products, variations) = needed_products(&order(json!({"id": 1, "status": "x"})));
        assert!(products.is_empty() && variations.is_empty());
    }
}
