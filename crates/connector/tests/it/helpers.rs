//! `spawn_app()`: the connector on a random port with a fresh database, the sandbox and woo-sim
//! in-process, and a cookie-keeping client that does not follow redirects.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use connector::{App, AppOptions, Settings};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const EMAIL: &str = "demo@trackingtech.test";
pub const PASSWORD: &str = "demo1234";

pub struct TestApp {
    pub base: String,
    pub app: App,
    pub sandbox: sandbox::Handle,
    pub woo: woo_sim::Handle,
    pub http: reqwest::Client,
    pub csrf: String,
    _dir: tempfile::TempDir,
    _stop_engine: tokio::sync::watch::Sender<bool>,
}

pub struct Options {
    pub fixtures: sandbox::Fixtures,
    pub session_idle: Duration,
    pub status_interval: Duration,
    pub reconcile_interval: Duration,
    /// Another database than a fresh SQLite file (PostgreSQL needs `master_key` too).
    pub database_url: Option<String>,
    pub master_key: Option<String>,
    /// The engine's backoff base and cap.
    pub backoff: (Duration, Duration),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fixtures: sandbox::Fixtures::builtin(),
            session_idle: Duration::from_secs(7200),
            status_interval: Duration::from_millis(300),
            reconcile_interval: Duration::from_secs(3600),
            database_url: None,
            master_key: None,
            backoff: (Duration::from_millis(50), Duration::from_millis(1000)),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    init_logs();
    let mut sandbox_config = sandbox::Config::new(options.fixtures);
    sandbox_config.advance_every = None;
    let sandbox = sandbox::spawn(sandbox_config)
        .await
        .expect("sandbox starts");
    let mut woo_config = woo_sim::Config::new(woo_sim::Seed::builtin());
    woo_config.allow_http_callbacks = true;
    woo_config.delivery_delay = Duration::from_millis(10);
    let woo = woo_sim::spawn(woo_config).await.expect("woo-sim starts");

    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let mut settings = Settings::defaults();
    settings.listen = addr;
    settings.public_url = url::Url::parse(&format!("http://{addr}")).expect("url");
    settings.database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("ttwc.db").display()));
    settings.master_key = options.master_key.clone();
    settings.trackingtech_url = sandbox.base_url();
    settings.session_idle = options.session_idle;
    settings.status_interval = options.status_interval;
    settings.reconcile_interval = options.reconcile_interval;
    let app_options = AppOptions {
        woo_timeout: Some(Duration::from_secs(2)),
        ..AppOptions::default()
    };
    let app = App::open(settings, app_options).await.expect("app opens");
    tokio::spawn(connector::web::serve(
        app.clone(),
        listener,
        std::future::pending(),
    ));
    let mut engine = connector::engine::EngineConfig::from_settings(app.settings());
    (engine.backoff_base, engine.backoff_cap) = options.backoff;
    engine.idle_poll = Duration::from_millis(50);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    connector::engine::spawn(app.clone(), engine, stopped);

    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut t = TestApp {
        base: format!("http://{addr}"),
        app,
        sandbox,
        woo,
        http,
        csrf: String::new(),
        _dir: dir,
        _stop_engine: stop,
    };
    t.csrf = t.page_csrf("/connect").await;
    t
}

impl TestApp {
    /// Loads a page and returns the CSRF token it carries.
    pub async fn page_csrf(&self, path: &str) -> String {
        let html = self.get_page(path).await;
        let marker = "name=\"csrf\" content=\"";
        let start = html.find(marker).expect("page carries a CSRF token") + marker.len();
        let end = html[start..].find('"').expect("token ends") + start;
        html[start..end].to_owned()
    }

    pub async fn get_page(&self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.expect("html")
    }

    /// A JSON action with the current CSRF token; keeps a rotated token.
    pub async fn post(&mut self, path: &str, body: Value) -> (StatusCode, Value) {
        let csrf = self.csrf.clone();
        let (status, v) = self.post_with(path, body, Some(&csrf)).await;
        if let Some(new) = v.get("csrf").and_then(Value::as_str) {
            self.csrf = new.to_owned();
        }
        (status, v)
    }

