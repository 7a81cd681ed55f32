//! Golden test: the simulator's answers against answers captured from a real WooCommerce 9.2.5
//! store (`testdata/woocommerce-samples/` at the workspace root): same keys recursively, same JSON types, same
//! error codes and messages, same headers.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::helpers::*;

fn samples_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/woocommerce-samples");
    assert!(
        dir.join("README.md").is_file(),
        "golden samples not found at {}: testdata/woocommerce-samples is part of the repository",
        dir.display()
    );
    dir
}

fn sample(name: &str) -> Value {
    let path = samples_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys (recursively) and same JSON types. Arrays of equal length are compared element by
/// element. Arrays of different lengths are compared only when both have elements: each of ours
/// against the sample's first (a list holds one kind of element, and the store that answered had
/// other data than ours). An empty array against a non-empty one is a difference either way:
/// an empty list has no elements to check, so letting it pass would hide every shape inside.
pub fn same_shape(path: &str, want: &Value, got: &Value, errors: &mut Vec<String>) {
    if kind(want) != kind(got) {
        errors.push(format!(
            "{path}: sample has {} ({want}), sim has {} ({got})",
            kind(want),
            kind(got)
        ));
        return;
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for k in w.keys() {
                if !g.contains_key(k) {
                    errors.push(format!("{path}.{k}: missing in sim"));
                }
            }
            for k in g.keys() {
                if !w.contains_key(k) {
                    errors.push(format!("{path}.{k}: not in sample"));
                }
            }
            for (k, wv) in w {
                if let Some(gv) = g.get(k) {
                    same_shape(&format!("{path}.{k}"), wv, gv, errors);
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() == g.len() {
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    same_shape(&format!("{path}[{i}]"), wv, gv, errors);
                }
            } else if w.is_empty() || g.is_empty() {
                errors.push(format!(
                    "{path}: sample has {} elements, sim has {}",
                    w.len(),
                    g.len()
                ));
            } else {
                for (i, gv) in g.iter().enumerate() {
                    same_shape(&format!("{path}[{i}]"), &w[0], gv, errors);
                }
            }
        }
        _ => {}
    }
}

fn assert_shape(name: &str, want: &Value, got: &Value) {
    let mut errors = Vec::new();
    same_shape("$", want, got, &mut errors);
    assert!(
        errors.is_empty(),
        "{name}: shape differs from the real store:\n{}\nsim answered: {got}",
        errors.join("\n")
    );
}

fn order_body() -> Value {
    json!({
        "billing": { "first_name": "Ana", "last_name": "Rojas Muñoz", "address_1": "Av. Providencia 1234",
            "address_2": "Depto 5", "city": "Providencia", "state": "CL-RM", "postcode": "7500000",
            "country": "CL", "email": "ana@example.cl", "phone": "+56912345678" },
        "shipping": { "first_name": "Ana", "last_name": "Rojas Muñoz", "address_1": "Av. Providencia 1234",
            "address_2": "Depto 5", "city": "Providencia", "state": "CL-RM", "postcode": "7500000", "country": "CL" },
        "customer_note": "Dejar en conserjería",
        "line_items": [
            { "product_id": 11, "quantity": 2 },
            { "product_id": 14, "variation_id": 16, "quantity": 1 },
            { "product_id": 13, "quantity": 1 }
        ],
        "shipping_lines": [ { "method_id": "flat_rate", "method_title": "Envío a domicilio", "total": "3990" } ]
    })
}

#[tokio::test]
async fn golden_errors_match_the_real_store() {
    let h = sim().await;
    let c = client(&h);
    let base = h.base_url();

    let want = sample("error-anonymous-list-orders.json");
    let resp = c
        .get(format!("{base}/wp-json/wc/v3/orders"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        resp.status().as_u16() as u64,
        want["status"].as_u64().unwrap_or(0)
    );
    assert_eq!(resp.json::<Value>().await.unwrap_or_default(), want["body"]);

    let want = sample("error-oauth-wrong-secret.json");
    let wrong = OAuth::new(
        h.consumer_key(),
        "cs_0000000000000000000000000000000000000000",
    );
    let resp = c
        .get(signed_url(
            &base,
            "GET",
            "/wp-json/wc/v3/orders",
            &[],
            &wrong,
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        resp.status().as_u16() as u64,
        want["status"].as_u64().unwrap_or(0)
    );
    assert_eq!(resp.json::<Value>().await.unwrap_or_default(), want["body"]);

    let want = sample("error-order-not-found.json");
    let (status, _, body) = get_json(&h, "/wp-json/wc/v3/orders/999999", &[]).await;
    assert_eq!(status as u64, want["status"].as_u64().unwrap_or(0));
    assert_eq!(body, want["body"]);

    let want = sample("error-webhook-invalid-topic.json");
    let (status, body) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/webhooks",
        &[],
        &json!({"topic": "order.shipped", "delivery_url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    assert_eq!(status as u64, want["status"].as_u64().unwrap_or(0));
    assert_eq!(body, want["body"]);
    h.shutdown().await;
}

#[tokio::test]
async fn golden_resources_have_the_real_shapes() {
    let h = sim().await;

    let want = sample("rest-index-namespaces.json");
    let resp = client(&h)
        .get(format!("{}/wp-json/", h.base_url()))
        .send()
        .await
        .expect("sent");
    let index: Value = resp.json().await.unwrap_or_default();
    assert_eq!(
        index["namespaces"], want["namespaces"],
        "builtin seed lists the same namespaces"
    );

    let want = sample("setting-weight-unit.json");
    let (status, _, body) = get_json(
        &h,
        "/wp-json/wc/v3/settings/products/woocommerce_weight_unit",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_shape("setting-weight-unit", &want["body"], &body);
    assert_eq!(body["value"], "kg");

    let want = sample("products-include.json");
    let (status, _, body) = get_json(
        &h,
        "/wp-json/wc/v3/products",
        &[("include", "11,13,14"), ("per_page", "100")],
    )
    .await;
    assert_eq!(status, 200);
    assert_shape("products-include", &want["body"], &body);

    let want = sample("product-variations.json");
    let (status, _, body) = get_json(&h, "/wp-json/wc/v3/products/14/variations", &[]).await;
    assert_eq!(status, 200);
    assert_shape("product-variations", &want["body"], &body);
    // Own weight 0.85, inherited 0.9 — as the real store shows.
    let weights: Vec<&str> = body
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|v| v["weight"].as_str())
        .collect();
    assert_eq!(weights, vec!["0.9", "0.85"]);

    // Orders: create, move to processing, note, meta.
    let want = sample("order-create-response.json");
    let (status, created) =
        send_json(&h, "POST", "/wp-json/wc/v3/orders", &[], &order_body()).await;
    assert_eq!(
        status as u64,
        want["status"].as_u64().unwrap_or(0),
        "{created}"
    );
    assert_shape("order-create-response", &want["body"], &created);
    assert_eq!(created["line_items"][0]["price"], json!(12990));
    let id = created["id"].as_u64().expect("id");
    let path = format!("/wp-json/wc/v3/orders/{id}");

    let (status, _) = send_json(&h, "PUT", &path, &[], &json!({"status": "processing"})).await;
    assert_eq!(status, 200);
    let want = sample("order-get.json");
    let (status, _, got) = get_json(&h, &path, &[]).await;
    assert_eq!(status, 200);
    assert_shape("order-get", &want["body"], &got);
    assert!(got["date_paid"].is_string() && got["is_editable"] == json!(false));

    let want = sample("order-note-create-response.json");
    let (status, note) = send_json(
        &h,
        "POST",
        &format!("{path}/notes"),
        &[],
        &json!({"note": "TrackingTech: En tránsito — tracking LMTCL201225HLSES"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_shape("order-note-create-response", &want["body"], &note);
    assert_eq!(note["author"], "WooCommerce");

    let want = sample("order-notes-list.json");
    let (status, _, notes) = get_json(&h, &format!("{path}/notes"), &[]).await;
    assert_eq!(status, 200);
    assert_shape("order-notes-list", &want["body"], &notes);
    assert_eq!(
        notes[1]["note"],
        "Order status changed from Pending payment to Processing."
    );

    let want = sample("order-meta-update-response-meta_data.json");
    let (status, updated) = send_json(
        &h,
        "PUT",
        &path,
        &[],
        &json!({"meta_data": [
            {"key": "_trackingtech_tracking_id", "value": "LMTCL201225HLSES"},
            {"key": "_trackingtech_status", "value": "in_transit"}
        ]}),
    )
    .await;
    assert_eq!(status as u64, want["status"].as_u64().unwrap_or(0));
    assert_shape(
        "order-meta-update",
        &want["meta_data"],
        &updated["meta_data"],
    );

    let want = sample("webhook-create-response.json");
    let r = receiver().await;
    let (status, hook) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/webhooks",
        &[],
        &json!({"name": "ttwc sample", "topic": "order.updated", "delivery_url": r.url(), "secret": "sampleSecret123"}),
    )
    .await;
    assert_eq!(status as u64, want["status"].as_u64().unwrap_or(0));
    assert_shape("webhook-create-response", &want["body"], &hook);
    assert_eq!(hook["hooks"], want["body"]["hooks"]);
    assert!(
        hook.get("secret").is_none(),
        "9.2.5 does not show the secret"
    );

    let want = sample("webhook-get.json");
    let (status, _, got) =
        get_json(&h, &format!("/wp-json/wc/v3/webhooks/{}", hook["id"]), &[]).await;
    assert_eq!(status, 200);
    assert_shape("webhook-get", &want["body"], &got);
    h.shutdown().await;
}

#[tokio::test]
async fn golden_paging_headers() {
    let h = sim().await;
    let want = sample("orders-list-page-headers.json");
    let (status, headers, _) = get_json(
        &h,
        "/wp-json/wc/v3/orders",
        &[("per_page", "2"), ("page", "2")],
    )
    .await;
    assert_eq!(status, 200);
    for name in want["headers"].as_object().expect("headers").keys() {
        assert!(headers.contains_key(name.as_str()), "missing header {name}");
    }
    assert_eq!(headers["x-wp-total"], "5");
    assert_eq!(headers["x-wp-totalpages"], "3");
    let link = headers["link"].to_str().unwrap_or("");
    let want_link = want["headers"]["Link"].as_str().unwrap_or("");
    assert!(want_link.contains("rel=\"prev\"") && want_link.contains("rel=\"next\""));
    assert!(
        link.contains("rel=\"prev\"") && link.contains("rel=\"next\""),
        "{link}"
    );
    // Like the real one, Link repeats the OAuth parameters (nonce included) and adds defaults.
    for part in [
        "oauth_nonce=",
        "oauth_signature=",
        "page=1",
        "page=3",
        "per_page=2",
        "status%5B0%5D=any",
        "context=view",
    ] {
        assert!(link.contains(part), "Link lacks {part}: {link}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn golden_deliveries_and_ping() {
    // The sample: create an order, set it processing a moment later -> ONE delivery, rendered at
    // delivery time.
    let h = sim_with(|c| c.delivery_delay = std::time::Duration::from_millis(400)).await;
    let r = receiver().await;

    // Known-answer vector: our independent HMAC agrees with the captured signature.
    let deliveries = sample("webhook-deliveries-create-then-processing.json");
    let captured = &deliveries[0];
    let body = captured["body"].as_str().expect("body");
    assert_eq!(
        hmac_sha256_b64("sampleSecret123", body.as_bytes()),
        captured["headers"]["X-WC-Webhook-Signature"]
            .as_str()
            .unwrap_or("")
    );

    let id = create_webhook(&h, "order.updated", &r.url(), "sampleSecret123").await;
    let ping_sample = sample("webhook-ping-delivery.json");
    let pings = r.pings();
    assert_eq!(pings.len(), 1, "ping arrives before the 201");
    assert_eq!(
        String::from_utf8_lossy(&pings[0].body),
        format!("webhook_id={id}")
    );
    assert_eq!(
        pings[0].header("content-type"),
        ping_sample[0]["headers"]["Content-Type"]
            .as_str()
            .unwrap_or("")
    );
    assert_eq!(
        pings[0].header("user-agent"),
        ping_sample[0]["headers"]["User-Agent"]
            .as_str()
            .unwrap_or("")
    );
    assert!(
        pings[0]
            .headers
            .keys()
            .all(|k| !k.as_str().starts_with("x-wc-"))
    );

    let (status, created) =
        send_json(&h, "POST", "/wp-json/wc/v3/orders", &[], &order_body()).await;
    assert_eq!(status, 201);
    let path = format!("/wp-json/wc/v3/orders/{}", created["id"]);
    let (status, _) = send_json(&h, "PUT", &path, &[], &json!({"status": "processing"})).await;
    assert_eq!(status, 200);
    let got = eventually(5, "delivery", || r.deliveries().into_iter().next()).await;
    // Still one after the queue had time to run anything else.
    let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
    assert_eq!(
        log.as_array()
            .map(|l| l.iter().filter(|d| d["ping"] == false).count()),
        Some(1),
        "{log}"
    );
    assert_eq!(r.deliveries().len(), 1);
    let want_headers = captured["headers"].as_object().expect("headers");
    for name in want_headers
        .keys()
        .filter(|k| k.starts_with("X-WC-") || *k == "User-Agent" || *k == "Content-Type")
    {
        assert!(
            got.headers.contains_key(name.to_lowercase().as_str()),
            "delivery lacks {name}"
        );
    }
    assert_eq!(
        got.header("user-agent"),
        want_headers["User-Agent"].as_str().unwrap_or("")
    );
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.header("x-wc-webhook-source"),
        format!("{}/", h.base_url())
    );
    assert_eq!(got.header("x-wc-webhook-topic"), "order.updated");
    assert_eq!(got.header("x-wc-webhook-id"), id.to_string());
    assert_eq!(got.header("x-wc-webhook-delivery-id").len(), 32);
    let payload: Value = serde_json::from_slice(&got.body).expect("json body");
    let want_payload: Value = serde_json::from_str(body).expect("sample body");
    assert_shape("delivery payload", &want_payload, &payload);
    assert_eq!(payload["id"], created["id"]);
    assert_eq!(payload["status"], "processing");
    // wp_json_encode escaping.
    let raw = String::from_utf8_lossy(&got.body);
    assert!(
        raw.contains("http:\\/\\/") && raw.contains("Mu\\u00f1oz"),
        "{raw}"
    );
    h.shutdown().await;
}
