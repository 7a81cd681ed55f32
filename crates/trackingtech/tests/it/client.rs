//! Every endpoint and error path of the client against the sandbox.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use trackingtech::{
    Error, ErrorClass, LoginRequest, OrderPayload, ResolveRequest, Secret, UninstallRequest,
};

use crate::helpers::*;

#[tokio::test]
async fn resolve_accepts_the_active_demo_tenant() {
    let app = spawn_app().await;
    let device = device();
    let resolved = app
        .client
        .resolve(&ResolveRequest::new("DEMO", &device))
        .await
        .expect("resolves");
    assert_eq!(resolved.tenant.code, "DEMO");
    assert!(resolved.tenant.active);
    assert_eq!(resolved.api_url, None);
    assert_eq!(resolved.own_api_url(), None, "the client's own base stays");
}

#[tokio::test]
async fn resolve_switches_to_the_tenants_api_url() {
    let fixtures = sandbox::Fixtures::from_toml(
        r#"
        [[tenants]]
        code = "FAR"
        name = "Courier lejano"
        active = true
        api_url = "http://127.0.0.1:9/tenant-api/"
        "#,
    )
    .expect("fixtures parse");
    let app = spawn_with(sandbox::Config::new(fixtures)).await;
    let device = device();
    let resolved = app
        .client
        .resolve(&ResolveRequest::new("FAR", &device))
        .await
        .expect("resolves");
    assert_eq!(
        resolved.api_url.as_deref(),
        Some("http://127.0.0.1:9/tenant-api/")
    );
    let own = resolved.own_api_url().expect("an api_url");
    let tenant = app.client.with_base_url(own).expect("valid api_url");
    assert_eq!(tenant.base_url(), "http://127.0.0.1:9/tenant-api");
}

#[tokio::test]
async fn resolve_refuses_unknown_inactive_and_malformed_requests() {
    let app = spawn_app().await;
    let device = device();

    let unknown = app
        .client
        .resolve(&ResolveRequest::new("NOPE", &device))
        .await
        .expect_err("unknown");
    assert_eq!(
        (unknown.status(), unknown.class()),
        (Some(404), ErrorClass::Rejected)
    );

    let inactive = app
        .client
        .resolve(&ResolveRequest::new("OLD", &device))
        .await
        .expect_err("inactive");
    assert_eq!(
        (inactive.status(), inactive.class()),
        (Some(409), ErrorClass::Rejected)
    );

    let bad_device = app
        .client
        .resolve(&ResolveRequest::new("DEMO", &device.to_uppercase()))
        .await
        .expect_err("uppercase hex is refused");
    assert_eq!(bad_device.status(), Some(422));
    assert!(
        bad_device
            .field_errors()
            .is_some_and(|e| e.contains_key("deviceId")),
        "{bad_device:?}"
    );

    let short = app
        .client
        .resolve(&ResolveRequest::new("DEMO", "abc123"))
        .await
        .expect_err("short");
    assert_eq!(short.status(), Some(422));

    let platform = ResolveRequest {
        code: "DEMO",
        platform: "shopify",
        device_id: &device,
    };
    let bad_platform = app.client.resolve(&platform).await.expect_err("platform");
    assert_eq!(bad_platform.status(), Some(422));
    assert!(
        bad_platform
            .field_errors()
            .is_some_and(|e| e.contains_key("platform"))
    );
}

#[tokio::test]
async fn login_with_and_without_code_and_with_a_wrong_password() {
    let app = spawn_app().await;
    for code in [None, Some("DEMO")] {
        let login = app
            .client
            .login(&LoginRequest {
                email: EMAIL,
                password: PASSWORD,
                code,
            })
            .await
            .expect("login works");
        assert!(!login.token.expose().is_empty());
        assert_eq!(login.user.email, EMAIL);
        assert!(login.expires_in.is_some_and(|s| s > 0));
    }
    let wrong = app
        .client
        .login(&LoginRequest {
            email: EMAIL,
            password: "nope",
            code: None,
        })
        .await
        .expect_err("wrong password");
    assert_eq!(
        (wrong.status(), wrong.class()),
        (Some(401), ErrorClass::Auth)
    );
    // The password must not leak into what a caller would log.
    assert!(!format!("{wrong} {wrong:?}").contains("nope"));
}

#[tokio::test]
async fn login_is_throttled_after_five_failures_with_retry_after() {
    let app = spawn_app().await;
    let bad = LoginRequest {
        email: EMAIL,
        password: "wrong",
        code: None,
    };
    for attempt in 1..=5 {
        let e = app.client.login(&bad).await.expect_err("wrong password");
        assert_eq!(e.status(), Some(401), "attempt {attempt}");
    }
    // Even the right password is refused while the email is throttled.
    let good = LoginRequest {
        email: EMAIL,
        password: PASSWORD,
        code: None,
    };
    let throttled = app.client.login(&good).await.expect_err("throttled");
    match throttled.class() {
        ErrorClass::Transient {
            retry_after: Some(wait),
        } => {
            assert!(
                wait >= Duration::from_secs(1) && wait <= Duration::from_secs(60),
                "{wait:?}"
            )
        }
        other => panic!("expected a throttle with Retry-After, got {other:?} ({throttled})"),
    }
    assert!(matches!(throttled, Error::Throttled { .. }));
}

