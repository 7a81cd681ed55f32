//! Sending orders, idempotency, statuses and uninstall.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn is_tracking_id(s: &str) -> bool {
    s.len() == 16
        && s.starts_with("LMTCL")
        && s[5..11].bytes().all(|b| b.is_ascii_digit())
        && s[11..].bytes().all(|b| b.is_ascii_uppercase())
}

/// `2026-11-27T10:15:00-03:00`: whole seconds and a numeric offset.
fn is_rfc3339_with_offset(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 25
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'-'
        && b[22] == b':'
        && (s.ends_with("03:00") || s.ends_with("04:00"))
}

#[tokio::test]
async fn send_creates_an_order() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let (status, body) = app
        .send(&token, "key-1", &order_body(&customer, 1234))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "created");
    assert_eq!(body["status_name"], "Creado");
    assert!(body["id"].is_u64());
    assert!(
        is_tracking_id(body["tracking_id"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(body.as_object().map(|m| m.len()), Some(4));

    let (status, second) = app
        .send(&token, "key-2", &order_body(&customer, 1235))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(second["id"], body["id"], "sandbox ids are unique");
}

#[tokio::test]
async fn send_needs_an_integration_token() {
    let app = spawn_app().await;
    let (customer, _) = app.link().await;
    let login = app.login().await;
    for token in [login.as_str(), "garbage"] {
        let (status, body) = app.send(token, "k", &order_body(&customer, 1)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, json!({"message": "Unauthenticated."}));
    }
    assert!(app.admin_orders().await.is_empty());
}

#[tokio::test]
async fn send_checks_the_idempotency_key() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let body = order_body(&customer, 1);
    let no_key = app
        .client
        .post(app.url("/external/woocommerce/orders"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let (status, answer) = parts(no_key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&answer), ["Idempotency-Key"]);
    for key in ["", &"k".repeat(256), "tab\there"] {
        let (status, answer) = app.send(&token, key, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        assert_eq!(error_keys(&answer), ["Idempotency-Key"]);
    }
    let (status, _) = app.send(&token, &"k".repeat(255), &body).await;
    assert_eq!(status, StatusCode::CREATED, "255 characters is fine");
}

#[tokio::test]
async fn send_validation_errors_are_keyed_laravel_style() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let mut body = order_body(&customer, 1);
    body["extra"] = json!(true);
    body["customer_id"] = json!("cus_someoneelse00000");
    body["products"][0]["quantity"] = json!(0);
    body["products"][0]["price"] = json!("12,50");
    body["products"][0]["colour"] = json!("red");
    body["products"][1]["weight"] = json!("1.5");
    body["shipping"]["city"] = json!("");
    body["shipping"]["fax"] = json!("");
    body["shipping"].as_object_mut().map(|m| m.remove("phone"));
    let (status, answer) = app.send(&token, "k", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_keys(&answer),
        [
            "customer_id",
            "extra",
            "products.0.colour",
            "products.0.price",
            "products.0.quantity",
            "products.1.weight_unit",
            "shipping.city",
            "shipping.fax",
            "shipping.phone",
        ]
    );
    assert_eq!(
        answer["errors"]["shipping.city"][0],
        "The shipping.city field is required."
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("more errors")
    );

    let mut body = order_body(&customer, 0);
    body["products"] = json!([]);
    body["shipping"] = json!("Santiago");
    let (status, answer) = app.send(&token, "k", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&answer), ["order_id", "products", "shipping"]);

    let mut body = order_body(&customer, 1);
    body["products"][0]["weight_unit"] = json!("stone");
    body["products"][1]["weight_unit"] = json!("kg");
    body["order_id"] = json!("1");
    let (status, answer) = app.send(&token, "k", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_keys(&answer),
        [
            "order_id",
            "products.0.weight_unit",
            "products.1.weight_unit"
        ]
    );

    assert!(app.admin_orders().await.is_empty(), "nothing created");
}

#[tokio::test]
async fn same_key_same_body_replays_the_first_answer() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let body = order_body(&customer, 77);
    let (status, first) = app.send(&token, "order-77", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    // Move the order on, so a replay that re-read the order would differ from the first answer.
    app.admin_post("/_sandbox/advance", &json!({"steps": 1}))
        .await;
    let (status, again) = app.send(&token, "order-77", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);
    let orders = app.admin_orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["requests"], 2);
    assert_eq!(orders[0]["idempotency_key"], "order-77");
}

