//! Shared set-up: a sandbox on a random port, a client for it, admin calls.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use trackingtech::{Client, ClientOptions, OrderBody, Product, Secret, Shipping};

pub struct TestApp {
    pub sandbox: sandbox::Handle,
    pub client: Client,
    pub admin: reqwest::Client,
}

pub const EMAIL: &str = "demo@trackingtech.test";
pub const PASSWORD: &str = "demo1234";
pub const STORE_URL: &str = "https://tienda.example.cl";

pub async fn spawn_app() -> TestApp {
    spawn_with(sandbox::Config::new(sandbox::Fixtures::builtin())).await
}

pub async fn spawn_with(mut config: sandbox::Config) -> TestApp {
    // Statuses move only when a test says so.
    config.advance_every = None;
    let sandbox = sandbox::spawn(config).await.expect("sandbox starts");
    let client = client_for(&sandbox.base_url(), Duration::from_secs(10));
    TestApp {
        sandbox,
        client,
        admin: reqwest::Client::new(),
    }
}

pub fn client_for(base_url: &str, timeout: Duration) -> Client {
    Client::new(ClientOptions {
        base_url: base_url.to_owned(),
        connect_timeout: Duration::from_secs(2),
        timeout,
        ..ClientOptions::default()
    })
    .expect("valid base URL")
}

pub fn device() -> String {
    trackingtech::device_id(STORE_URL, "test-salt").expect("valid store URL")
}

impl TestApp {
    pub async fn login(&self) -> Secret {
        self.client
            .login(&trackingtech::LoginRequest {
                email: EMAIL,
                password: PASSWORD,
                code: Some("DEMO"),
            })
            .await
            .expect("demo login works")
            .token
    }

    /// Logs in, picks the first store and links it: (customer id, integration token).
    pub async fn linked(&self) -> (String, Secret) {
        let token = self.login().await;
        let stores = self.client.stores(&token).await.expect("stores");
        let device = device();
        let linked = self
            .client
            .link(
                &token,
                &trackingtech::LinkRequest::new(&stores[0].id, STORE_URL, &device),
            )
            .await
            .expect("link");
        (linked.customer_id, linked.integration_token)
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.admin
            .get(format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .expect("admin call")
            .json()
            .await
            .expect("admin JSON")
    }

    pub async fn admin_send(&self, method: reqwest::Method, path: &str, body: Value) -> u16 {
        self.admin
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .json(&body)
            .send()
            .await
            .expect("admin call")
            .status()
            .as_u16()
    }

    pub async fn set_faults(&self, faults: Value) {
        assert_eq!(
            self.admin_send(reqwest::Method::PUT, "/_sandbox/faults", faults)
                .await,
            200
        );
    }
}

pub fn order(order_id: u64, customer_id: &str) -> OrderBody {
    OrderBody {
        order_id,
        customer_id: customer_id.to_owned(),
        store_url: STORE_URL.to_owned(),
        products: vec![
            Product {
                name: "Polera algodón".into(),
                sku: "POL-001".into(),
                quantity: 2,
                price: "12990".into(),
                weight: Some("0.3".into()),
                weight_unit: Some("kg".into()),
            },
            Product {
                name: "Tarjeta de regalo".into(),
                sku: "GIFT".into(),
                quantity: 1,
                price: "5000".into(),
                weight: None,
                weight_unit: None,
            },
        ],
        shipping: Shipping {
            first_name: "Josefa".into(),
            last_name: "Muñoz".into(),
            company: String::new(),
            address_1: "Av. Providencia 1234".into(),
            address_2: "Depto 56".into(),
            city: "Providencia".into(),
            state: "CL-RM".into(),
            postcode: "7500000".into(),
            country: "CL".into(),
            email: "josefa@example.cl".into(),
            phone: "+56912345678".into(),
        },
    }
}

/// Polls `check` until it returns `Some`, failing the test after `deadline`.
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

pub fn raw_order_json(order_id: u64, customer_id: &str) -> Value {
    serde_json::to_value(order(order_id, customer_id)).unwrap_or_else(|_| json!({}))
}
