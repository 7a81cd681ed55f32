//! Every wizard step and its failures, over HTTP, against the sandbox and woo-sim.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn attr_before(html: &str, id: &str, attr: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let head = &html[..at];
    let start = head.rfind(&format!("{attr}=\"")).expect("attribute") + attr.len() + 2;
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].replace("&amp;", "&")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_owned()
}

fn absolute(base: &str, href: &str) -> String {
    if href.starts_with("http") {
        href.to_owned()
    } else {
        format!("{base}{href}")
    }
}

#[tokio::test]
async fn the_wizard_connects_through_wc_auth_and_its_webhook_is_pinged() {
    let mut t = spawn_app().await;
    let view = t.through_store_step().await;
    let authorize = view["authorize_url"]
        .as_str()
        .expect("authorize_url")
        .to_owned();
    assert!(
        authorize.starts_with(&format!("{}/wc-auth/v1/authorize?", t.woo.base_url())),
        "{authorize}"
    );

    // The merchant's browser: WooCommerce's login, then the approval page.
    let woo = t.woo.base_url();
    let r = t.http.get(&authorize).send().await.expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    let login_url = absolute(&woo, &location(&r));
    let html = t
        .http
        .get(&login_url)
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let action = absolute(
        &woo,
        &attr_before(&html, "username", "action").replace("&amp;", "&"),
    );
    let r = t
        .http
        .post(&action)
        .form(&[
            ("username", "admin"),
            ("password", "admin1234"),
            ("login", "Login"),
        ])
        .send()
        .await
        .expect("log in");
    assert!(r.status().is_redirection(), "{}", r.status());
    let html = t
        .http
        .get(absolute(&woo, &location(&r)))
        .send()
        .await
        .expect("approval")
        .text()
        .await
        .expect("html");
    let approve = absolute(&woo, &attr_before(&html, "wc-auth-approve", "href"));
    // Approving makes WooCommerce POST the keys to ttwc's callback, then send the browser back.
    let r = t.http.get(&approve).send().await.expect("approve");
    assert!(
        r.status().is_redirection(),
        "approve answered {}",
        r.status()
    );
    let back = location(&r);
    assert!(
        back.starts_with(&format!("{}/wc-auth/return?", t.base)),
        "{back}"
    );
    let r = t.http.get(&back).send().await.expect("return");
    assert_eq!(location(&r), "/connect?wcauth=ok");

    let (s, v) = t.post("/api/wizard/keys", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let conn = &v["connection"];
    assert_eq!(conn["state"], "connected");
    assert_eq!(conn["store_url"], json!(t.woo.base_url()));
    assert_eq!(conn["tenant_code"], "DEMO");

    // ttwc's webhook exists in the store, points at ttwc, and its ping got a 200.
    let id = conn["id"].as_str().expect("id").to_owned();
    let hooks = t.woo_webhooks().await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["topic"], "order.updated");
    assert_eq!(
        hooks[0]["delivery_url"],
        json!(format!("{}/webhooks/woocommerce/{id}", t.base))
    );
    assert_eq!(
        hooks[0]["pending_delivery"],
        json!(false),
        "the ping inside create was answered 200"
    );
    assert_eq!(hooks[0]["status"], "active");
}

