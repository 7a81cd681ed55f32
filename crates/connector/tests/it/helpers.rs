//! `spawn_app()`: the connector on a random port with a fresh database, the sandbox and woo-sim
//! in-process, and a cookie-keeping client that does not follow redirects.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Whether the store has the Shipment Tracking extension (its REST API).
    pub shipment_tracking: bool,
    /// The simulated store.
    pub woo_seed: woo_sim::Seed,
    /// Serve the store over https (ttwc trusts woo-sim's cert.pem), optionally with a broken
    /// certificate.
    pub woo_tls: bool,
    pub woo_tls_fault: Option<woo_sim::TlsFault>,
    /// `TTWC_ALLOWED_PRIVATE_NETS`: loopback, where woo-sim listens, unless a test wants the
    /// guard's default.
    pub allowed_private_nets: Vec<ipnet::IpNet>,
    /// Peers whose `X-Forwarded-For` ttwc believes (`TTWC_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The sandbox's own login throttle (failures per email per minute; 0 turns it off).
    pub sandbox_login_attempts_per_minute: u32,
    /// How often the engine purges idle sessions and old wc-auth grants (its default if None).
    pub purge_interval: Option<Duration>,
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
            shipment_tracking: false,
            woo_seed: woo_sim::Seed::builtin(),
            woo_tls: false,
            woo_tls_fault: None,
            allowed_private_nets: egress::loopback(),
            trusted_proxies: Vec::new(),
            sandbox_login_attempts_per_minute: 5,
            purge_interval: None,
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
    sandbox_config.login_attempts_per_minute = options.sandbox_login_attempts_per_minute;
    let sandbox = sandbox::spawn(sandbox_config)
        .await
        .expect("sandbox starts");
    let mut woo_config = woo_sim::Config::new(
        options
            .woo_seed
            .clone()
            .with_shipment_tracking(options.shipment_tracking),
    );
    woo_config.allow_http_callbacks = true;
    woo_config.delivery_delay = Duration::from_millis(10);
    woo_config.tls = options.woo_tls;
    woo_config.tls_fault = options.woo_tls_fault;
    let woo = woo_sim::spawn(woo_config).await.expect("woo-sim starts");
    let woo_root_cert_pem = woo
        .cert_pem_path()
        .map(|p| std::fs::read(p).expect("woo-sim's cert.pem"));

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
    settings.allowed_private_nets = options.allowed_private_nets.clone();
    settings.trusted_proxies = options.trusted_proxies.clone();
    let mut app_options = AppOptions {
        woo_timeout: Some(Duration::from_secs(2)),
        ..AppOptions::default()
    };
    app_options.woo_root_cert_pem = woo_root_cert_pem;
    let app = App::open(settings, app_options).await.expect("app opens");
    tokio::spawn(connector::web::serve(
        app.clone(),
        listener,
        std::future::pending(),
    ));
    let mut engine = connector::engine::EngineConfig::from_settings(app.settings());
    (engine.backoff_base, engine.backoff_cap) = options.backoff;
    engine.idle_poll = Duration::from_millis(50);
    if let Some(every) = options.purge_interval {
        engine.purge_interval = every;
    }
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

    /// The paths TrackingTech (the sandbox) was asked, oldest first.
    pub async fn sandbox_paths(&self) -> Vec<String> {
        self.sandbox_admin("/_sandbox/requests").await["data"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|r| r["path"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
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

    /// Steps 1–3 of the wizard for a store this account connected before with keys that still
    /// work: the store step connects it at once. Returns the connection summary.
    pub async fn reconnect_at_store_step(&mut self) -> Value {
        let (s, v) = self
            .post(
                "/api/wizard/start",
                json!({"store_url": self.woo.base_url(), "code": "demo"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["step"], "store", "signed in already: {v}");
        let store_id = v["stores"][0]["id"].clone();
        let (s, v) = self
            .post("/api/wizard/store", json!({"store_id": store_id}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["step"], "done", "{v}");
        assert_eq!(v["keys_reused"], true, "{v}");
        assert!(v.get("authorize_url").is_none(), "{v}");
        v["connection"].clone()
    }

    /// The store's REST API keys as WooCommerce's key list shows them (`/_sim/keys`).
    pub async fn woo_keys(&self) -> Vec<Value> {
        reqwest::Client::new()
            .get(format!("{}/_sim/keys", self.woo.base_url()))
            .send()
            .await
            .expect("sim admin")
            .json()
            .await
            .expect("JSON")
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

    /// Sets an order's creation date as wp-admin's order form does (a save: order.updated).
    pub async fn sim_set_date_created(&self, id: u64, at: time::OffsetDateTime) {
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let at = at
            .to_offset(time::UtcOffset::UTC)
            .format(&format)
            .expect("format");
        let r = reqwest::Client::new()
            .post(self.sim(&format!("/_sim/orders/{id}/date_created")))
            .json(&json!({"date_created_gmt": at}))
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

/// Fixtures with two merchants of one courier: the demo account and `otro@trackingtech.test`
/// (`testdata/sandbox/two-accounts.toml`, which `ttwc`'s tests use too).
pub fn two_merchants() -> sandbox::Fixtures {
    sandbox::Fixtures::from_toml(include_str!(
        "../../../../testdata/sandbox/two-accounts.toml"
    ))
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

// ---- What must become of an order, decided from woo-sim's own data ----
//
// End-to-end tests compare ttwc's outbox and what TrackingTech received against these, so a
// test fails when ttwc records the wrong fate for an order, not only when it records `failed`.
// The rules are the product's (ARCHITECTURE.md, `mapping.rs`'s documentation) applied to the
// simulated store's orders and catalogue; nothing here asks ttwc.

/// The seed of a test's random orders: `TTWC_TEST_SEED` when set (to replay a failure), else a
/// fresh one. Tests print it in their failure messages.
pub fn test_seed() -> u64 {
    match std::env::var("TTWC_TEST_SEED") {
        Ok(s) => s.trim().parse().expect("TTWC_TEST_SEED is a u64"),
        Err(_) => rand::random(),
    }
}

/// How a failure message names a seed so that the failure can be replayed.
pub fn replay(seed: u64) -> String {
    format!("seed {seed}; TTWC_TEST_SEED={seed} replays these orders")
}

/// One product or variation of woo-sim's builtin catalogue.
struct CatalogueItem {
    is_virtual: bool,
    /// As the seed writes it; empty when unset.
    weight: String,
    /// The variable product a variation belongs to.
    parent: Option<u64>,
}

/// woo-sim's builtin catalogue, read from the simulator's own seed file.
pub struct Catalogue {
    items: std::collections::HashMap<u64, CatalogueItem>,
    weight_unit: String,
}

impl Catalogue {
    pub fn builtin() -> Catalogue {
        let seed: Value = serde_json::from_str(include_str!("../../../woo-sim/seed/builtin.json"))
            .expect("woo-sim's builtin seed is JSON");
        let mut items = std::collections::HashMap::new();
        for p in seed["products"].as_array().expect("products") {
            let id = p["id"].as_u64().expect("product id");
            let weight = |v: &Value| v["weight"].as_str().unwrap_or("").to_owned();
            for v in p["variations"].as_array().into_iter().flatten() {
                let item = CatalogueItem {
                    is_virtual: false,
                    weight: weight(v),
                    parent: Some(id),
                };
                items.insert(v["id"].as_u64().expect("variation id"), item);
            }
            let item = CatalogueItem {
                is_virtual: p["virtual"].as_bool().unwrap_or(false),
                weight: weight(p),
                parent: None,
            };
            items.insert(id, item);
        }
        let weight_unit = seed["settings"]["weight_unit"]
            .as_str()
            .expect("weight unit")
            .to_owned();
        Catalogue { items, weight_unit }
    }

    /// The line's product, or its variation when it has one.
    fn item(&self, line: &Value) -> Option<&CatalogueItem> {
        let variation = line["variation_id"].as_u64().unwrap_or(0);
        let id = if variation != 0 {
            variation
        } else {
            line["product_id"].as_u64().unwrap_or(0)
        };
        self.items.get(&id)
    }

    /// A product the store does not have needs shipping: skipping a parcel would lose it.
    fn needs_shipping(&self, line: &Value) -> bool {
        self.item(line).is_none_or(|i| !i.is_virtual)
    }

    /// The variation's own weight, else its product's; none when neither has one.
    fn weight(&self, line: &Value) -> Option<String> {
        let item = self.item(line)?;
        if !item.weight.is_empty() {
            return Some(item.weight.clone());
        }
        let parent = self.items.get(&item.parent?)?;
        (!parent.weight.is_empty()).then(|| parent.weight.clone())
    }
}

/// What must become of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Sent,
    Skipped,
    Rejected,
}

impl Fate {
    /// The outbox state it ends in.
    pub fn state(self) -> &'static str {
        match self {
            Fate::Sent => "sent",
            Fate::Skipped => "skipped",
            Fate::Rejected => "rejected",
        }
    }
}

fn lines_to_ship(order: &Value) -> Vec<&Value> {
    order["line_items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["quantity"].as_i64().unwrap_or(0) >= 1)
        .collect()
}

fn blank(v: &Value) -> bool {
    v.as_str().unwrap_or("").trim().is_empty()
}

/// The shipping address, or the billing one when the shipping address is empty.
fn chosen_address(order: &Value) -> &Value {
    let shipping = &order["shipping"];
    if blank(&shipping["address_1"]) && blank(&shipping["city"]) {
        &order["billing"]
    } else {
        shipping
    }
}

/// The fate of a paid WooCommerce order as the store holds it: skipped when there is nothing
/// for a courier (every shipping line a local pickup, or only virtual products), rejected when
/// a courier could not deliver it (no line with a quantity, no street, no city), sent otherwise.
pub fn expected_fate(order: &Value, catalogue: &Catalogue) -> Fate {
    let shipping_lines = order["shipping_lines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pickup = !shipping_lines.is_empty()
        && shipping_lines.iter().all(|l| {
            matches!(
                l["method_id"].as_str(),
                Some("local_pickup" | "pickup_location")
            )
        });
    let lines = lines_to_ship(order);
    let nothing_to_ship = !lines.is_empty() && !lines.iter().any(|l| catalogue.needs_shipping(l));
    if pickup || nothing_to_ship {
        return Fate::Skipped;
    }
    let address = chosen_address(order);
    if lines.is_empty() || blank(&address["address_1"]) || blank(&address["city"]) {
        return Fate::Rejected;
    }
    Fate::Sent
}

/// The TrackingTech order body a sent order must carry: the contract's fields, taken from the
/// WooCommerce order and woo-sim's catalogue. Unit prices are line totals divided by
/// quantities; the builtin store has no decimals and no discounts, which this checks.
pub fn expected_body(
    order: &Value,
    catalogue: &Catalogue,
    customer_id: &str,
    store_url: &str,
) -> Value {
    let id = order["id"].as_u64().expect("order id");
    assert!(
        order["total"].as_str().is_some_and(|t| !t.contains('.')),
        "order {id}: this oracle knows stores without decimals: {}",
        order["total"]
    );
    let products: Vec<Value> = lines_to_ship(order)
        .into_iter()
        .map(|l| {
            let quantity = l["quantity"].as_i64().expect("quantity");
            let total: i64 = l["total"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("a line total in whole pesos");
            assert_eq!(total % quantity, 0, "order {id}: a discounted line {l}");
            let mut p = json!({
                "name": l["name"],
                "sku": l["sku"].as_str().unwrap_or(""),
                "quantity": quantity,
                "price": (total / quantity).to_string(),
            });
            if let Some(weight) = catalogue.weight(l) {
                p["weight"] = json!(weight);
                p["weight_unit"] = json!(catalogue.weight_unit);
            }
            p
        })
        .collect();
    let address = chosen_address(order);
    let country = match address["country"].as_str().unwrap_or("") {
        "" if address["state"]
            .as_str()
            .is_some_and(|s| s.starts_with("CL-")) =>
        {
            "CL"
        }
        c => c,
    };
    let field = |name: &str| address[name].as_str().unwrap_or("").to_owned();
    json!({
        "order_id": id,
        "customer_id": customer_id,
        "store_url": store_url,
        "products": products,
        "shipping": {
            "first_name": field("first_name"),
            "last_name": field("last_name"),
            "company": field("company"),
            "address_1": field("address_1"),
            "address_2": field("address_2"),
            "city": field("city"),
            "state": field("state"),
            "postcode": field("postcode"),
            "country": country,
            "email": order["billing"]["email"],
            "phone": order["billing"]["phone"],
        },
    })
}

impl TestApp {
    /// Creates `count` orders in the simulated store from `seed` (see woo-sim's README).
    pub async fn sim_orders_seeded(&self, count: u32, status: &str, seed: u64) -> Vec<u64> {
        let v: Value = reqwest::Client::new()
            .post(self.sim("/_sim/orders"))
            .json(&json!({"count": count, "status": status, "seed": seed}))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json");
        assert_eq!(v["seed"], json!(seed), "{v}");
        v["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(Value::as_u64)
            .collect()
    }

    /// The orders as the store holds them, read from the simulator, by id.
    pub async fn sim_orders_by_id(&self, ids: &[u64]) -> BTreeMap<u64, Value> {
        let mut orders = BTreeMap::new();
        for &id in ids {
            orders.insert(id, self.sim_order(id).await);
        }
        orders
    }

    /// Deliveries the simulator has queued or sent and not yet logged an answer for.
    pub async fn sim_pending_deliveries(&self) -> u64 {
        let v: Value = reqwest::Client::new()
            .get(self.sim("/_sim/deliveries/pending"))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json");
        v["pending"].as_u64().expect("pending")
    }

    /// Every order of the connection in the outbox and its state.
    pub async fn outbox_states(&self, connection_id: &str) -> BTreeMap<u64, String> {
        let filter = connector::store::OrderFilter {
            connection_id: Some(connection_id.to_owned()),
            ..Default::default()
        };
        self.app
            .store()
            .orders(&filter)
            .await
            .expect("orders")
            .into_iter()
            .map(|o| {
                let id = u64::try_from(o.order_id).expect("order ids are positive");
                (id, o.state.as_str().to_owned())
            })
            .collect()
    }

    /// Checks that the outbox holds exactly the orders of `expected`, each in the state of its
    /// fate, and that TrackingTech holds each order to be sent exactly once and no other.
    /// Returns what TrackingTech holds, by WooCommerce order id. `context` goes into every
    /// failure message (a seed, a scenario).
    pub async fn assert_final_states(
        &self,
        connection_id: &str,
        expected: &BTreeMap<u64, Fate>,
        context: &str,
    ) -> BTreeMap<u64, Value> {
        let outbox = self.outbox_states(connection_id).await;
        let wrong: Vec<String> = expected
            .iter()
            .filter(|(id, fate)| outbox.get(id).map(String::as_str) != Some(fate.state()))
            .map(|(id, fate)| format!("#{id}: {:?}, not {}", outbox.get(id), fate.state()))
            .chain(
                outbox
                    .iter()
                    .filter(|(id, _)| !expected.contains_key(id))
                    .map(|(id, state)| format!("#{id}: {state}, yet no such order was made")),
            )
            .collect();
        assert!(
            wrong.is_empty(),
            "orders in the wrong final state ({context}):\n{}",
            wrong.join("\n")
        );
        let mut received: BTreeMap<u64, Value> = BTreeMap::new();
        let mut twice = Vec::new();
        for o in self.received().await {
            let id = o["order"]["order_id"].as_u64().expect("order_id");
            if received.insert(id, o).is_some() {
                twice.push(id);
            }
        }
        assert!(
            twice.is_empty(),
            "orders TrackingTech holds twice ({context}): {twice:?}"
        );
        let to_send: BTreeSet<u64> = expected
            .iter()
            .filter(|(_, fate)| **fate == Fate::Sent)
            .map(|(id, _)| *id)
            .collect();
        let got: BTreeSet<u64> = received.keys().copied().collect();
        assert_eq!(
            got, to_send,
            "TrackingTech holds exactly the orders to be sent ({context})"
        );
        received
    }
}

fn sim_attr_before(html: &str, id: &str, attr: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let head = &html[..at];
    let start = head.rfind(&format!("{attr}=\"")).expect("attribute") + attr.len() + 2;
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].replace("&amp;", "&")
}

fn sim_location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_owned()
}

impl TestApp {
    /// The merchant's browser at WooCommerce: logs in, approves ttwc's key request and comes
    /// back to the wizard, which then has the keys WooCommerce created.
    pub async fn approve_in_woocommerce(&self, authorize: &str) {
        let woo = self.woo.base_url();
        let absolute = |href: &str| {
            if href.starts_with("http") {
                href.to_owned()
            } else {
                format!("{woo}{href}")
            }
        };
        let r = self.http.get(authorize).send().await.expect("authorize");
        // A browser still logged in to the store goes straight to the approval page.
        let html = if r.status().is_redirection() {
            let html = self
                .http
                .get(absolute(&sim_location(&r)))
                .send()
                .await
                .expect("login page")
                .text()
                .await
                .expect("html");
            let r = self
                .http
                .post(absolute(&sim_attr_before(&html, "username", "action")))
                .form(&[
                    ("username", "admin"),
                    ("password", "admin1234"),
                    ("login", "Login"),
                ])
                .send()
                .await
                .expect("log in");
            self.http
                .get(absolute(&sim_location(&r)))
                .send()
                .await
                .expect("approval")
                .text()
                .await
                .expect("html")
        } else {
            r.text().await.expect("html")
        };
        let approve = absolute(&sim_attr_before(&html, "wc-auth-approve", "href"));
        let r = self.http.get(&approve).send().await.expect("approve");
        let r = self
            .http
            .get(sim_location(&r))
            .send()
            .await
            .expect("return");
        assert_eq!(sim_location(&r), "/connect?wcauth=ok");
    }

    /// The whole wizard through WooCommerce's approval; returns the connection summary.
    pub async fn connect_through_wc_auth(&mut self) -> Value {
        let view = self.through_store_step().await;
        let authorize = view["authorize_url"]
            .as_str()
            .expect("authorize_url")
            .to_owned();
        self.approve_in_woocommerce(&authorize).await;
        let (s, v) = self.post("/api/wizard/keys", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["step"], "done", "{v}");
        v["connection"].clone()
    }
}