#[tokio::test]
async fn same_key_different_body_conflicts() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let (status, _) = app.send(&token, "k", &order_body(&customer, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = app.send(&token, "k", &order_body(&customer, 2)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        answer,
        json!({"message": "Idempotency-Key already used with a different body."})
    );
    let orders = app.admin_orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["requests"], 2);
}

#[tokio::test]
async fn corrected_resend_after_422_is_judged_afresh() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let mut bad = order_body(&customer, 5);
    bad["shipping"]["country"] = json!("");
    let (status, _) = app.send(&token, "k5", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.send(&token, "k5", &order_body(&customer, 5)).await;
    assert_eq!(status, StatusCode::CREATED);
    let orders = app.admin_orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["requests"], 2);
    assert_eq!(orders[0]["order"], order_body(&customer, 5));
}

#[tokio::test]
async fn idempotency_keys_are_scoped_per_customer() {
    let app = spawn_app().await;
    let (a, token_a) = app.link().await;
    let (b, token_b) = app.link_url("https://otra.example").await;
    let (status, _) = app.send(&token_a, "shared", &order_body(&a, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.send(&token_b, "shared", &order_body(&b, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.admin_orders().await.len(), 2);
}

#[tokio::test]
async fn status_lists_only_own_known_orders() {
    let app = spawn_app().await;
    let (a, token_a) = app.link().await;
    let (b, token_b) = app.link_url("https://otra.example").await;
    let (_, created) = app.send(&token_a, "k1", &order_body(&a, 10)).await;
    app.send(&token_b, "k2", &order_body(&b, 11)).await;
    let (status, body) = app.statuses(&token_a, &[10, 11, 12, 10]).await;
    assert_eq!(status, StatusCode::OK);
    let data = body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(data[0]["order_id"], 10);
    assert_eq!(data[0]["tracking_id"], created["tracking_id"]);
    assert_eq!(data[0]["status"], "created");
    assert_eq!(data[0]["status_name"], "Creado");
    let updated_at = data[0]["updated_at"].as_str().unwrap_or_default();
    assert!(is_rfc3339_with_offset(updated_at), "{updated_at}");
}

#[tokio::test]
async fn status_rejects_bad_id_lists() {
    let app = spawn_app().await;
    let (_, token) = app.link().await;
    let too_many: Vec<u64> = (1..=101).collect();
    let cases = [
        (json!({}), "order_ids"),
        (json!({"order_ids": []}), "order_ids"),
        (json!({"order_ids": too_many}), "order_ids"),
        (json!({"order_ids": "1,2"}), "order_ids"),
        (json!({"order_ids": [1, "2"]}), "order_ids.1"),
    ];
    for (request, key) in cases {
        let (status, body) = app
            .post(
                "/external/woocommerce/orders/status",
                Some(&token),
                &request,
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{request}");
        assert_eq!(error_keys(&body), [key]);
    }
    let hundred: Vec<u64> = (1..=100).collect();
    let (status, _) = app.statuses(&token, &hundred).await;
    assert_eq!(status, StatusCode::OK);
    let login = app.login().await;
    let (status, _) = app.statuses(&login, &[1]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn statuses_follow_the_schedule() {
    let app = spawn_with(|c| c.advance_every = Some(Duration::from_millis(300))).await;
    let (customer, token) = app.link().await;
    app.send(&token, "k", &order_body(&customer, 1)).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = vec![];
    loop {
        let (_, body) = app.statuses(&token, &[1]).await;
        let status = body["data"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "delivered" {
            assert_eq!(body["data"][0]["status_name"], "Entregado");
            break;
        }
        assert!(Instant::now() < deadline, "never delivered; saw {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every step is in order (some may be skipped between two polls).
    let order = [
        "created",
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ];
    let positions: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("known status"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
}

#[tokio::test]
async fn uninstall_revokes_every_token_of_the_customer() {
    let app = spawn_app().await;
    let (customer, first) = app.link().await;
    let (_, second) = app.link().await;
    let (other_customer, other) = app.link_url("https://otra.example").await;

    let (status, body) = app
        .post(
            "/external/woocommerce/uninstall",
            Some(&first),
            &json!({"store_url": STORE_URL, "customer_id": other_customer}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&body), ["customer_id"]);
    let (status, body) = app
        .post(
            "/external/woocommerce/uninstall",
            Some(&first),
            &json!({"store_url": "https://wrong.example", "customer_id": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&body), ["store_url"]);

    let (status, body) = app
        .post(
            "/external/woocommerce/uninstall",
            Some(&first),
            &json!({"store_url": STORE_URL, "customer_id": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"uninstalled": true}));
    for token in [&first, &second] {
        let (status, body) = app.send(token, "k", &order_body(&customer, 1)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["message"], "Unauthenticated.");
    }
    let (status, _) = app.statuses(&other, &[1]).await;
    assert_eq!(status, StatusCode::OK, "another customer's token survives");

    // Linking again gives the same customer a working token.
    let (again, fresh) = app.link().await;
    assert_eq!(again, customer);
    let (status, _) = app.statuses(&fresh, &[1]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn admin_orders_show_the_body_as_received() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let body = order_body(&customer, 42);
    let (_, created) = app.send(&token, "k42", &body).await;
    let orders = app.admin_orders().await;
    let expected: Value = json!({
        "id": created["id"],
        "tracking_id": created["tracking_id"],
        "status": "created",
        "status_name": "Creado",
        "customer_id": customer,
        "idempotency_key": "k42",
        "requests": 1,
        "order": body,
    });
    assert_eq!(orders, [expected]);
}

#[tokio::test]
async fn concurrent_sends_with_one_key_create_one_order() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let body = order_body(&customer, 8);
    let pending: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(
                app.client
                    .post(app.url("/external/woocommerce/orders"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", "race")
                    .json(&body)
                    .send(),
            )
        })
        .collect();
    let mut statuses = vec![];
    for task in pending {
        let response = task.await.expect("task").expect("sent");
        statuses.push(response.status());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        7,
        "{statuses:?}"
    );
    let orders = app.admin_orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["requests"], 8);
}

/// Polls the status of WooCommerce order `id` until it is no longer `created`.
async fn wait_until_moved(app: &TestApp, token: &str, id: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = app.statuses(token, &[id]).await;
        if body["data"][0]["status"] != "created" {
            return body["data"][0].clone();
        }
        assert!(Instant::now() < deadline, "order {id} never moved: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_status_answers_the_latest_order_of_an_id_and_a_new_order_moves_on_its_own() {
    let app = spawn_with(|c| c.advance_every = Some(Duration::from_millis(300))).await;
    let (customer, token) = app.link().await;
    let (_, first) = app
        .send(&token, "device-a:7", &order_body(&customer, 7))
        .await;
    wait_until_moved(&app, &token, 7).await;

    // The same WooCommerce order sent again under another key (another device) is a new
    // sandbox order, and statuses answer for the newest.
    let (status, second) = app
        .send(&token, "device-b:7", &order_body(&customer, 7))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(first["tracking_id"], second["tracking_id"]);
    let (_, body) = app.statuses(&token, &[7]).await;
    assert_eq!(
        body["data"][0]["tracking_id"], second["tracking_id"],
        "{body}"
    );
    assert_eq!(body["data"][0]["status"], "created", "{body}");
    let moved = wait_until_moved(&app, &token, 7).await;
    assert_eq!(moved["tracking_id"], second["tracking_id"]);
}