    pub async fn post_with(
        &self,
        path: &str,
        body: Value,
        csrf: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        let r = req.send().await.expect("action");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn sandbox_admin(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .expect("sandbox admin")
            .json()
            .await
            .expect("JSON")
    }

    pub async fn sandbox_request_count(&self) -> usize {
        self.sandbox_admin("/_sandbox/requests").await["data"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    }

    pub async fn woo_webhooks(&self) -> Vec<Value> {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/_sim/webhooks", self.woo.base_url()))
            .send()
            .await
            .expect("sim admin")
            .json()
            .await
            .expect("JSON");
        // Either a bare list or wrapped in `data`.
        v.get("data")
            .cloned()
            .unwrap_or(v)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Steps 1–3 of the wizard with the demo account; returns the wizard view after step 3.
    pub async fn through_store_step(&mut self) -> Value {
        let (s, v) = self
            .post(
                "/api/wizard/start",
                json!({"store_url": self.woo.base_url(), "code": "demo"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // A merchant already signed in with this courier skips the login step.
        let v = if v["step"] == "store" {
            v
        } else {
            assert_eq!(v["step"], "login", "{v}");
            let (s, v) = self
                .post(
                    "/api/wizard/login",
                    json!({"email": EMAIL, "password": PASSWORD}),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v
        };
        assert_eq!(v["step"], "store", "{v}");
        let store_id = v["stores"][0]["id"].clone();
        let (s, v) = self
            .post("/api/wizard/store", json!({"store_id": store_id}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["step"], "keys", "{v}");
        v
    }

    /// The whole wizard with pasted keys; returns the connection summary.
    pub async fn connect_with_keys(&mut self) -> Value {
        self.through_store_step().await;
        let (ck, cs) = (
            self.woo.consumer_key().to_owned(),
            self.woo.consumer_secret().to_owned(),
        );
        let (s, v) = self
            .post(
                "/api/wizard/keys",
                json!({"consumer_key": ck, "consumer_secret": cs}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["step"], "done", "{v}");
        v["connection"].clone()
    }
}

impl TestApp {
    fn sim(&self, path: &str) -> String {
        format!("{}{path}", self.woo.base_url())
    }

    /// Creates `count` orders in the simulated store (WooCommerce fires its webhooks).
    pub async fn sim_orders(&self, count: u32, status: &str) -> Vec<u64> {
        let v: Value = reqwest::Client::new()
            .post(self.sim("/_sim/orders"))
            .json(&json!({"count": count, "status": status}))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json");
        v["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(Value::as_u64)
            .collect()
    }

    pub async fn sim_order(&self, id: u64) -> Value {
        reqwest::Client::new()
            .get(self.sim(&format!("/_sim/orders/{id}")))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json")
    }

    pub async fn sim_set_status(&self, id: u64, status: &str) {
        let r = reqwest::Client::new()
            .post(self.sim(&format!("/_sim/orders/{id}/status")))
            .json(&json!({"status": status}))
            .send()
            .await
            .expect("sim");
        assert!(r.status().is_success());
    }

    pub async fn sim_faults(&self, faults: Value) {
        let r = reqwest::Client::new()
            .put(self.sim("/_sim/faults"))
            .json(&faults)
            .send()
            .await
            .expect("sim");
        assert!(r.status().is_success());
    }

    pub async fn sandbox_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> StatusCode {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .json(&body)
            .send()
            .await
            .expect("sandbox admin")
            .status()
    }

    /// Orders the sandbox received: (WooCommerce order id, requests that carried its key).
    pub async fn received(&self) -> Vec<Value> {
        self.sandbox_admin("/_sandbox/orders").await["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn order_states(
        &self,
        connection_id: &str,
    ) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        let filter = connector::store::OrderFilter {
            connection_id: Some(connection_id.to_owned()),
            ..Default::default()
        };
        for o in self.app.store().orders(&filter).await.expect("orders") {
            *counts.entry(o.state.as_str().to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// Waits until no order of the connection is queued or being sent.
    pub async fn settled(
        &self,
        connection_id: &str,
        expected: usize,
        deadline: Duration,
    ) -> std::collections::BTreeMap<String, usize> {
        let start = Instant::now();
        loop {
            let states = self.order_states(connection_id).await;
            let total: usize = states.values().sum();
            let busy = states.get("queued").copied().unwrap_or(0)
                + states.get("sending").copied().unwrap_or(0);
            if total >= expected && busy == 0 {
                return states;
            }
            assert!(
                start.elapsed() < deadline,
                "the outbox did not settle in {deadline:?}: {states:?} (expected {expected})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Polls `check` until it returns `Some`, failing after `deadline`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs go to the test output (shown for failing tests) when `TTWC_TEST_LOG` is set.
fn init_logs() {
    if let Ok(filter) = std::env::var("TTWC_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}

/// Fixtures with two merchants of one courier: the demo account and `otro@trackingtech.test`.
pub fn two_merchants() -> sandbox::Fixtures {
    sandbox::Fixtures::from_toml(
        r#"
        [[tenants]]
        code = "DEMO"
        name = "Courier Demo"
        active = true

        [[accounts]]
        email = "demo@trackingtech.test"
        password = "demo1234"
        name = "Demo"
          [[accounts.stores]]
          id = 101
          name = "Bodega"
          address = "Providencia"

        [[accounts]]
        email = "otro@trackingtech.test"
        password = "otro1234"
        name = "Otro"
          [[accounts.stores]]
          id = 201
          name = "Otra bodega"
          address = "Ñuñoa"
        "#,
    )
    .expect("fixtures")
}

impl TestApp {
    /// The second merchant of [`two_merchants`] signs in from another browser (this client's
    /// cookies are set aside).
    pub async fn sign_in_as_other(&mut self) {
        self.http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        self.csrf = self.page_csrf("/").await;
        let (s, v) = self
            .post(
                "/api/session/login",
                json!({"code": "DEMO", "email": "otro@trackingtech.test", "password": "otro1234"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
}

/// Signs and posts a delivery the way WooCommerce would, for orders the simulator cannot make.
pub async fn deliver(t: &TestApp, conn: &str, body: &[u8], topic: &str) -> StatusCode {
    let hooks = t.woo_webhooks().await;
    let secret = hooks[0]["secret"].as_str().expect("secret").to_owned();
    let (resource, event) = topic.split_once('.').unwrap_or(("order", "updated"));
    reqwest::Client::new()
        .post(format!("{}/webhooks/woocommerce/{conn}", t.base))
        .header("content-type", "application/json")
        .header("x-wc-webhook-source", format!("{}/", t.woo.base_url()))
        .header("x-wc-webhook-topic", topic)
        .header("x-wc-webhook-resource", resource)
        .header("x-wc-webhook-event", event)
        .header(
            "x-wc-webhook-signature",
            woocommerce::webhook::sign(secret.as_bytes(), body),
        )
        .header("x-wc-webhook-id", hooks[0]["id"].to_string())
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

/// An order the store does not hold (so a fresh fetch finds nothing), with `lines` and a
/// billing `address` (the shipping address is empty).
pub fn made_up_order(id: u64, lines: Vec<Value>, address: &str) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    serde_json::to_vec(&json!({
        "id": id, "number": id.to_string(), "status": "processing", "total": "1000",
        "date_created_gmt": date, "date_modified_gmt": date,
        "billing": {"first_name": "Ana", "last_name": "Pérez", "address_1": address, "city": "Ñuñoa", "state": "CL-RM",
                    "postcode": "", "country": "CL", "email": "ana@example.cl", "phone": "+56911111111"},
        "shipping": {"first_name": "", "last_name": "", "address_1": "", "city": "", "state": "", "postcode": "", "country": ""},
        "line_items": lines, "shipping_lines": [], "meta_data": []
    }))
    .expect("json")
}

/// A line item of a product the store does not have.
pub fn line(name: &str, qty: i64) -> Value {
    json!({"id": 1, "name": name, "product_id": 999_001, "variation_id": 0, "quantity": qty, "sku": "X", "total": "1000", "price": 1000})
}
