//! Issue 18, item 5: a store address spelled otherwise, a broken certificate and refused keys
//! each get an error that says what to do, not "could not reach" or "refused the keys".

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn start(t: &mut TestApp, store_url: &str) -> (StatusCode, Value) {
    t.post(
        "/api/wizard/start",
        json!({"store_url": store_url, "code": "demo"}),
    )
    .await
}

/// The step is refused with the store's own address, TrackingTech asked nothing but the courier
/// code (which is checked before any store is touched), and the wizard does not move on.
async fn assert_told_to_use(t: &mut TestApp, given: &str, home: &str) {
    let asked_before = t.sandbox_paths().await;
    let (s, v) = start(t, given).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{given}: {v}");
    assert_eq!(v["field"], "store_url", "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("Tu tienda se llama a sí misma {home}.")),
        "{given}: {error}"
    );
    let asked = t.sandbox_paths().await;
    assert_eq!(
        asked[asked_before.len()..],
        [trackingtech::contract::PATH_RESOLVE.to_owned()],
        "{given}"
    );
    let (_, view) = t.get_json("/api/wizard").await;
    assert_eq!(view["step"], "start", "{view}");
}

#[tokio::test]
async fn another_spelling_of_the_store_address_is_answered_with_the_stores_own() {
    let mut t = spawn_app().await;
    let home = t.woo.base_url();
    let port = t.woo.addr().port();
    for given in [
        format!("http://localhost:{port}"),
        format!("{home}/wp-admin/"),
        format!("https://127.0.0.1:{port}"),
    ] {
        assert_told_to_use(&mut t, &given, &home).await;
    }
    // The address the store uses goes through.
    let (s, v) = start(&mut t, &home).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn the_http_spelling_of_an_https_store_is_answered_with_https() {
    let mut t = spawn_with(Options {
        woo_tls: true,
        ..Options::default()
    })
    .await;
    let home = t.woo.base_url();
    assert!(home.starts_with("https://"), "{home}");
    let port = t.woo.addr().port();
    assert_told_to_use(&mut t, &format!("http://127.0.0.1:{port}"), &home).await;
    assert_told_to_use(&mut t, &format!("https://localhost:{port}"), &home).await;
    let (s, v) = start(&mut t, &home).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn each_certificate_problem_is_named() {
    for (fault, es, en) in [
        (
            woo_sim::TlsFault::Expired,
            "su certificado HTTPS está vencido",
            "its HTTPS certificate has expired",
        ),
        (
            woo_sim::TlsFault::WrongHost,
            "su certificado HTTPS es de otro nombre de dominio",
            "its HTTPS certificate is for another domain name",
        ),
        (
            woo_sim::TlsFault::UnknownIssuer,
            "su certificado HTTPS lo firmó una autoridad desconocida",
            "its HTTPS certificate is signed by an unknown authority",
        ),
    ] {
        let mut t = spawn_with(Options {
            woo_tls: true,
            woo_tls_fault: Some(fault),
            ..Options::default()
        })
        .await;
        let home = t.woo.base_url();
        let (s, v) = start(&mut t, &home).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{fault:?}: {v}");
        assert_eq!(v["field"], "store_url", "{v}");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(es), "{fault:?}: {error}");
        assert!(!error.contains("No pudimos contactar"), "{error}");
        let csrf = t.csrf.clone();
        let r = t
            .http
            .post(format!("{}/api/wizard/start", t.base))
            .header("x-csrf-token", csrf)
            .header("accept-language", "en")
            .json(&json!({"store_url": home, "code": "demo"}))
            .send()
            .await
            .expect("start");
        let v: Value = r.json().await.expect("json");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(en), "{fault:?}: {error}");
    }
}

async fn paste(t: &mut TestApp, ck: &str, cs: &str) -> (StatusCode, Value) {
    t.post(
        "/api/wizard/keys",
        json!({"consumer_key": ck, "consumer_secret": cs}),
    )
    .await
}

/// Nothing was made in the store nor stored in ttwc.
async fn assert_nothing_made(t: &TestApp) {
    assert!(t.woo_webhooks().await.is_empty());
    assert!(
        t.app
            .store()
            .connections(None)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn an_unknown_key_and_a_signature_that_does_not_match_are_told_apart() {
    let mut t = spawn_app().await;
    t.through_store_step().await;
    let unknown_ck = format!("ck_{}", "a".repeat(40));
    let (s, v) = paste(&mut t, &unknown_ck, &format!("cs_{}", "b".repeat(40))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "consumer_key", "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("WooCommerce no conoce esa clave de cliente"),
        "{error}"
    );

    // The store's own key with a wrong secret: over http WooCommerce sees a bad signature,
    // whose two causes are both named.
    let ck = t.woo.consumer_key().to_owned();
    let (s, v) = paste(&mut t, &ck, &format!("cs_{}", "c".repeat(40))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "consumer_secret", "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("o la clave secreta no es la de esa clave de cliente")
            && error.contains(&format!(
                "o tu tienda no usa la dirección {}",
                t.woo.base_url()
            )),
        "{error}"
    );
    assert_nothing_made(&t).await;
}

#[tokio::test]
async fn over_https_a_wrong_secret_is_named_as_such() {
    let mut t = spawn_with(Options {
        woo_tls: true,
        ..Options::default()
    })
    .await;
    t.through_store_step().await;
    let ck = t.woo.consumer_key().to_owned();
    let (s, v) = paste(&mut t, &ck, &format!("cs_{}", "c".repeat(40))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "consumer_secret", "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(error.contains("la clave secreta no es la suya"), "{error}");
}
