//! Integration tests for woo-sim: REST, auth, webhooks, wc-auth, admin, golden samples.

mod auth;
mod golden;
mod helpers;
mod rest;
mod wcauth;
mod webhooks;

use helpers::*;

#[tokio::test]
async fn oauth_get_orders_and_products() {
    let h = sim().await;
    let (status, headers, body) = get_json(&h, "/wp-json/wc/v3/orders", &[]).await;
    assert_eq!(status, 200, "{body}");
    let orders = body.as_array().expect("array");
    assert_eq!(orders.len(), 5);
    assert_eq!(headers["x-wp-total"], "5");
    assert!(orders.iter().all(|o| o["status"] != "processing"));
    let (status, _, body) = get_json(
        &h,
        "/wp-json/wc/v3/products",
        &[("include", "11,13,14"), ("per_page", "100")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<u64> = body
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![11, 13, 14]);
    assert_eq!(body[1]["weight"], "");
    h.shutdown().await;
}
