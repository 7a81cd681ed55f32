//! The order mapping: any order WooCommerce could render becomes a Send, Skip or Refuse, and a
//! Send holds exactly the contract's fields.
//!
//! The input is an order's JSON. What ttwc knows of its products is derived from the input's
//! bytes (known or not, virtual or not, a sane or garbage weight). `unit_price` is also fed
//! strings cut from the raw input.
#![no_main]

use std::collections::{BTreeSet, HashMap};

use connector::mapping::{Context, Outcome, ProductInfo, map_order, unit_price};
use libfuzzer_sys::fuzz_target;

const WEIGHTS: [Option<&str>; 8] = [
    None,
    Some("1.5"),
    Some("0"),
    Some(".5"),
    Some("1,5"),
    Some("abc"),
    Some(""),
    Some("99999999999999999999999999999999.1"),
];

fn is_decimal(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fuzz_target!(|data: &[u8]| {
    // unit_price on strings cut from the raw input: `line_total \n quantity \n order_total`.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (a, b, c) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let quantity = b.trim().parse::<i64>().unwrap_or(b.len() as i64);
    for (total, qty, order_total) in [(a, quantity, c), (c, quantity, a), (a, 1, a)] {
        if let Some(p) = unit_price(total, qty, order_total) {
            assert!(is_decimal(&p), "unit_price gave {p:?}, not a decimal");
            assert!(qty >= 1);
        }
    }

    let Ok(order) = serde_json::from_slice::<woocommerce::Order>(data) else {
        return;
    };

    let mut products = HashMap::new();
    for (i, line) in order.line_items.iter().enumerate() {
        let b = data[(i * 7 + line.id as usize % 13) % data.len()];
        for (id, bits) in [(line.product_id, b), (line.variation_id, b >> 4)] {
            if bits & 1 == 1 {
                products.insert(
                    id,
                    ProductInfo {
                        weight: WEIGHTS[usize::from(bits >> 1) & 7].map(str::to_owned),
                        needs_shipping: bits & 8 == 0 || bits & 2 == 0,
                    },
                );
            }
        }
    }
    let ctx = Context {
        customer_id: "cust-42",
        store_url: "https://tienda.example.cl",
        weight_unit: "kg",
        products: &products,
    };

    for line in &order.line_items {
        if let Some(p) = unit_price(&line.total, line.quantity, &order.total) {
            assert!(is_decimal(&p), "unit_price gave {p:?}, not a decimal");
        }
    }

    match map_order(&order, &ctx) {
        Outcome::Send(body) => {
            assert_eq!(body.order_id, order.id);
            let value = serde_json::to_value(&body).expect("an order body serializes");
            let keys: BTreeSet<&str> = value
                .as_object()
                .expect("an order body is an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                BTreeSet::from([
                    "order_id",
                    "customer_id",
                    "store_url",
                    "products",
                    "shipping"
                ]),
                "the body holds exactly the contract's top-level keys"
            );
            assert!(!body.products.is_empty(), "a sent order has products");
            for p in &body.products {
                assert!(p.quantity >= 1, "quantity {} < 1", p.quantity);
                assert!(is_decimal(&p.price), "price {:?} is not a decimal", p.price);
                assert_eq!(p.weight.is_some(), p.weight_unit.is_some());
            }
            assert!(!body.shipping.address_1.trim().is_empty());
            assert!(!body.shipping.city.trim().is_empty());
            // The body goes out as these bytes and must read back as itself.
            let payload = trackingtech::OrderPayload::new(&body);
            let back: trackingtech::OrderBody =
                serde_json::from_slice(payload.as_bytes()).expect("the payload reads back");
            assert_eq!(back, body);
        }
        Outcome::Skip(r) | Outcome::Refuse(r) => {
            assert!(!r.es.is_empty() && !r.en.is_empty() && !r.code.is_empty());
        }
    }
});
