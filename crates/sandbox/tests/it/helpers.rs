//! `spawn_app()` and the calls every test makes.

use std::time::Duration;

use reqwest::StatusCode;
use sandbox::{Config, Fixtures, Handle};
use serde_json::{Value, json};

pub const EMAIL: &str = "demo@trackingtech.test";
pub const PASSWORD: &str = "demo1234";
pub const STORE_URL: &str = "https://tienda.example";

pub struct TestApp {
    pub handle: Handle,
    pub client: reqwest::Client,
}

/// A sandbox with the built-in fixtures and no status schedule, so statuses move only when a
/// test says so.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::new(Fixtures::builtin());
    config.advance_every = None;
    change(&mut config);
    let handle = sandbox::spawn(config).await.expect("sandbox starts");
    TestApp {
        handle,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client builds"),
    }
}

/// A fixed, valid deviceId (64 lowercase hex characters).
pub fn device_id() -> String {
    "0123456789abcdef".repeat(4)
}

pub fn order_body(customer_id: &str, order_id: u64) -> Value {
    json!({
        "order_id": order_id,
        "customer_id": customer_id,
        "store_url": STORE_URL,
        "products": [
            {"name": "Polera", "sku": "POL-1", "quantity": 2, "price": "19990", "weight": "0.3", "weight_unit": "kg"},
            {"name": "Sticker", "sku": "", "quantity": 1, "price": "12.50"}
        ],
        "shipping": {
            "first_name": "Ana", "last_name": "Rojas", "company": "", "address_1": "Av. Matta 123",
            "address_2": "", "city": "Santiago", "state": "RM", "postcode": "8320000", "country": "CL",
            "email": "ana@example.cl", "phone": "+56911112222"
        }
    })
}

/// Status and JSON body of an answer; panics (failing the test) if the body is not JSON.
pub async fn parts(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body readable");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer {status} is not JSON ({e}): {text:?}"));
    (status, value)
}

/// The field keys of a 422 answer, sorted.
pub fn error_keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = body["errors"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        parts(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        parts(request.send().await.expect("request sent")).await
    }

    pub async fn login(&self) -> String {
        let (status, body) = self
            .post(
                "/external/login",
                None,
                &json!({"email": EMAIL, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Logs in and links `store_url` to store 101; returns (customer_id, integration_token).
    pub async fn link_url(&self, store_url: &str) -> (String, String) {
        let token = self.login().await;
        let (status, body) = self
            .post(
                "/external/woocommerce/link",
                Some(&token),
                &json!({"store_id": 101, "store_url": store_url, "deviceId": device_id(), "platform": "woocommerce"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["customer_id"]
                .as_str()
                .expect("customer_id")
                .to_owned(),
            body["integration_token"]
                .as_str()
                .expect("integration_token")
                .to_owned(),
        )
    }

    pub async fn link(&self) -> (String, String) {
        self.link_url(STORE_URL).await
    }

    pub async fn send(&self, token: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/external/woocommerce/orders"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request sent");
        parts(response).await
    }

    pub async fn statuses(&self, token: &str, ids: &[u64]) -> (StatusCode, Value) {
        self.post(
            "/external/woocommerce/orders/status",
            Some(token),
            &json!({"order_ids": ids}),
        )
        .await
    }

    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        self.get(path, Some(self.handle.admin_token())).await
    }

    pub async fn admin_post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post(path, Some(self.handle.admin_token()), body).await
    }

    pub async fn admin_put_faults(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .put(self.url("/_sandbox/faults"))
            .bearer_auth(self.handle.admin_token())
            .json(body)
            .send()
            .await
            .expect("request sent");
        parts(response).await
    }

    pub async fn admin_orders(&self) -> Vec<Value> {
        let (status, body) = self.admin_get("/_sandbox/orders").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().cloned().expect("data array")
    }
}
