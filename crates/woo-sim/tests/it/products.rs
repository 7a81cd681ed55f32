//! Products made through REST: `POST /products`, `POST /products/<id>/variations`, and a
//! variation read by its id from `/products/<id>`.

use serde_json::{Value, json};

use crate::helpers::*;

fn sample_of_type(kind: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/woocommerce-samples/products-include.json");
    let text = std::fs::read_to_string(&path).expect("sample");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["body"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["type"] == kind).cloned())
        .unwrap_or_else(|| panic!("no {kind} product in the sample"))
}

fn assert_like_sample(kind: &str, got: &Value) {
    let mut errors = Vec::new();
    crate::golden::same_shape("$", &sample_of_type(kind), got, &mut errors);
    assert!(errors.is_empty(), "{kind}: {}\n{got}", errors.join("\n"));
}

#[tokio::test]
async fn a_created_simple_product_reads_back_like_the_real_store() {
    let h = sim().await;
    let (s, made) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/products",
        &[],
        &json!({"name": "Mochila trekking", "sku": "MOCH-1", "regular_price": "45990",
                "weight": "1.25", "dimensions": {"length": "50", "width": "30", "height": "20"}}),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    let id = made["id"].as_u64().expect("id");
    let (s, _, got) = get_json(&h, &format!("/wp-json/wc/v3/products/{id}"), &[]).await;
    assert_eq!(s, 200, "{got}");
    assert_like_sample("simple", &got);
    assert_eq!(
        (
            &got["type"],
            &got["name"],
            &got["sku"],
            &got["price"],
            &got["weight"]
        ),
        (
            &json!("simple"),
            &json!("Mochila trekking"),
            &json!("MOCH-1"),
            &json!("45990"),
            &json!("1.25")
        )
    );
    assert_eq!(
        got["dimensions"],
        json!({"length": "50", "width": "30", "height": "20"})
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_variable_product_with_variations_and_a_variation_by_id() {
    let h = sim().await;
    let (s, parent) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/products",
        &[],
        &json!({"name": "Polera", "type": "variable", "weight": "0.3",
                "attributes": [{"name": "Talla", "options": ["S", "M"], "variation": true}]}),
    )
    .await;
    assert_eq!(s, 201, "{parent}");
    let pid = parent["id"].as_u64().expect("id");
    let mut ids = Vec::new();
    for (size, weight) in [("S", ""), ("M", "0.35")] {
        let (s, v) = send_json(
            &h,
            "POST",
            &format!("/wp-json/wc/v3/products/{pid}/variations"),
            &[],
            &json!({"regular_price": "9990", "weight": weight,
                    "attributes": [{"name": "Talla", "option": size}]}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_u64().expect("variation id"));
    }
    let (_, _, got) = get_json(&h, &format!("/wp-json/wc/v3/products/{pid}"), &[]).await;
    assert_like_sample("variable", &got);
    assert_eq!(got["variations"], json!(ids));
    // A variation by its id on /products: the products' shape, type variation, its parent.
    let (s, _, v) = get_json(&h, &format!("/wp-json/wc/v3/products/{}", ids[0]), &[]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["type"], &v["parent_id"], &v["weight"]),
        (&json!("variation"), &json!(pid), &json!("0.3")),
        "the empty weight is the parent's"
    );
    assert_eq!(
        v["attributes"],
        json!([{"id": 0, "name": "Talla", "option": "S"}])
    );
    let (_, _, v) = get_json(&h, &format!("/wp-json/wc/v3/products/{}", ids[1]), &[]).await;
    assert_eq!(v["weight"], "0.35");
    h.shutdown().await;
}

#[tokio::test]
async fn bad_products_are_refused_and_nothing_is_stored() {
    let h = sim().await;
    let (_, headers, _) = get_json(&h, "/wp-json/wc/v3/products", &[]).await;
    let before = headers["x-wp-total"].clone();
    let (s, e) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/products",
        &[],
        &json!({"name": "Otra", "sku": "ZAP-URB-40"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("product_invalid_sku")),
        "{e}"
    );
    assert_eq!(e["message"], "Invalid or duplicated SKU.");
    let (s, e) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/products",
        &[],
        &json!({"name": "Pesa", "weight": 2}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("rest_invalid_param")),
        "{e}"
    );
    let (s, e) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/products/11/variations",
        &[],
        &json!({"regular_price": "1"}),
    )
    .await;
    assert_eq!(s, 404, "a simple product has no variations: {e}");
    let (_, headers, _) = get_json(&h, "/wp-json/wc/v3/products", &[]).await;
    assert_eq!(headers["x-wp-total"], before);
    h.shutdown().await;
}
