//! Integration tests for woo-sim: REST, auth, webhooks, wc-auth, admin, golden samples.

mod auth;
mod golden;
mod helpers;
mod products;
mod rest;
mod site;
mod wcauth;
mod webhooks;

use helpers::*;
use serde_json::Value;

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

#[tokio::test]
async fn bind_with_cert_dir_and_seed_file() {
    let dir = std::env::temp_dir().join(format!("woo-sim-test-{}", random_nonce()));
    let seed_path = dir.join("seed.json");
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(&seed_path, include_str!("../../seed/builtin.json")).expect("seed written");
    let seed = woo_sim::Seed::load(&seed_path).expect("seed loads");
    let mut config = woo_sim::Config::new(seed);
    config.tls = true;
    config.cert_dir = Some(dir.clone());
    let h = woo_sim::bind(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("starts");
    assert_eq!(h.cert_pem_path(), Some(dir.join("cert.pem").as_path()));
    assert!(
        std::fs::read_to_string(dir.join("cert.pem"))
            .unwrap_or_default()
            .contains("BEGIN CERTIFICATE")
    );
    assert_eq!(
        h.base_url(),
        format!("https://127.0.0.1:{}", h.addr().port())
    );
    assert!(h.banner().contains("admin / admin1234") && h.banner().contains("cert.pem"));
    let resp = client(&h)
        .get(format!(
            "{}/wp-json/wc/v3/orders?consumer_key={}&consumer_secret={}",
            h.base_url(),
            h.consumer_key(),
            h.consumer_secret()
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap_or_default();
    assert_eq!(body.as_array().map(Vec::len), Some(5));
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
