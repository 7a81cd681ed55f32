//! Injected faults: latency, errors, throttling, downtime, dropped connections.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

async fn resolve(app: &TestApp) -> reqwest::Response {
    app.client
        .post(app.url("/external/tenants/resolve"))
        .json(&json!({"code": "DEMO", "platform": "woocommerce", "deviceId": device_id()}))
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn faults_can_be_set_read_and_cleared() {
    let app = spawn_app().await;
    let (status, body) = app.admin_get("/_sandbox/faults").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error_rate"], 0.0);
    let (status, body) = app
        .admin_put_faults(&json!({"latency_ms": 5, "error_rate": 0.25}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"latency_ms": 5, "error_rate": 0.25, "throttle_rate": 0.0, "retry_after_secs": 0, "down_for_secs": 0, "drop_rate": 0.0})
    );
    let (_, read) = app.admin_get("/_sandbox/faults").await;
    assert_eq!(read, body);
    let response = app
        .client
        .delete(app.url("/_sandbox/faults"))
        .bearer_auth(app.handle.admin_token())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let (_, read) = app.admin_get("/_sandbox/faults").await;
    assert_eq!(read["latency_ms"], 0);
    assert_eq!(read["error_rate"], 0.0);
}

#[tokio::test]
async fn faults_reject_bad_rates_and_unknown_fields() {
    let app = spawn_app().await;
    for (body, key) in [
        (json!({"error_rate": 1.5}), "error_rate"),
        (json!({"drop_rate": -0.1}), "drop_rate"),
        (json!({"throttle_rate": "0.5"}), "throttle_rate"),
        (json!({"latency_ms": -1}), "latency_ms"),
        (json!({"explode": true}), "explode"),
    ] {
        let (status, answer) = app.admin_put_faults(&body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_keys(&answer), [key]);
    }
    let (_, read) = app.admin_get("/_sandbox/faults").await;
    assert_eq!(read["error_rate"], 0.0, "a refused PUT changes nothing");
}

#[tokio::test]
async fn error_rate_answers_500_and_a_faulted_send_creates_nothing() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    app.admin_put_faults(&json!({"error_rate": 1.0})).await;
    let (status, body) = app.send(&token, "k", &order_body(&customer, 1)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"message": "Server Error"}));
    assert!(app.admin_orders().await.is_empty());
    let (_, log) = app.admin_get("/_sandbox/requests").await;
    let last = log["data"]
        .as_array()
        .and_then(|d| d.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["path"], "/external/woocommerce/orders",
        "faulted requests are logged"
    );

    app.admin_put_faults(&json!({})).await;
    let (status, _) = app.send(&token, "k", &order_body(&customer, 1)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the key was not used up by the faulted send"
    );
}

#[tokio::test]
async fn throttle_rate_answers_429_with_retry_after() {
    let app = spawn_app().await;
    app.admin_put_faults(&json!({"throttle_rate": 1.0, "retry_after_secs": 7}))
        .await;
    let response = resolve(&app).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&response), Some(7));
    let (_, body) = parts(response).await;
    assert!(body["message"].is_string());

    app.admin_put_faults(&json!({"throttle_rate": 1.0})).await;
    let response = resolve(&app).await;
    assert_eq!(retry_after(&response), Some(1), "defaults to one second");
}

#[tokio::test]
async fn down_for_secs_answers_503_until_cleared_but_admin_still_works() {
    let app = spawn_app().await;
    app.admin_put_faults(&json!({"down_for_secs": 30})).await;
    let response = resolve(&app).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let secs = retry_after(&response).expect("Retry-After");
    assert!((1..=30).contains(&secs), "{secs}");
    let (_, body) = parts(response).await;
    assert!(body["message"].is_string());
    let (status, _) = app.admin_get("/_sandbox/orders").await;
    assert_eq!(status, StatusCode::OK);

    app.client
        .delete(app.url("/_sandbox/faults"))
        .bearer_auth(app.handle.admin_token())
        .send()
        .await
        .expect("sent");
    assert_eq!(resolve(&app).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn absurd_fault_values_do_not_break_the_server() {
    let app = spawn_app().await;
    let (status, _) = app
        .admin_put_faults(&json!({"down_for_secs": u64::MAX, "retry_after_secs": u64::MAX}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let response = resolve(&app).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after(&response).is_some_and(|s| s > 1_000_000));
}

#[tokio::test]
async fn down_ends_by_itself() {
    let app = spawn_app().await;
    app.admin_put_faults(&json!({"down_for_secs": 1})).await;
    assert_eq!(
        resolve(&app).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while resolve(&app).await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "still down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn drop_rate_breaks_the_connection() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    app.admin_put_faults(&json!({"drop_rate": 1.0})).await;
    let sent = app
        .client
        .post(app.url("/external/woocommerce/orders"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k")
        .json(&order_body(&customer, 1))
        .send()
        .await;
    let failed = match sent {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the client must see a transport error");
    app.admin_put_faults(&json!({})).await;
    assert!(
        app.admin_orders().await.is_empty(),
        "a dropped send creates nothing"
    );
}

#[tokio::test]
async fn latency_delays_contract_answers() {
    let app = spawn_app().await;
    app.admin_put_faults(&json!({"latency_ms": 400})).await;
    let started = Instant::now();
    assert_eq!(resolve(&app).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));
}
