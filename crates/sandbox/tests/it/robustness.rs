//! Bad input of every kind gets a JSON answer with the right status, never a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// Every POST endpoint, with a token it accepts.
async fn post_endpoints(app: &TestApp) -> Vec<(&'static str, String)> {
    let login = app.login().await;
    let (_, integration) = app.link().await;
    let admin = app.handle.admin_token().to_owned();
    vec![
        ("/external/tenants/resolve", String::new()),
        ("/external/login", String::new()),
        ("/external/woocommerce/link", login),
        ("/external/woocommerce/orders", integration.clone()),
        ("/external/woocommerce/orders/status", integration.clone()),
        ("/external/woocommerce/uninstall", integration),
        ("/_sandbox/advance", admin.clone()),
        ("/_sandbox/revoke", admin),
    ]
}

async fn raw_post(app: &TestApp, path: &str, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url(path))
        .header("Idempotency-Key", "robust")
        .header("Content-Type", "application/json")
        .body(body);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    parts(request.send().await.expect("sent")).await
}

#[tokio::test]
async fn malformed_json_is_400_everywhere() {
    let app = spawn_app().await;
    for (path, token) in post_endpoints(&app).await {
        let (status, body) = raw_post(&app, path, &token, b"{\"code\": ".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("Malformed JSON: "), "{path}: {message}");
    }
    let response = app
        .client
        .put(app.url("/_sandbox/faults"))
        .bearer_auth(app.handle.admin_token())
        .body("nope")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_shapes_are_422_everywhere() {
    let app = spawn_app().await;
    for (path, token) in post_endpoints(&app).await {
        for body in [
            json!([1, 2]),
            json!("text"),
            json!({"steps": [], "order_ids": {}, "email": [], "customer_id": []}),
        ] {
            let (status, answer) =
                raw_post(&app, path, &token, body.to_string().into_bytes()).await;
            if path == "/_sandbox/revoke" && !body.is_object() {
                // Revoke has no required field: a body without fields revokes everything.
                assert_eq!(status, StatusCode::OK, "{path} {body}");
                continue;
            }
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {body}: {answer}"
            );
            assert!(!error_keys(&answer).is_empty(), "{path} {body}: {answer}");
        }
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let big = format!("{{\"code\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    for (path, token) in post_endpoints(&app).await {
        let (status, body) = raw_post(&app, path, &token, big.clone().into_bytes()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_json() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/external/nothing",
        "/api/external/login",
        "/_sandbox/nothing",
    ] {
        let (status, body) = app.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body["message"].is_string());
    }
    let (status, body) = app.get("/external/login", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["message"].is_string());
    let (status, body) = app.post("/external/stores", None, &json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["message"].is_string());
    let response = app
        .client
        .delete(app.url("/_sandbox/orders"))
        .send()
        .await
        .expect("sent");
    let (status, _) = parts(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bodies_without_content_type_are_read_as_json() {
    let app = spawn_app().await;
    let body = json!({"code": "DEMO", "platform": "woocommerce", "deviceId": device_id()});
    let response = app
        .client
        .post(app.url("/external/tenants/resolve"))
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    let (status, answer) = parts(response).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["tenant"]["code"], "DEMO");
}

#[tokio::test]
async fn every_answer_is_json_with_a_json_content_type() {
    let app = spawn_app().await;
    for path in ["/external/stores", "/nowhere"] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
    }
}