#[tokio::test]
async fn expired_login_tokens_are_refused() {
    let mut config = sandbox::Config::new(sandbox::Fixtures::builtin());
    config.token_ttl = Duration::from_secs(1);
    let app = spawn_with(config).await;
    let token = app.login().await;
    assert!(app.client.stores(&token).await.is_ok(), "fresh token works");
    let error = eventually(Duration::from_secs(10), "the token to expire", || async {
        app.client.stores(&token).await.err()
    })
    .await;
    assert_eq!(
        (error.status(), error.class()),
        (Some(401), ErrorClass::Auth)
    );
}

#[tokio::test]
async fn stores_need_a_valid_token() {
    let app = spawn_app().await;
    let token = app.login().await;
    let stores = app.client.stores(&token).await.expect("stores");
    assert_eq!(stores.len(), 2);
    assert!(stores.iter().all(|s| !s.name.is_empty()));
    let e = app
        .client
        .stores(&Secret::new("forged"))
        .await
        .expect_err("forged token");
    assert_eq!(e.class(), ErrorClass::Auth);
}

#[tokio::test]
async fn link_gives_a_stable_customer_id_per_store_url() {
    let app = spawn_app().await;
    let token = app.login().await;
    let stores = app.client.stores(&token).await.expect("stores");
    let device = device();
    let req = trackingtech::LinkRequest::new(&stores[0].id, STORE_URL, &device);
    let first = app.client.link(&token, &req).await.expect("link");
    let again = app.client.link(&token, &req).await.expect("link again");
    assert_eq!(first.customer_id, again.customer_id);
    assert!(!first.integration_token.expose().is_empty());

    let other = trackingtech::LinkRequest::new(&stores[0].id, "https://otra.example.cl", &device);
    let other = app.client.link(&token, &other).await.expect("other store");
    assert_ne!(other.customer_id, first.customer_id);

    let missing = trackingtech::Id::Number(999_999);
    let e = app
        .client
        .link(
            &token,
            &trackingtech::LinkRequest::new(&missing, STORE_URL, &device),
        )
        .await
        .expect_err("unknown store");
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn send_order_is_idempotent_and_a_changed_body_conflicts() {
    let app = spawn_app().await;
    let (customer, token) = app.linked().await;
    let key = format!("{}:1001", device());
    let payload = OrderPayload::new(&order(1001, &customer));

    let first = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect("created");
    assert!(!first.replayed);
    assert_eq!(first.status.as_str(), "created");
    assert!(
        first.tracking_id.starts_with("LMTCL"),
        "{}",
        first.tracking_id
    );

    let replay = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect("replayed");
    assert!(replay.replayed);
    assert_eq!(
        (&replay.id, &replay.tracking_id),
        (&first.id, &first.tracking_id)
    );

    let mut changed = order(1001, &customer);
    changed.products[0].quantity = 3;
    let conflict = app
        .client
        .send_order(&token, &key, &OrderPayload::new(&changed))
        .await
        .expect_err("changed body");
    assert_eq!(
        (conflict.status(), conflict.class()),
        (Some(409), ErrorClass::Rejected)
    );

    let orders = app.admin_get("/_sandbox/orders").await;
    let data = orders["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "one order whatever was replayed: {orders}");
    assert_eq!(data[0]["idempotency_key"], json!(key));
    assert_eq!(data[0]["requests"], json!(3));
    assert_eq!(data[0]["order"], raw_order_json(1001, &customer));
}

#[tokio::test]
async fn a_rejected_order_is_not_remembered_so_a_corrected_resend_is_created() {
    let app = spawn_app().await;
    let (customer, token) = app.linked().await;
    let key = format!("{}:1002", device());
    let mut bad = order(1002, &customer);
    bad.shipping.city.clear();
    bad.products[0].price = "12,990".into();
    let rejected = app
        .client
        .send_order(&token, &key, &OrderPayload::new(&bad))
        .await
        .expect_err("invalid order");
    assert_eq!(rejected.status(), Some(422));
    let fields = rejected.field_errors().cloned().unwrap_or_default();
    assert!(fields.contains_key("shipping.city"), "{fields:?}");
    assert!(fields.contains_key("products.0.price"), "{fields:?}");

    let created = app
        .client
        .send_order(&token, &key, &OrderPayload::new(&order(1002, &customer)))
        .await
        .expect("corrected resend is judged afresh");
    assert!(!created.replayed);
}

#[tokio::test]
async fn order_status_reports_known_orders_and_follows_the_admin() {
    let app = spawn_app().await;
    let (customer, token) = app.linked().await;
    let sent = app
        .client
        .send_order(
            &token,
            &format!("{}:2001", device()),
            &OrderPayload::new(&order(2001, &customer)),
        )
        .await
        .expect("created");

    let statuses = app
        .client
        .order_status(&token, &[2001, 9999])
        .await
        .expect("status");
    assert_eq!(statuses.len(), 1, "unknown ids are left out");
    assert_eq!(statuses[0].order_id, 2001);
    assert_eq!(statuses[0].tracking_id, sent.tracking_id);
    assert_eq!(statuses[0].status.as_str(), "created");
    assert!(
        time::OffsetDateTime::parse(
            &statuses[0].updated_at,
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    assert_eq!(
        app.admin_send(Method::POST, "/_sandbox/advance", json!({"steps": 2}))
            .await,
        200
    );
    let statuses = app
        .client
        .order_status(&token, &[2001])
        .await
        .expect("status");
    assert_eq!(statuses[0].status.as_str(), "in_transit");
    assert_eq!(statuses[0].status_name, "En tránsito");

    let path = format!("/_sandbox/orders/{}/status", sent.id);
    assert_eq!(
        app.admin_send(Method::POST, &path, json!({"status": "lost_in_space"}))
            .await,
        200
    );
    let statuses = app
        .client
        .order_status(&token, &[2001])
        .await
        .expect("status");
    assert_eq!(
        statuses[0].status.as_str(),
        "lost_in_space",
        "unknown statuses are kept"
    );
    assert!(!statuses[0].status.is_final());

    let too_many: Vec<u64> = (1..=101).collect();
    let e = app
        .client
        .order_status(&token, &too_many)
        .await
        .expect_err("over 100 ids");
    assert_eq!(e.status(), Some(422));
}

#[tokio::test]
async fn uninstall_revokes_the_integration_token() {
    let app = spawn_app().await;
    let (customer, token) = app.linked().await;
    app.client
        .uninstall(
            &token,
            &UninstallRequest {
                store_url: STORE_URL,
                customer_id: &customer,
            },
        )
        .await
        .expect("uninstalled");
    let e = app
        .client
        .send_order(
            &token,
            &format!("{}:3001", device()),
            &OrderPayload::new(&order(3001, &customer)),
        )
        .await
        .expect_err("revoked");
    assert_eq!((e.status(), e.class()), (Some(401), ErrorClass::Auth));
}

#[tokio::test]
async fn an_admin_revoke_turns_sends_into_auth_errors() {
    let app = spawn_app().await;
    let (customer, token) = app.linked().await;
    assert_eq!(
        app.admin_send(
            Method::POST,
            "/_sandbox/revoke",
            json!({"customer_id": customer})
        )
        .await,
        200
    );
    let e = app
        .client
        .order_status(&token, &[1])
        .await
        .expect_err("revoked");
    assert_eq!(e.class(), ErrorClass::Auth);
}

#[tokio::test]
async fn each_fault_maps_to_a_transient_error() {
    let app = spawn_app().await;
    let (customer, token) = app.linked().await;
    let payload = OrderPayload::new(&order(4001, &customer));
    let key = format!("{}:4001", device());

    app.set_faults(json!({"error_rate": 1.0})).await;
    let e = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect_err("500");
    assert!(matches!(e, Error::Unavailable { status: 500, .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });

    app.set_faults(json!({"throttle_rate": 1.0, "retry_after_secs": 3}))
        .await;
    let e = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect_err("429");
    assert_eq!(
        e.class(),
        ErrorClass::Transient {
            retry_after: Some(Duration::from_secs(3))
        }
    );

    app.set_faults(json!({"down_for_secs": 30})).await;
    let e = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect_err("down");
    assert_eq!(e.status(), Some(503));
    assert!(
        matches!(e.class(), ErrorClass::Transient { retry_after: Some(d) } if d > Duration::ZERO && d <= Duration::from_secs(30)),
        "{e:?}"
    );

    app.set_faults(json!({"drop_rate": 1.0})).await;
    let e = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect_err("dropped");
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });

    app.set_faults(json!({"latency_ms": 2000})).await;
    let impatient = client_for(&app.sandbox.base_url(), Duration::from_millis(200));
    let e = impatient
        .send_order(&token, &key, &payload)
        .await
        .expect_err("timeout");
    assert!(matches!(&e, Error::Transport(t) if t.is_timeout()), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });

    assert_eq!(
        app.admin_send(Method::DELETE, "/_sandbox/faults", json!({}))
            .await,
        200
    );
    let sent = app
        .client
        .send_order(&token, &key, &payload)
        .await
        .expect("faults cleared");
    assert!(!sent.replayed, "no faulted attempt created anything");
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = client_for(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    let e = client
        .login(&LoginRequest {
            email: EMAIL,
            password: PASSWORD,
            code: None,
        })
        .await
        .expect_err("refused");
    assert!(matches!(&e, Error::Transport(t) if t.is_connect()), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });
}
