//! Tenant resolution, login, stores and linking.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sandbox::Fixtures;
use serde_json::json;

use crate::helpers::*;

fn resolve_body(code: &str) -> serde_json::Value {
    json!({"code": code, "platform": "woocommerce", "deviceId": device_id()})
}

#[tokio::test]
async fn resolve_active_tenant_without_api_url_omits_the_key() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/external/tenants/resolve", None, &resolve_body("DEMO"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"tenant": {"code": "DEMO", "name": "Courier Demo", "active": true}})
    );
}

#[tokio::test]
async fn resolve_returns_api_url_when_the_fixture_has_one() {
    let fixtures = Fixtures::from_toml(
        "[[tenants]]\ncode = \"NORTE\"\nname = \"Courier Norte\"\nactive = true\napi_url = \"https://norte.example/api\"\n",
    )
    .expect("fixtures parse");
    let app = spawn_with(|c| c.fixtures = fixtures).await;
    let (status, body) = app
        .post("/external/tenants/resolve", None, &resolve_body("NORTE"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["api_url"], "https://norte.example/api");
    assert_eq!(body["tenant"]["code"], "NORTE");
}

#[tokio::test]
async fn resolve_unknown_inactive_and_wrong_case() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/external/tenants/resolve", None, &resolve_body("NOPE"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());
    let (status, _) = app
        .post("/external/tenants/resolve", None, &resolve_body("demo"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "codes are case-sensitive");
    let (status, body) = app
        .post("/external/tenants/resolve", None, &resolve_body("OLD"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn resolve_validation_errors_are_keyed_by_field() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/external/tenants/resolve", None, &json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&body), ["code", "deviceId", "platform"]);
    assert_eq!(body["errors"]["code"][0], "The code field is required.");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("The code field is required.")
    );

    let cases = [
        (
            json!({"code": 5, "platform": "woocommerce", "deviceId": device_id()}),
            "code",
        ),
        (
            json!({"code": "", "platform": "woocommerce", "deviceId": device_id()}),
            "code",
        ),
        (
            json!({"code": "DEMO", "platform": "shopify", "deviceId": device_id()}),
            "platform",
        ),
        (
            json!({"code": "DEMO", "platform": "woocommerce", "deviceId": device_id().to_uppercase()}),
            "deviceId",
        ),
        (
            json!({"code": "DEMO", "platform": "woocommerce", "deviceId": "abc"}),
            "deviceId",
        ),
        (
            json!({"code": "DEMO", "platform": "woocommerce", "deviceId": format!("{}0", device_id())}),
            "deviceId",
        ),
    ];
    for (request, field) in cases {
        let (status, body) = app.post("/external/tenants/resolve", None, &request).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{request}");
        assert_eq!(error_keys(&body), [field], "{request}: {body}");
    }
}

#[tokio::test]
async fn login_succeeds_with_and_without_code() {
    let app = spawn_app().await;
    for request in [
        json!({"email": EMAIL, "password": PASSWORD}),
        json!({"email": "Demo@TrackingTech.test", "password": PASSWORD, "code": "DEMO"}),
    ] {
        let (status, body) = app.post("/external/login", None, &request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["token"].as_str().is_some_and(|t| t.len() >= 20));
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["user"]["email"], EMAIL);
        assert_eq!(body["user"]["name"], "Demo Merchant");
        assert!(body["user"]["id"].is_u64());
    }
}

#[tokio::test]
async fn login_with_bad_code_credentials_or_fields() {
    let app = spawn_app().await;
    let (status, _) = app
        .post(
            "/external/login",
            None,
            &json!({"email": EMAIL, "password": PASSWORD, "code": "OLD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .post(
            "/external/login",
            None,
            &json!({"email": EMAIL, "password": PASSWORD, "code": "NOPE"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            "/external/login",
            None,
            &json!({"email": EMAIL, "password": "wrong"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"message": "Invalid credentials."}));
    let (status, body) = app
        .post(
            "/external/login",
            None,
            &json!({"email": "nobody@x.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Invalid credentials.");
    let (status, body) = app
        .post(
            "/external/login",
            None,
            &json!({"email": 1, "password": null}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&body), ["email", "password"]);
}

#[tokio::test]
async fn login_is_throttled_after_failed_attempts_with_retry_after() {
    let app = spawn_app().await;
    for _ in 0..5 {
        // The email's case does not matter for counting.
        let (status, _) = app
            .post(
                "/external/login",
                None,
                &json!({"email": "DEMO@trackingtech.test", "password": "bad"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app
        .client
        .post(app.url("/external/login"))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("numeric Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (_, body) = parts(response).await;
    assert!(body["message"].is_string());

    // Another email is not affected.
    let (status, _) = app
        .post(
            "/external/login",
            None,
            &json!({"email": "x@y.test", "password": "bad"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_tokens_expire() {
    let app = spawn_with(|c| c.token_ttl = Duration::from_secs(1)).await;
    let (status, body) = app
        .post(
            "/external/login",
            None,
            &json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 1);
    let token = body["token"].as_str().expect("token").to_owned();
    let (status, _) = app.get("/external/stores", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "fresh token works");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = app.get("/external/stores", Some(&token)).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(body, json!({"message": "Unauthenticated."}));
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(Instant::now() < deadline, "token never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn stores_paginate() {
    let app = spawn_app().await;
    let token = app.login().await;
    let (status, body) = app.get("/external/stores", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["current_page"], 1);
    assert_eq!(body["per_page"], 15);
    assert_eq!(body["last_page"], 1);
    assert_eq!(body["total"], 2);
    assert_eq!(
        body["data"][0],
        json!({"id": 101, "name": "Bodega Central", "address": "Av. Providencia 1234, Providencia"})
    );

    let (status, body) = app
        .get("/external/stores?page=2&per_page=1", Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["data"][0]["id"], 102);
    assert_eq!(body["last_page"], 2);
    assert_eq!(body["current_page"], 2);

    let (_, body) = app
        .get("/external/stores?page=3&per_page=1", Some(&token))
        .await;
    assert_eq!(body["data"], json!([]));
}

#[tokio::test]
async fn stores_reject_bad_paging_and_tokens() {
    let app = spawn_app().await;
    let token = app.login().await;
    for query in ["per_page=0", "per_page=101", "per_page=abc"] {
        let (status, body) = app
            .get(&format!("/external/stores?{query}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(error_keys(&body), ["per_page"]);
    }
    let (status, body) = app.get("/external/stores?page=0", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&body), ["page"]);

    let (_, integration) = app.link().await;
    for bad in [None, Some("garbage"), Some(integration.as_str())] {
        let (status, body) = app.get("/external/stores", bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(body, json!({"message": "Unauthenticated."}));
    }
}

#[tokio::test]
async fn link_is_stable_per_store_url_and_issues_new_tokens() {
    let app = spawn_app().await;
    let (customer, first_token) = app.link().await;
    assert!(
        customer.starts_with("cus_") && customer.len() == 20,
        "{customer}"
    );
    assert!(
        customer[4..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );

    // Same store, written with a trailing slash: same customer, new token, old token still valid.
    let (again, second_token) = app.link_url(&format!("{STORE_URL}/")).await;
    assert_eq!(again, customer);
    assert_ne!(second_token, first_token);
    for token in [&first_token, &second_token] {
        let (status, _) = app.statuses(token, &[1]).await;
        assert_eq!(status, StatusCode::OK);
    }

    let (other, _) = app.link_url("https://otra-tienda.example").await;
    assert_ne!(other, customer);
}

#[tokio::test]
async fn link_rejects_bad_fields_unknown_store_and_wrong_tokens() {
    let app = spawn_app().await;
    let token = app.login().await;
    let (status, body) = app
        .post(
            "/external/woocommerce/link",
            Some(&token),
            &json!({"store_id": "101", "store_url": "ftp://x.example", "deviceId": "XYZ", "platform": "magento"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_keys(&body),
        ["deviceId", "platform", "store_id", "store_url"]
    );

    let (status, body) = app
        .post(
            "/external/woocommerce/link",
            Some(&token),
            &json!({"store_id": 999, "store_url": STORE_URL, "deviceId": device_id(), "platform": "woocommerce"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());

    let (_, integration) = app.link().await;
    let (status, _) = app
        .post(
            "/external/woocommerce/link",
            Some(&integration),
            &json!({"store_id": 101, "store_url": STORE_URL, "deviceId": device_id(), "platform": "woocommerce"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
