//! Issue 19, items 3 and 4: sessions (no fixation, no row for a visitor who only looks, the
//! purge, one wc-auth callback per attempt) and throttling (only failures count, per client,
//! per client and email, a slowdown per email across clients, wizard starts), driven over HTTP
//! through a trusted proxy with different `X-Forwarded-For` values.

use std::time::Duration;

use connector::web::session;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A browser whose cookie the test holds, so it can be planted in another browser.
struct Browser {
    http: reqwest::Client,
    cookie: Option<String>,
    csrf: String,
}

/// The value of `ttwc_sid` a response sets, if it sets one.
fn set_sid(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("ttwc_sid="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

fn page_token(html: &str) -> String {
    let marker = "name=\"csrf\" content=\"";
    let start = html.find(marker).expect("page carries a CSRF token") + marker.len();
    let end = html[start..].find('"').expect("token ends") + start;
    html[start..end].to_owned()
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
            csrf: String::new(),
        }
    }

    fn with_cookie(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => req.header("cookie", format!("ttwc_sid={c}")),
            None => req,
        }
    }

    async fn page(&mut self, t: &TestApp, path: &str) -> String {
        let r = self
            .with_cookie(self.http.get(format!("{}{path}", t.base)))
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), StatusCode::OK);
        if let Some(sid) = set_sid(&r) {
            self.cookie = Some(sid);
        }
        let html = r.text().await.expect("html");
        self.csrf = page_token(&html);
        html
    }

    async fn get(&self, t: &TestApp, path: &str) -> (StatusCode, Value) {
        let r = self
            .with_cookie(self.http.get(format!("{}{path}", t.base)))
            .send()
            .await
            .expect("GET");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A JSON action; keeps the new cookie and CSRF token the answer carries.
    async fn post(&mut self, t: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .with_cookie(self.http.post(format!("{}{path}", t.base)))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .expect("action");
        let status = r.status();
        if let Some(sid) = set_sid(&r) {
            self.cookie = Some(sid);
        }
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if let Some(csrf) = v.get("csrf").and_then(Value::as_str) {
            self.csrf = csrf.to_owned();
        }
        (status, v)
    }
}

async fn stored(t: &TestApp, cookie: &str) -> bool {
    t.app
        .store()
        .session(&session::hash(cookie))
        .await
        .expect("read")
        .is_some()
}