#[tokio::test]
async fn pasted_keys_connect_and_the_dashboard_lists_the_store() {
    let mut t = spawn_app().await;
    let conn = t.connect_with_keys().await;
    assert_eq!(conn["state"], "connected");
    assert_eq!(conn["tt_store_id"], json!(101));
    let (s, list) = t.get_json("/api/connections").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["connections"].as_array().map(Vec::len), Some(1));
    let html = t.get_page("/").await;
    assert!(
        html.contains(&t.woo.base_url()),
        "dashboard shows the store"
    );
    // The link reached TrackingTech once, with this installation's deviceId for the store.
    let requests = t.sandbox_admin("/_sandbox/requests").await;
    let links = requests["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/link")
        .count();
    assert_eq!(links, 1);
    // Secrets are sealed at rest.
    let row = t
        .app
        .store()
        .connection(conn["id"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("row");
    let sealed = row.woo_consumer_secret.expect("sealed secret");
    assert!(!sealed.windows(8).any(|w| {
        t.woo
            .consumer_secret()
            .as_bytes()
            .windows(8)
            .any(|x| x == w)
    }));
}

#[tokio::test]
async fn nothing_reaches_trackingtech_before_the_first_step_is_submitted() {
    let mut t = spawn_app().await;
    t.get_page("/").await;
    t.get_page("/connect").await;
    t.get_page("/?lang=en").await;
    let _ = t.get_json("/api/wizard").await;
    assert_eq!(
        t.sandbox_request_count().await,
        0,
        "pages alone send nothing"
    );
    // A refused first step (bad code) sends nothing either: it is checked before any call.
    let (s, _) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DE MO"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.sandbox_request_count().await, 0);
    let (s, _) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let requests = t.sandbox_admin("/_sandbox/requests").await;
    let paths: Vec<&str> = requests["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    assert_eq!(paths, ["/external/tenants/resolve"]);
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing() {
    let t = spawn_app().await;
    let body = json!({"store_url": t.woo.base_url(), "code": "DEMO"});
    for csrf in [None, Some("forged"), Some("")] {
        let (s, v) = t.post_with("/api/wizard/start", body.clone(), csrf).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{csrf:?}: {v}");
        assert!(v["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, state) = t.get_json("/api/wizard").await;
    assert_eq!(state["step"], "start", "nothing changed");
    assert_eq!(t.sandbox_request_count().await, 0);
    // Without any session at all (another browser), also 403.
    let stranger = reqwest::Client::new();
    let r = stranger
        .post(format!("{}/api/wizard/start", t.base))
        .header("x-csrf-token", &t.csrf)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_first_step_failure_says_why_in_the_merchants_language() {
    let mut t = spawn_app().await;
    let woo = t.woo.base_url();
    let sandbox = t.sandbox.base_url();
    // A port that refuses connections for as long as the test runs: bound (so no other process
    // can take it) but never listening.
    let refuser = tokio::net::TcpSocket::new_v4().expect("socket");
    refuser
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let closed = format!("http://{}", refuser.local_addr().expect("addr"));
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"store_url": "not a url", "code": "DEMO"}),
            "store_url",
            "URL de la tienda no es válida",
        ),
        (
            json!({"store_url": "ftp://tienda.cl", "code": "DEMO"}),
            "store_url",
            "URL de la tienda no es válida",
        ),
        (
            json!({"store_url": sandbox, "code": "DEMO"}),
            "store_url",
            "no parece ser una tienda WooCommerce",
        ),
        (
            json!({"store_url": closed, "code": "DEMO"}),
            "store_url",
            "No pudimos contactar tu tienda",
        ),
        (
            json!({"store_url": woo, "code": "NOPE"}),
            "code",
            "No existe un courier con ese código",
        ),
        (
            json!({"store_url": woo, "code": "old"}),
            "code",
            "no está activo",
        ),
        (
            json!({"store_url": woo, "code": "de mo"}),
            "code",
            "no puede tener espacios",
        ),
        (
            json!({"store_url": woo, "code": "D".repeat(10_000)}),
            "code",
            "demasiado largo",
        ),
    ];
    for (body, field, text) in cases {
        let (s, v) = t.post("/api/wizard/start", body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(text), "{body}: {msg}");
        let (_, state) = t.get_json("/api/wizard").await;
        assert_eq!(
            state["step"], "start",
            "a failed step leaves nothing behind"
        );
    }
    // The same failure in English.
    let r = t
        .http
        .post(format!("{}/api/wizard/start", t.base))
        .header("x-csrf-token", &t.csrf)
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({"store_url": t.woo.base_url(), "code": "NOPE"}))
        .send()
        .await
        .expect("post");
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("No courier has that code"),
        "{v}"
    );
}

#[tokio::test]
async fn a_redirecting_store_url_is_named_in_the_error() {
    use axum::response::Redirect;
    let app = axum::Router::new()
        .fallback(|| async { Redirect::permanent("https://www.tienda.example/") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut t = spawn_app().await;
    let (s, v) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": format!("http://{addr}"), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("https://www.tienda.example"),
        "{v}"
    );
}

#[tokio::test]
async fn a_store_that_answers_too_slowly_is_reported_unreachable() {
    let app = axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "late"
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut t = spawn_app().await;
    let (s, v) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": format!("http://{addr}"), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("No pudimos contactar tu tienda"),
        "{v}"
    );
    assert_eq!(
        t.sandbox_paths().await,
        [trackingtech::contract::PATH_RESOLVE.to_owned()],
        "only the courier code was checked, before the store was probed"
    );
}

#[tokio::test]
async fn wrong_password_then_too_many_attempts() {
    let mut t = spawn_app().await;
    let (s, _) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = t
        .post(
            "/api/wizard/login",
            json!({"email": EMAIL, "password": "wrong"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["field"], "password");
    assert!(
        !v.to_string().contains("wrong\""),
        "the password is never echoed back"
    );
    // TrackingTech throttles after 5 failures per minute; ttwc says so.
    let mut last = (StatusCode::OK, Value::Null);
    for _ in 0..5 {
        last = t
            .post(
                "/api/wizard/login",
                json!({"email": EMAIL, "password": "wrong"}),
            )
            .await;
    }
    assert_eq!(last.0, StatusCode::TOO_MANY_REQUESTS, "{}", last.1);
    assert!(
        last.1["error"]
            .as_str()
            .unwrap_or_default()
            .contains("Demasiados intentos")
    );
}

#[tokio::test]
async fn steps_out_of_order_are_refused_with_a_way_back() {
    let mut t = spawn_app().await;
    let (s, v) = t
        .post(
            "/api/wizard/login",
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = t.post("/api/wizard/keys", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = t.post("/api/wizard/store", json!({"store_id": 101})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Half-way, then keys without having chosen a store (the back button): refused.
    let (s, _) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t
        .post(
            "/api/wizard/login",
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = t.post("/api/wizard/store", json!({"store_id": 999})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = t.post("/api/wizard/keys", json!({"consumer_key": t.woo.consumer_key(), "consumer_secret": t.woo.consumer_secret()})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        t.app
            .store()
            .connections(None)
            .await
            .expect("list")
            .is_empty()
    );
    // Malformed JSON is a clear 400.
    let r = t
        .http
        .post(format!("{}/api/wizard/start", t.base))
        .header("x-csrf-token", &t.csrf)
        .header("content-type", "application/json")
        .body("{\"store_url\":")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn posting_the_last_step_twice_makes_one_connection_and_one_webhook() {
    let mut t = spawn_app().await;
    let first = t.connect_with_keys().await;
    let keys =
        json!({"consumer_key": t.woo.consumer_key(), "consumer_secret": t.woo.consumer_secret()});
    let (s, again) = t.post("/api/wizard/keys", keys).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["connection"]["id"], first["id"]);
    assert_eq!(t.woo_webhooks().await.len(), 1);
    assert_eq!(
        t.app.store().connections(None).await.expect("list").len(),
        1
    );
}

#[tokio::test]
async fn wrong_keys_are_refused_and_leave_nothing_behind() {
    let mut t = spawn_app().await;
    t.through_store_step().await;
    let (s, v) = t
        .post(
            "/api/wizard/keys",
            json!({"consumer_key": t.woo.consumer_key(), "consumer_secret": "cs_wrong"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Over http a wrong secret is WooCommerce's "Invalid signature" 401: both of its causes are
    // named, with the address used.
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("WooCommerce rechazó la firma")
            && error.contains("clave secreta")
            && error.contains(&t.woo.base_url()),
        "{v}"
    );
    assert_eq!(v["field"], "consumer_secret", "{v}");
    let (s, v) = t
        .post(
            "/api/wizard/keys",
            json!({"consumer_key": "ck with spaces", "consumer_secret": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(t.woo_webhooks().await.is_empty());
    assert!(
        t.app
            .store()
            .connections(None)
            .await
            .expect("list")
            .is_empty()
    );
    let links = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/link")
        .count();
    assert_eq!(links, 0, "no link before the keys work");
}

#[tokio::test]
async fn reconnecting_a_store_replaces_it_in_place_and_keeps_its_history() {
    let mut t = spawn_app().await;
    let first = t.connect_with_keys().await;
    let (s, _) = t.post("/api/wizard/reset", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    // The same account with keys that still work: connected again at the store step.
    let second = t.reconnect_at_store_step().await;
    assert_eq!(second["id"], first["id"], "same connection, same history");
    let hooks = t.woo_webhooks().await;
    assert_eq!(hooks.len(), 1, "the old webhook was replaced: {hooks:?}");
    let activity = second["activity"].as_array().expect("activity");
    assert!(
        activity.iter().any(|a| a["kind"] == "connected")
            && activity.iter().any(|a| a["kind"] == "reconnected"),
        "{activity:?}"
    );
}

#[tokio::test]
async fn another_users_connection_is_not_found() {
    let fixtures = two_merchants();
    let mut t = spawn_with(Options {
        fixtures,
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await;
    let id = conn["id"].as_str().expect("id").to_owned();

    // A second merchant signs in from another browser.
    t.sign_in_as_other().await;
    let (_, list) = t.get_json("/api/connections").await;
    assert_eq!(
        list["connections"],
        json!([]),
        "sees nothing of the first merchant"
    );
    let (s, _) = t
        .post(
            &format!("/api/connections/{id}/settings"),
            json!({"trigger_status": "completed"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t
        .post(
            &format!("/api/connections/{id}/disconnect"),
            json!({"confirm": true}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let row = t
        .app
        .store()
        .connection(&id)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.trigger_status, "processing");
    assert_eq!(row.state.as_str(), "connected");
}

#[tokio::test]
async fn settings_accept_custom_statuses_and_refuse_nonsense() {
    // A status a plugin registered in the store (ttwc offers only the store's own).
    let mut t = spawn_with(Options {
        woo_seed: woo_sim::Seed::builtin()
            .with_custom_order_status("listo-para-envio", "Listo para envío"),
        ..Options::default()
    })
    .await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (s, v) = t
        .post(
            &format!("/api/connections/{id}/settings"),
            json!({"trigger_status": "wc-listo-para-envio", "mark_completed": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["connection"]["trigger_status"], "listo-para-envio");
    assert_eq!(v["connection"]["mark_completed"], true);
    let (s, v) = t
        .post(
            &format!("/api/connections/{id}/settings"),
            json!({"trigger_status": "<script>"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "trigger_status");
    let row = t
        .app
        .store()
        .connection(&id)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        row.trigger_status, "listo-para-envio",
        "the refused value changed nothing"
    );
}

#[tokio::test]
async fn disconnect_uninstalls_deletes_the_webhook_wipes_secrets_and_keeps_history() {
    let mut t = spawn_app().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (s, _) = t
        .post(&format!("/api/connections/{id}/disconnect"), json!({}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "needs confirmation");
    let hooks = t.woo_webhooks().await;
    assert_eq!(hooks.len(), 1);
    // A delivery made the way WooCommerce makes one is taken while the store is connected:
    // later, the same delivery after the disconnect can only be refused for the disconnect.
    let hook = hooks[0].clone();
    let before = t.sim_orders(1, "processing").await[0];
    let order = t.sim_order(before).await;
    assert_eq!(
        woo_delivery(&t, &id, &hook, &serde_json::to_vec(&order).expect("json")).await,
        StatusCode::OK
    );
    t.settled(&id, 1, Duration::from_secs(30)).await;

    let (s, v) = t
        .post(
            &format!("/api/connections/{id}/disconnect"),
            json!({"confirm": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["report"]["uninstalled"], true);
    assert_eq!(v["report"]["webhook_deleted"], true);
    assert_eq!(v["connection"]["state"], "disconnected");
    assert!(t.woo_webhooks().await.is_empty());
    let uninstalls = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/uninstall")
        .count();
    assert_eq!(uninstalls, 1);
    let row = t
        .app
        .store()
        .connection(&id)
        .await
        .expect("read")
        .expect("row");
    assert!(
        row.integration_token.is_none()
            && row.woo_consumer_key.is_none()
            && row.woo_consumer_secret.is_none()
            && row.webhook_secret.is_none()
    );
    let activity = t.app.store().activity(&id, 50).await.expect("activity");
    assert!(
        activity.iter().any(|a| a.kind == "connected"),
        "history kept"
    );
    // The store's deliveries are now refused as unknown: a delivery made like the one taken
    // before the disconnect (above), signed with the old secret, of an order paid since (the
    // store itself no longer delivers: its webhook is gone), is a 404 and queues nothing.
    let later = t.sim_orders(1, "processing").await[0];
    let order = t.sim_order(later).await;
    let body = serde_json::to_vec(&order).expect("json");
    assert_eq!(
        woo_delivery(&t, &id, &hook, &body).await,
        StatusCode::NOT_FOUND,
        "a delivery for a disconnected store is refused as unknown"
    );
    assert!(
        t.app
            .store()
            .order(&id, i64::try_from(later).expect("id"))
            .await
            .expect("read")
            .is_none(),
        "nothing queued for it"
    );
}

/// A delivery of `body` for `conn` exactly as WooCommerce sends one for `hook` (a webhook as
/// `/_sim/webhooks` lists it, with its secret): every `X-WC-*` header, the Hookshot user agent,
/// the signature over the exact bytes. Returns the status.
async fn woo_delivery(t: &TestApp, conn: &str, hook: &Value, body: &[u8]) -> StatusCode {
    let secret = hook["secret"].as_str().expect("secret");
    let topic = hook["topic"].as_str().expect("topic");
    let (resource, event) = topic.split_once('.').expect("resource.event");
    let url = format!("{}/webhooks/woocommerce/{conn}", t.base);
    assert_eq!(hook["delivery_url"], json!(url), "where the store delivers");
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "WooCommerce/9.2.5 Hookshot (WordPress/7.0)")
        .header("x-wc-webhook-source", format!("{}/", t.woo.base_url()))
        .header("x-wc-webhook-topic", topic)
        .header("x-wc-webhook-resource", resource)
        .header("x-wc-webhook-event", event)
        .header(
            "x-wc-webhook-signature",
            woocommerce::webhook::sign(secret.as_bytes(), body),
        )
        .header("x-wc-webhook-id", hook["id"].to_string())
        .header(
            "x-wc-webhook-delivery-id",
            "0123456789abcdef0123456789abcdef",
        )
        .body(body.to_vec())
        .send()
        .await
        .expect("delivery")
        .status()
}

#[tokio::test]
async fn the_webhook_endpoint_answers_pings_and_refuses_forgeries() {
    let mut t = spawn_app().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let http = reqwest::Client::new();
    let ping = http
        .post(format!(
            "{}/webhooks/woocommerce/con_not_yet_created",
            t.base
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("webhook_id=12")
        .send()
        .await
        .expect("ping");
    assert_eq!(
        ping.status(),
        StatusCode::OK,
        "pings are answered even before the connection exists"
    );
    let forged = |conn: String| {
        http.post(format!("{}/webhooks/woocommerce/{conn}", t.base))
            .header("content-type", "application/json")
            .header("x-wc-webhook-source", "http://127.0.0.1/")
            .header("x-wc-webhook-topic", "order.updated")
            .header("x-wc-webhook-resource", "order")
            .header("x-wc-webhook-event", "updated")
            .header(
                "x-wc-webhook-signature",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            )
            .header("x-wc-webhook-id", "1")
            .header(
                "x-wc-webhook-delivery-id",
                "0123456789abcdef0123456789abcdef",
            )
            .body("{\"id\":1}")
            .send()
    };
    assert_eq!(
        forged(id).await.expect("post").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        forged("con_unknown".into()).await.expect("post").status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_sign_out_works() {
    let mut t = spawn_with(Options {
        session_idle: Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    t.connect_with_keys().await;
    let (s, _) = t.get_json("/api/connections").await;
    assert_eq!(s, StatusCode::OK);
    eventually(Duration::from_secs(10), "the session to expire", || async {
        let (s, _) = t.get_json("/api/connections").await;
        (s == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;

    let mut t = spawn_app().await;
    t.connect_with_keys().await;
    let (s, v) = t.post("/api/session/logout", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = t.get_json("/api/connections").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_returning_merchant_signs_in_and_sees_the_dashboard() {
    let mut t = spawn_app().await;
    let conn = t.connect_with_keys().await;
    t.post("/api/session/logout", json!({})).await;
    t.csrf = t.page_csrf("/").await;
    let (s, v) = t
        .post(
            "/api/session/login",
            json!({"code": "DEMO", "email": EMAIL, "password": "nope"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = t
        .post(
            "/api/session/login",
            json!({"code": " demo ", "email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let html = t.get_page("/").await;
    assert!(
        html.contains(conn["id"].as_str().expect("id")),
        "the dashboard lists the connection"
    );
    assert!(html.contains("Conectada"), "state shown in Spanish");
}

#[tokio::test]
async fn pages_follow_accept_language_and_the_switch() {
    let t = spawn_app().await;
    let html = |lang: Option<&'static str>, path: &'static str| {
        let mut req = t.http.get(format!("{}{path}", t.base));
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        async move { req.send().await.expect("page").text().await.expect("html") }
    };
    let en = html(Some("en-GB,en;q=0.9"), "/connect").await;
    assert!(en.contains("What is sent to TrackingTech, and when") && en.contains("lang=\"en\""));
    assert!(
        en.contains("https://trackingtech.cl/terms.html")
            && en.contains("https://trackingtech.cl/privacy.html")
    );
    let es = html(Some("es-CL"), "/connect").await;
    assert!(es.contains("Qué se envía a TrackingTech y cuándo"));
    // The switch sets a cookie that wins over Accept-Language from then on.
    let switched = html(Some("es-CL"), "/connect?lang=en").await;
    assert!(switched.contains("lang=\"en\""));
    let after = html(Some("es-CL"), "/connect").await;
    assert!(after.contains("lang=\"en\""), "the language cookie sticks");
}
