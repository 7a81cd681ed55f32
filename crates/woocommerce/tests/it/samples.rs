//! Golden samples captured from a real store (`testdata/woocommerce-samples/` at the workspace root).

use std::path::PathBuf;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use woocommerce::wc_auth::{CallbackBody, ReturnParams, Scope};
use woocommerce::webhook::{self, HeaderError, Incoming, SignatureError};
use woocommerce::{
    OrderNote, OrderStatus, Product, RestIndex, Variation, Webhook, WebhookStatus, WeightUnit,
};

/// The samples folder, part of the repository.
pub fn samples_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/woocommerce-samples"
    ));
    assert!(
        dir.join("README.md").is_file(),
        "the WooCommerce samples are missing: expected them at {} (testdata/ is part of \
         the repository)",
        dir.display()
    );
    dir
}

pub fn sample(name: &str) -> Value {
    let path = samples_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn body<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let v = sample(name);
    serde_json::from_value(v["body"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn header_map(headers: &Value) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in headers.as_object().expect("headers object") {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v.as_str().expect("header value")).expect("header value"),
        );
    }
    map
}

fn delivery() -> (HeaderMap, Vec<u8>) {
    let v = sample("webhook-deliveries-create-then-processing.json");
    let d = &v[0];
    (
        header_map(&d["headers"]),
        d["body"].as_str().expect("body").as_bytes().to_vec(),
    )
}

