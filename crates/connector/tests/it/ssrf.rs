//! Issue 19, item 1: ttwc fetches only public addresses for anyone who types one into the
//! wizard. A listener that counts connections stands in for a service inside the operator's
//! network; with the default settings no spelling of it is ever dialled.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Options, spawn_with};

fn default_guard() -> Options {
    Options {
        allowed_private_nets: Vec::new(),
        ..Options::default()
    }
}

#[tokio::test]
async fn the_wizard_refuses_every_spelling_of_an_internal_address_without_dialling_it() {
    let (port, accepted) = testkit::net::counting_listener().await;
    let mut t = spawn_with(default_guard()).await;
    for store_url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost:{port}"),
        format!("http://2130706433:{port}"),
    ] {
        let (s, v) = t
            .post(
                "/api/wizard/start",
                json!({"store_url": store_url, "code": "DEMO"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{store_url}: {v}");
        assert_eq!(v["field"], "store_url", "{store_url}: {v}");
        let message = v["error"].as_str().unwrap_or_default();
        assert!(
            message.contains("no es la de una tienda pública"),
            "{store_url}: {message}"
        );
        assert!(!message.contains(&port.to_string()), "{message}");
        let (_, state) = t.get_json("/api/wizard").await;
        assert_eq!(state["step"], "start", "nothing changed: {state}");
    }
    assert_eq!(accepted.count(), 0, "no connection was made");
}

#[tokio::test]
async fn an_unknown_courier_code_probes_nothing() {
    let (port, accepted) = testkit::net::counting_listener().await;
    // Even where loopback is allowed, the code is checked before any store is touched.
    let mut t = spawn_with(Options::default()).await;
    let (s, v) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": format!("http://127.0.0.1:{port}"), "code": "NOPE"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "code", "{v}");
    assert_eq!(accepted.count(), 0, "the store was not probed");
}

#[tokio::test]
async fn every_later_store_call_goes_through_the_guard() {
    // The engine, reconcile, write-backs and disconnect all reach stores through
    // `App::woo_client`: a store that resolves to a refused address is not dialled by any.
    let (port, accepted) = testkit::net::counting_listener().await;
    let t = spawn_with(default_guard()).await;
    let keys =
        woocommerce::Credentials::new(t.woo.consumer_key(), t.woo.consumer_secret()).expect("keys");
    for url in [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ] {
        let woo = t.app.woo_client(&url, keys.clone()).expect("a store URL");
        let err = woo.get_order(1).await.expect_err("refused");
        assert!(err.refused().is_some(), "{url}: {err:?}");
        let err = woo
            .update_order_status(1, &woocommerce::OrderStatus::new("completed"))
            .await
            .expect_err("refused");
        assert!(err.refused().is_some(), "{url}: {err:?}");
    }
    assert_eq!(accepted.count(), 0, "no connection was made");
}

#[tokio::test]
async fn a_tenants_own_address_must_be_https_and_public() {
    let (port, accepted) = testkit::net::counting_listener().await;
    let fixtures = sandbox::Fixtures::builtin().with_tenants([
        (
            "PLAIN".to_owned(),
            "Courier sin TLS".to_owned(),
            Some(format!("http://localhost:{port}/api")),
        ),
        (
            "INSIDE".to_owned(),
            "Courier interno".to_owned(),
            Some(format!("https://127.0.0.1:{port}/api")),
        ),
    ]);
    let fixtures = fixtures.expect("fixtures");
    // Loopback is allowed for stores (woo-sim) but a tenant's address must still be https,
    // and `INSIDE`'s is refused by the guard for any network the operator has not allowed.
    let mut t = spawn_with(Options {
        fixtures,
        allowed_private_nets: vec!["::1/128".parse().expect("net")],
        ..Options::default()
    })
    .await;
    for code in ["PLAIN", "INSIDE"] {
        let (s, v) = t
            .post(
                "/api/wizard/start",
                json!({"store_url": t.woo.base_url(), "code": code}),
            )
            .await;
        assert!(s.is_client_error(), "{code}: {s} {v}");
        let (_, state) = t.get_json("/api/wizard").await;
        assert_eq!(state["step"], "start", "{code}: {state}");
    }
    assert_eq!(accepted.count(), 0, "no connection was made");
}
