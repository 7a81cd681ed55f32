//! The `/_sandbox/` admin API.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_needs_the_admin_token() {
    let app = spawn_app().await;
    let login = app.login().await;
    for token in [None, Some("wrong"), Some(login.as_str())] {
        for path in [
            "/_sandbox/orders",
            "/_sandbox/requests",
            "/_sandbox/faults",
            "/_sandbox/customers",
        ] {
            let (status, body) = app.get(path, token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            assert!(body["message"].is_string());
        }
        let (status, _) = app
            .post("/_sandbox/advance", token, &json!({"steps": 1}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn requests_log_contract_calls_only_without_query_strings() {
    let app = spawn_app().await;
    let token = app.login().await;
    app.get("/external/stores?page=1", Some(&token)).await;
    app.get("/external/nowhere", None).await;
    app.post("/external/tenants/resolve", None, &json!({}))
        .await;
    app.admin_get("/_sandbox/orders").await;
    let (status, body) = app.admin_get("/_sandbox/requests").await;
    assert_eq!(status, StatusCode::OK);
    let seen: Vec<(String, String)> = body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            assert!(r["time"].as_str().is_some_and(|t| t.len() == 25), "{r}");
            assert!(r["unix_ms"].is_i64(), "{r}");
            assert_eq!(r.as_object().map(|m| m.len()), Some(4));
            (
                r["method"].as_str().unwrap_or_default().to_owned(),
                r["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("POST", "/external/login"),
        ("GET", "/external/stores"),
        ("GET", "/external/nowhere"),
        ("POST", "/external/tenants/resolve"),
    ]
    .map(|(m, p)| (m.to_owned(), p.to_owned()));
    assert_eq!(seen, expected);
}

/// Now, in milliseconds since the Unix epoch, by this test's own clock.
fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).expect("a date in range")
}

#[tokio::test]
async fn each_request_is_logged_to_the_millisecond_and_to_the_second_in_chile_time() {
    let app = spawn_app().await;
    // Several requests, each bracketed by the clock: a time kept only to the second would
    // fall before its bracket unless every request happened on a whole second.
    let mut brackets = Vec::new();
    for _ in 0..3 {
        let before = now_ms();
        app.get("/external/nowhere", None).await;
        brackets.push((before, now_ms()));
    }
    let (status, body) = app.admin_get("/_sandbox/requests").await;
    assert_eq!(status, StatusCode::OK);
    let logged = body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(logged.len(), brackets.len(), "{body}");
    for (r, (before, after)) in logged.iter().zip(brackets) {
        let ms = r["unix_ms"].as_i64().expect("unix_ms");
        assert!(
            (before..=after).contains(&ms),
            "{r}: logged at {ms}, the request ran from {before} to {after}"
        );
        // The same instant, to the second, in the contract's RFC 3339 with Chile's offset.
        let text = r["time"].as_str().expect("time");
        let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("RFC 3339");
        assert_eq!(at.unix_timestamp(), ms.div_euclid(1000), "{r}");
        assert!(text.ends_with("-03:00") || text.ends_with("-04:00"), "{r}");
    }
}

#[tokio::test]
async fn advance_moves_non_final_orders_and_stops_at_delivered() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let (_, first) = app.send(&token, "a", &order_body(&customer, 1)).await;
    let (_, second) = app.send(&token, "b", &order_body(&customer, 2)).await;
    let second_id = second["id"].as_u64().expect("id");
    app.admin_post(
        &format!("/_sandbox/orders/{second_id}/status"),
        &json!({"status": "cancelled"}),
    )
    .await;

    let (status, body) = app
        .admin_post("/_sandbox/advance", &json!({"steps": 2}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"advanced": 1}));
    let (_, statuses) = app.statuses(&token, &[1, 2]).await;
    assert_eq!(statuses["data"][0]["status"], "in_transit");
    assert_eq!(statuses["data"][0]["status_name"], "En tránsito");
    assert_eq!(statuses["data"][1]["status"], "cancelled");

    let (_, body) = app
        .admin_post("/_sandbox/advance", &json!({"steps": 10}))
        .await;
    assert_eq!(body["advanced"], 1);
    let orders = app.admin_orders().await;
    assert_eq!(orders[0]["id"], first["id"]);
    assert_eq!(orders[0]["status"], "delivered");
    let (_, body) = app
        .admin_post("/_sandbox/advance", &json!({"steps": 1}))
        .await;
    assert_eq!(body["advanced"], 0, "nothing left to move");

    for bad in [json!({}), json!({"steps": 0}), json!({"steps": "1"})] {
        let (status, body) = app.admin_post("/_sandbox/advance", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(error_keys(&body), ["steps"]);
    }
}

#[tokio::test]
async fn set_status_accepts_any_string_and_404s_unknown_ids() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    let (_, created) = app.send(&token, "a", &order_body(&customer, 9)).await;
    let id = created["id"].as_u64().expect("id");
    let path = format!("/_sandbox/orders/{id}/status");

    let (status, body) = app.admin_post(&path, &json!({"status": "returned"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["order_id"], 9);
    assert_eq!(body["status"], "returned");
    assert_eq!(body["status_name"], "Devuelto");
    assert_eq!(body["tracking_id"], created["tracking_id"]);
    assert!(body["updated_at"].is_string());
    let (_, body) = app
        .admin_post("/_sandbox/advance", &json!({"steps": 1}))
        .await;
    assert_eq!(body["advanced"], 0, "returned is final");

    let (_, body) = app
        .admin_post(&path, &json!({"status": "en_bodega_aduana"}))
        .await;
    assert_eq!(body["status_name"], "en_bodega_aduana");
    let (_, statuses) = app.statuses(&token, &[9]).await;
    assert_eq!(statuses["data"][0]["status"], "en_bodega_aduana");

    let (status, body) = app.admin_post(&path, &json!({"status": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_keys(&body), ["status"]);
    for unknown in [
        "/_sandbox/orders/1/status",
        "/_sandbox/orders/abc/status",
        "/_sandbox/orders/%FF/status",
    ] {
        let (status, body) = app
            .admin_post(unknown, &json!({"status": "returned"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn revoke_one_customer_or_all() {
    let app = spawn_app().await;
    let (a, a1) = app.link().await;
    let (_, a2) = app.link().await;
    let (_, b1) = app.link_url("https://otra.example").await;

    let (status, body) = app
        .admin_post("/_sandbox/revoke", &json!({"customer_id": a}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"revoked": 2}));
    for token in [&a1, &a2] {
        let (status, _) = app.statuses(token, &[1]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = app.statuses(&b1, &[1]).await;
    assert_eq!(status, StatusCode::OK);

    let (_, a3) = app.link().await;
    let (_, body) = app.admin_post("/_sandbox/revoke", &json!({})).await;
    assert_eq!(body, json!({"revoked": 2}));
    for token in [&a3, &b1] {
        let (status, _) = app.statuses(token, &[1]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    // A body-less POST means "all" too.
    app.link().await;
    let response = app
        .client
        .post(app.url("/_sandbox/revoke"))
        .bearer_auth(app.handle.admin_token())
        .send()
        .await
        .expect("sent");
    let (status, body) = parts(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"revoked": 1}));
}

#[tokio::test]
async fn banner_names_url_token_and_fixtures() {
    let app = spawn_app().await;
    let banner = app.handle.banner();
    assert!(banner.contains(&app.handle.base_url()));
    assert!(banner.contains(app.handle.admin_token()));
    assert!(banner.contains("demo@trackingtech.test / demo1234"));
    assert_eq!(app.handle.admin_token().len(), 32);
    assert!(
        app.handle
            .admin_token()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );
    assert_eq!(
        app.handle.base_url(),
        format!("http://{}", app.handle.addr())
    );
}

#[tokio::test]
async fn customers_show_which_integrations_still_work() {
    let app = spawn_app().await;
    let (customer, token) = app.link().await;
    // Linking the same store again keeps the customer and adds a token.
    let (again, _) = app.link().await;
    assert_eq!(again, customer);
    let (other, _) = app.link_url("https://otra.example").await;
    let tokens = |body: &serde_json::Value, id: &str| {
        body["data"]
            .as_array()
            .and_then(|d| d.iter().find(|c| c["customer_id"] == id))
            .map(|c| c["integration_tokens"].clone())
    };
    let (status, body) = app.admin_get("/_sandbox/customers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(tokens(&body, &customer), Some(json!(2)), "{body}");
    assert_eq!(tokens(&body, &other), Some(json!(1)), "{body}");
    let listed = body["data"]
        .as_array()
        .and_then(|d| d.iter().find(|c| c["customer_id"] == customer.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed["account_email"], EMAIL);
    assert_eq!(listed["store_url"], STORE_URL);
    assert_eq!(listed["store_id"], 101);

    let (status, body) = app
        .post(
            "/external/woocommerce/uninstall",
            Some(&token),
            &json!({"store_url": STORE_URL, "customer_id": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = app.admin_get("/_sandbox/customers").await;
    assert_eq!(
        tokens(&body, &customer),
        Some(json!(0)),
        "uninstalled: {body}"
    );
    assert_eq!(tokens(&body, &other), Some(json!(1)), "untouched: {body}");
}