/// Every file in the folder is covered by a case here, so a new sample cannot go unchecked.
#[test]
fn every_sample_parses_with_the_crate_types() {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .expect("samples dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 18, "only {} samples found", names.len());
    for name in &names {
        match name.as_str() {
            "rest-index-namespaces.json" => {
                let index: RestIndex = serde_json::from_value(sample(name)).expect(name);
                assert!(index.has_namespace("wc/v3"));
                assert!(!index.has_namespace(RestIndex::SHIPMENT_TRACKING));
            }
            n if n.starts_with("error-") => {
                // Served through the client in `scripted::sample_errors_become_typed_errors`.
                let v = sample(n);
                assert!(v["status"].as_u64().is_some_and(|s| s >= 400), "{n}");
                assert!(v["body"]["code"].is_string(), "{n}");
            }
            "order-create-response.json" | "order-get.json" => {
                let o: woocommerce::Order = body(name);
                assert_eq!(o.id, 105);
                assert_eq!(o.line_items.len(), 3);
                assert_eq!(o.line_items[1].variation_id, 104);
                assert_eq!(o.line_items[1].product_id, 102);
                assert_eq!(o.line_items[1].sku.as_deref(), Some("ZAP-1795767997-42"));
                assert_eq!(
                    o.line_items[1].parent_name.as_deref(),
                    Some("Zapatilla urbana")
                );
                assert_eq!(o.line_items[0].quantity, 2);
                assert_eq!(o.total, "63960.00");
                assert_eq!(o.shipping.state, "CL-RM");
                assert_eq!(o.billing.email, "ana@example.cl");
                assert_eq!(o.shipping_lines[0].method_id, "flat_rate");
                assert_eq!(o.customer_note, "Dejar en conserjería");
                assert_eq!(
                    o.date_created_gmt.map(|d| d.unix_timestamp()),
                    Some(1_795_768_002)
                );
                let expected = if name == "order-get.json" {
                    "processing"
                } else {
                    "pending"
                };
                assert_eq!(o.status, expected);
            }
            "order-meta-update-response-meta_data.json" => {
                let meta: Vec<woocommerce::MetaData> =
                    serde_json::from_value(sample(name)["meta_data"].clone()).expect(name);
                assert_eq!(meta.len(), 2);
                assert_eq!(meta[1].key, "_trackingtech_tracking_id");
                assert_eq!(meta[1].value, "LMTCL201225HLSES");
            }
            "order-note-create-response.json" => {
                let note: OrderNote = body(name);
                assert_eq!(note.id, 12);
                assert!(!note.customer_note);
                assert!(note.note.starts_with("TrackingTech:"));
            }
            "order-notes-list.json" => {
                let notes: Vec<OrderNote> = body(name);
                assert_eq!(notes.len(), 2);
                assert_eq!(notes[1].author, "WooCommerce");
            }
            "orders-list-page-headers.json" => {
                let v = sample(name);
                assert_eq!(v["headers"]["X-WP-TotalPages"], "41");
                // Why the client never follows `Link`: it repeats the request's nonce.
                assert!(
                    v["headers"]["Link"]
                        .as_str()
                        .expect("link")
                        .contains("oauth_nonce=")
                );
            }
            "products-include.json" => {
                let products: Vec<Product> = body(name);
                assert_eq!(products.len(), 3);
                assert_eq!(products[0].weight(), Some("0.3"));
                assert_eq!(products[0].dimensions.length, "30");
                assert_eq!(products[1].weight(), None);
                assert_eq!(products[2].kind, "variable");
                assert_eq!(products[2].variations, vec![103, 104]);
                assert!(products.iter().all(|p| !p.is_virtual && !p.downloadable));
            }
            "product-variations.json" => {
                let variations: Vec<Variation> = body(name);
                assert_eq!(variations.len(), 2);
                assert!(
                    variations
                        .iter()
                        .all(|v| v.parent_id == 102 && v.kind == "variation")
                );
                let mut weights: Vec<&str> = variations.iter().filter_map(|v| v.weight()).collect();
                weights.sort();
                assert_eq!(weights, vec!["0.85", "0.9"]);
            }
            "setting-weight-unit.json" => {
                let v = sample(name);
                assert_eq!(
                    WeightUnit::parse(v["body"]["value"].as_str().expect("value")),
                    WeightUnit::Kg
                );
            }
            "wc-auth-callback.json" => {
                let v = sample(name);
                let cb = CallbackBody::parse(v["body"].as_str().expect("body").as_bytes())
                    .expect("callback");
                assert_eq!(cb.key_id, 3);
                assert_eq!(cb.user_id, "merchant-42");
                assert_eq!(cb.key_permissions, Scope::ReadWrite);
                assert!(cb.credentials.consumer_key().starts_with("ck_"));
                let redirect = v["then_browser_redirected_to"].as_str().expect("redirect");
                let query = redirect.split_once('?').expect("query").1;
                assert_eq!(
                    ReturnParams::parse(query),
                    Some(ReturnParams {
                        success: true,
                        user_id: "merchant-42".into()
                    })
                );
            }
            "webhook-create-response.json" | "webhook-get.json" => {
                let w: Webhook = body(name);
                assert_eq!(w.id, 6);
                assert_eq!(w.status, WebhookStatus::active());
                assert_eq!(w.topic, "order.updated");
                assert_eq!(w.delivery_url, "http://127.0.0.1:9099/hook");
                assert!(w.date_created_gmt.is_some());
            }
            "webhook-ping-delivery.json" => {
                let v = sample(name);
                let headers = header_map(&v[0]["headers"]);
                let body = v[0]["body"].as_str().expect("body").as_bytes();
                assert_eq!(
                    webhook::classify(&headers, body),
                    Ok(Incoming::Ping { webhook_id: 6 })
                );
            }
            "webhook-deliveries-create-then-processing.json" => {
                let (headers, body) = delivery();
                let order = webhook::parse_order(&body).expect("order");
                assert_eq!(order.id, 105);
                assert_eq!(order.status, OrderStatus::PROCESSING);
                assert_eq!(order.billing.last_name, "Rojas Muñoz");
                let head = webhook::parse_order_head(&body).expect("head");
                assert_eq!(
                    (head.id, head.number, head.status, head.date_created_gmt),
                    (order.id, order.number, order.status, order.date_created_gmt)
                );
                assert!(head.date_created_gmt.is_some());
                assert!(matches!(
                    webhook::classify(&headers, &body),
                    Ok(Incoming::Delivery(_))
                ));
            }
            other => panic!("no test case for sample {other}: add one"),
        }
    }
}

#[test]
fn real_delivery_signature_verifies_with_the_known_secret() {
    let (headers, body) = delivery();
    let h = webhook::DeliveryHeaders::from_headers(&headers).expect("headers");
    assert_eq!(h.topic, "order.updated");
    assert_eq!(h.resource, "order");
    assert_eq!(h.event, "updated");
    assert_eq!(h.webhook_id, 6);
    assert_eq!(h.source, "http://127.0.0.1:8080/");
    assert_eq!(h.delivery_id, "b078f10e2020f27c4cac93d54cecc9ba");
    assert_eq!(h.verify(b"sampleSecret123", &body), Ok(()));
    assert_eq!(webhook::sign(b"sampleSecret123", &body), h.signature);
}

#[test]
fn tampered_body_wrong_secret_and_missing_signature_fail() {
    let (headers, body) = delivery();
    let signature = headers["x-wc-webhook-signature"]
        .to_str()
        .expect("sig")
        .to_owned();

    let tampered = String::from_utf8(body.clone())
        .expect("utf8")
        .replace("63960.00", "1.00");
    assert_ne!(tampered.as_bytes(), body.as_slice());
    assert_eq!(
        webhook::verify_signature(b"sampleSecret123", tampered.as_bytes(), &signature),
        Err(SignatureError::Mismatch)
    );
    // A re-serialised body differs from WooCommerce's bytes (it escapes `/`), so it fails too.
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<Value>(&body).expect("json")).expect("json");
    assert_eq!(
        webhook::verify_signature(b"sampleSecret123", &reserialised, &signature),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        webhook::verify_signature(b"sampleSecret124", &body, &signature),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        webhook::verify_signature(b"sampleSecret123", &body, ""),
        Err(SignatureError::Missing)
    );

    let mut without = headers.clone();
    without.remove("x-wc-webhook-signature");
    assert_eq!(
        webhook::DeliveryHeaders::from_headers(&without),
        Err(HeaderError::Missing(webhook::HEADER_SIGNATURE))
    );
}