/// How many session rows the database holds.
async fn session_rows(t: &TestApp) -> i64 {
    let url = t.app.settings().database_url.clone();
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

#[tokio::test]
async fn issue_19_a_cookie_planted_before_sign_in_is_dead_after() {
    let t = spawn_app().await;
    // The attacker's browser gets a cookie and its CSRF token, then plants both in the
    // victim's browser (a cookie set from a sibling subdomain, say).
    let mut attacker = Browser::new();
    attacker.page(&t, "/").await;
    let planted = attacker.cookie.clone().expect("a cookie");
    let mut victim = Browser {
        cookie: Some(planted.clone()),
        ..Browser::new()
    };
    victim.page(&t, "/").await;
    assert_eq!(victim.cookie.as_deref(), Some(planted.as_str()));

    let (s, v) = victim
        .post(
            &t,
            "/api/session/login",
            json!({"code": "DEMO", "email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let signed_in = victim.cookie.clone().expect("cookie");
    assert_ne!(signed_in, planted, "signing in hands out a new id");
    assert!(v["csrf"].is_string(), "and a new CSRF token: {v}");
    assert_eq!(victim.get(&t, "/api/connections").await.0, StatusCode::OK);
    // The planted cookie is worth nothing: not signed in, nothing stored under it.
    assert_eq!(
        attacker.get(&t, "/api/connections").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(!stored(&t, &planted).await);
    let html = attacker.page(&t, "/").await;
    assert!(
        !html.contains("sign-out"),
        "the attacker's page is not signed in"
    );

    // A stored session planted the same way (the attacker started the wizard with it) dies at
    // the wizard's login.
    let mut attacker = Browser::new();
    attacker.page(&t, "/connect").await;
    let (s, v) = attacker
        .post(
            &t,
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let planted = attacker.cookie.clone().expect("cookie");
    assert!(stored(&t, &planted).await);
    let mut victim = Browser {
        cookie: Some(planted.clone()),
        csrf: attacker.csrf.clone(),
        ..Browser::new()
    };
    let (s, v) = victim
        .post(
            &t,
            "/api/wizard/login",
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["step"], "store", "{v}");
    assert_ne!(victim.cookie.as_deref(), Some(planted.as_str()));
    assert!(!stored(&t, &planted).await, "the old row is gone");
    let (_, state) = attacker.get(&t, "/api/wizard").await;
    assert_eq!(state["step"], "start", "the attacker sees nothing: {state}");
    assert!(state["stores"].as_array().is_none_or(Vec::is_empty));
    // The victim's wizard went on under the new id.
    let (_, state) = victim.get(&t, "/api/wizard").await;
    assert_eq!(state["step"], "store", "{state}");

    // Signing out: the row is deleted, the browser gets another id, the old one is dead.
    let before = victim.cookie.clone().expect("cookie");
    let (s, v) = victim.post(&t, "/api/session/logout", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_ne!(victim.cookie.as_deref(), Some(before.as_str()));
    assert!(!stored(&t, &before).await);
    let stale = Browser {
        cookie: Some(before),
        ..Browser::new()
    };
    assert_eq!(
        stale.get(&t, "/api/connections").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn issue_19_visitors_who_only_look_write_no_session_row() {
    let t = spawn_app().await;
    // spawn_app's own client has looked at /connect.
    assert_eq!(session_rows(&t).await, 0);
    for _ in 0..50 {
        let mut b = Browser::new();
        b.page(&t, "/").await;
    }
    let mut b = Browser::new();
    for path in ["/", "/connect", "/connect?lang=en"] {
        b.page(&t, path).await;
    }
    let (s, v) = b.get(&t, "/api/wizard").await;
    assert_eq!((s, v["step"].as_str()), (StatusCode::OK, Some("start")));
    assert_eq!(session_rows(&t).await, 0, "looking costs no row");

    // A visitor's first action stores the session, under an id of its own (not the cookie
    // the page handed out), and the answer carries it and its CSRF token.
    let looked = b.cookie.clone().expect("cookie");
    let (s, v) = b
        .post(
            &t,
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["csrf"].is_string(), "{v}");
    assert_ne!(b.cookie.as_deref(), Some(looked.as_str()));
    assert_eq!(session_rows(&t).await, 1);
    let (_, state) = b.get(&t, "/api/wizard").await;
    assert_eq!(state["step"], "login", "{state}");
    // Resetting the wizard as a visitor stores nothing either.
    let mut other = Browser::new();
    other.page(&t, "/connect").await;
    let (s, _) = other.post(&t, "/api/wizard/reset", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(session_rows(&t).await, 1);
    // A forged CSRF token for a visitor is refused like any other.
    other.csrf = "forged".into();
    let (s, _) = other
        .post(
            &t,
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "DEMO"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(session_rows(&t).await, 1);
}

#[tokio::test]
async fn issue_19_idle_sessions_and_old_grants_are_purged_on_a_schedule() {
    let t = spawn_with(Options {
        purge_interval: Some(Duration::from_millis(100)),
        ..Options::default()
    })
    .await;
    let store = t.app.store();
    let now = connector::store::now();
    let row = |id: &str, last_seen: time::OffsetDateTime| connector::store::SessionRow {
        id_hash: id.into(),
        csrf_token: "c".into(),
        created_at: last_seen,
        last_seen_at: last_seen,
        owner: None,
        user_json: None,
        tt_token: None,
        wizard: None,
    };
    store
        .insert_session(&row("idle", now - time::Duration::hours(3)))
        .await
        .expect("insert");
    store
        .insert_session(&row("fresh", now))
        .await
        .expect("insert");
    assert!(store.put_granted_keys("new", &[1]).await.expect("put"));
    // A grant from two hours ago, as an abandoned wc-auth attempt leaves it.
    let pool = sqlx::SqlitePool::connect(&t.app.settings().database_url)
        .await
        .expect("open");
    sqlx::query(
        "INSERT INTO granted_keys (grant_hash, sealed, created_at) \
         VALUES ('old', x'01', '2000-01-01T00:00:00.000000000Z')",
    )
    .execute(&pool)
    .await
    .expect("insert");
    eventually(Duration::from_secs(10), "the purge", || async {
        let idle = store.session("idle").await.expect("read");
        let old: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM granted_keys WHERE grant_hash = 'old'")
                .fetch_one(&pool)
                .await
                .expect("count");
        (idle.is_none() && old == 0).then_some(())
    })
    .await;
    pool.close().await;
    assert!(store.session("fresh").await.expect("read").is_some());
    assert_eq!(
        store
            .take_granted_keys("new", now - time::Duration::minutes(1))
            .await
            .expect("take"),
        Some(vec![1]),
        "a fresh grant stays"
    );
}

#[tokio::test]
async fn issue_19_a_second_wc_auth_callback_is_refused_and_changes_nothing() {
    let mut t = spawn_app().await;
    let view = t.through_store_step().await;
    let authorize = view["authorize_url"].as_str().expect("url").to_owned();
    let user_id = url::Url::parse(&authorize)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "user_id")
        .map(|(_, v)| v.into_owned())
        .expect("user_id");
    t.approve_in_woocommerce(&authorize).await;

    let base = t.base.clone();
    let callback = |user_id: &str| {
        let body = json!({
            "key_id": 999,
            "user_id": user_id,
            "consumer_key": format!("ck_{}", "1".repeat(40)),
            "consumer_secret": format!("cs_{}", "2".repeat(40)),
            "key_permissions": "read_write",
        });
        let url = format!("{base}/wc-auth/callback");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("callback")
                .status()
        }
    };
    // Someone else's keys for the same attempt: refused; the first delivery stays.
    assert_eq!(callback(&user_id).await, StatusCode::CONFLICT);
    let (s, v) = t.post("/api/wizard/keys", json!({})).await;
    assert_eq!(s, StatusCode::OK, "the store's own keys connect: {v}");
    assert_eq!(v["step"], "done", "{v}");
    let conn = t
        .app
        .store()
        .connection(v["connection"]["id"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("row");
    let keys = connector::connection::Secrets::open(&t.app, &conn)
        .woo
        .expect("keys");
    assert_ne!(keys.consumer_key(), format!("ck_{}", "1".repeat(40)));
    assert!(
        t.woo_keys().await.iter().any(|k| k["truncated_key"]
            .as_str()
            .is_some_and(|end| keys.consumer_key().ends_with(end))),
        "the connection holds the key the store made"
    );
    // Once taken, the attempt still refuses keys; an id ttwc never issued is refused too.
    assert_eq!(callback(&user_id).await, StatusCode::CONFLICT);
    assert_eq!(callback("made-up.1.abc").await, StatusCode::FORBIDDEN);
    // An attempt ttwc issued more than an hour ago is refused, whatever its row: the purge
    // may have removed it, and the attempt must not deliver keys a second time then.
    let issued = connector::store::now().unix_timestamp() - 3601;
    let random = "r".repeat(43);
    let tag = t
        .app
        .key()
        .mac("wc-auth grant", format!("{random}.{issued}").as_bytes());
    let old = format!("{random}.{issued}.{}", hex::encode(&tag[..16]));
    assert_eq!(callback(&old).await, StatusCode::FORBIDDEN);
    let fresh = connector::store::now().unix_timestamp();
    let tag = t
        .app
        .key()
        .mac("wc-auth grant", format!("{random}.{fresh}").as_bytes());
    let fresh = format!("{random}.{fresh}.{}", hex::encode(&tag[..16]));
    assert_eq!(
        callback(&fresh).await,
        StatusCode::OK,
        "the same id, issued now, is one of ttwc's"
    );
}

// ---- Throttling, through a trusted proxy ----

/// An app behind a proxy on loopback, with the sandbox's own login throttle off (so what is
/// seen is ttwc's).
async fn behind_a_proxy() -> TestApp {
    spawn_with(Options {
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
        sandbox_login_attempts_per_minute: 0,
        ..Options::default()
    })
    .await
}

/// Signs in to the dashboard as `client` (the address the proxy forwards); the status, the
/// `Retry-After` seconds and the answer.
async fn sign_in_from(
    t: &mut TestApp,
    client: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Option<u64>, Value) {
    let r = t
        .http
        .post(format!("{}/api/session/login", t.base))
        .header("x-csrf-token", &t.csrf)
        .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
        .json(&json!({"code": "DEMO", "email": email, "password": password}))
        .send()
        .await
        .expect("sign in");
    let status = r.status();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if let Some(csrf) = v.get("csrf").and_then(Value::as_str) {
        t.csrf = csrf.to_owned();
    }
    (status, retry_after, v)
}

async fn logins_seen(t: &TestApp) -> usize {
    t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("login")))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn issue_19_one_clients_failures_never_refuse_another_clients_password() {
    let mut t = behind_a_proxy().await;
    let a = "203.0.113.1";
    for i in 0..10 {
        let (s, _, v) = sign_in_from(&mut t, a, EMAIL, "wrong").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "failure {i}: {v}");
    }
    // A is refused before TrackingTech is asked — even with the right password.
    let seen = logins_seen(&t).await;
    let (s, wait, v) = sign_in_from(&mut t, a, EMAIL, PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(wait.is_some_and(|w| (1..=60).contains(&w)), "{wait:?}");
    let message = v["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("Demasiados intentos") && message.contains("segundos"),
        "{message}"
    );
    assert_eq!(logins_seen(&t).await, seen, "nothing reached TrackingTech");
    // B, behind the same proxy, signs in with the right password.
    let (s, _, v) = sign_in_from(&mut t, "203.0.113.2", EMAIL, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn issue_19_successful_sign_ins_do_not_count() {
    let mut t = behind_a_proxy().await;
    let c = "198.51.100.7";
    for i in 0..12 {
        let (s, _, v) = sign_in_from(&mut t, c, EMAIL, PASSWORD).await;
        assert_eq!(s, StatusCode::OK, "sign-in {i}: {v}");
    }
    // Nine failures, five successes, and the tenth failure is still a failure, not a 429.
    for _ in 0..9 {
        assert_eq!(
            sign_in_from(&mut t, c, EMAIL, "wrong").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    for _ in 0..5 {
        assert_eq!(
            sign_in_from(&mut t, c, EMAIL, PASSWORD).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        sign_in_from(&mut t, c, EMAIL, "wrong").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        sign_in_from(&mut t, c, EMAIL, "wrong").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn issue_19_guessing_one_email_from_many_addresses_is_slowed_not_locked() {
    let mut t = behind_a_proxy().await;
    // Five addresses, ten failures each: the email's cap across clients (50) is reached.
    for c in 1..=5 {
        for _ in 0..10 {
            let (s, _, v) = sign_in_from(&mut t, &format!("192.0.2.{c}"), EMAIL, "nope").await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        }
    }
    // A sixth address, which never failed, waits a few seconds for this email only.
    let fresh = "192.0.2.99";
    let (s, wait, v) = sign_in_from(&mut t, fresh, EMAIL, PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(
        wait.is_some_and(|w| (1..=6).contains(&w)),
        "short: {wait:?}"
    );
    let (s, _, v) = sign_in_from(&mut t, fresh, "otro@trackingtech.test", "nope").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "another email: {v}");
    // A slowdown, not a lockout: within seconds the right password gets in.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (s, _, v) = sign_in_from(&mut t, fresh, EMAIL, PASSWORD).await;
        if s == StatusCode::OK {
            break;
        }
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
        assert!(
            std::time::Instant::now() < deadline,
            "still refused after 15 s: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn issue_19_wizard_starts_are_limited_per_client() {
    let mut t = behind_a_proxy().await;
    let start = |t: &TestApp, client: &str| {
        let req = t
            .http
            .post(format!("{}/api/wizard/start", t.base))
            .header("x-csrf-token", &t.csrf)
            .header("x-forwarded-for", client)
            .json(&json!({"store_url": t.woo.base_url(), "code": "NOPE"}));
        async move {
            let r = req.send().await.expect("start");
            let status = r.status();
            let wait = r.headers().get("retry-after").cloned();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (status, wait, v)
        }
    };
    let (s, _, v) = start(&t, "203.0.113.50").await;
    assert_ne!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    // The first action stored the session under a new id and token.
    if let Some(csrf) = v.get("csrf").and_then(Value::as_str) {
        t.csrf = csrf.to_owned();
    }
    for i in 1..10 {
        let (s, _, v) = start(&t, "203.0.113.50").await;
        assert_ne!(s, StatusCode::TOO_MANY_REQUESTS, "start {i}: {v}");
    }
    let before = t.sandbox_request_count().await;
    let (s, wait, v) = start(&t, "203.0.113.50").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(wait.is_some(), "Retry-After");
    assert!(
        v["error"].as_str().is_some_and(|m| m.contains("Espera")),
        "{v}"
    );
    assert_eq!(
        t.sandbox_request_count().await,
        before,
        "the eleventh start did no work"
    );
    let (s, _, v) = start(&t, "203.0.113.51").await;
    assert_ne!(s, StatusCode::TOO_MANY_REQUESTS, "another client: {v}");
}
