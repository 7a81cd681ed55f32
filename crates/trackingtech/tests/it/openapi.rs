//! The sandbox's answers, and the client's request bodies, validated against
//! `docs/trackingtech-api.yaml` with a JSON Schema (2020-12) validator.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use trackingtech::{LinkRequest, LoginRequest, ResolveRequest, UninstallRequest};

use crate::helpers::*;

struct Spec {
    doc: Value,
}

impl Spec {
    fn load() -> Spec {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/trackingtech-api.yaml"
        );
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let doc: Value = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"));
        assert_eq!(doc["openapi"], json!("3.1.0"));
        Spec { doc }
    }

    fn pointer(&self, reference: &str) -> &Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local refs: {reference}"));
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => self.pointer(r),
            None => v,
        }
    }

    fn validate(&self, schema: &Value, instance: &Value, what: &str) {
        // The target schema travels inside a document that also holds `components`, so its
        // `#/components/...` references resolve as they do in the OpenAPI file.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/$defs/target",
            "$defs": {"target": schema},
            "components": self.doc["components"],
        });
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema for {what} does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not match the spec: {errors:?}\ninstance: {instance}"
        );
    }

    fn operation(&self, method: &Method, path: &str) -> &Value {
        let op = &self.doc["paths"][path][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not in the spec");
        op
    }

    /// Checks an answer: its status is documented for the operation, documented headers are
    /// present, and the JSON body matches the documented schema.
    fn check_response(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        headers: &HeaderMap,
        body: &Value,
    ) {
        let what = format!("{method} {path} → {status}");
        let response = self.deref(&self.operation(method, path)["responses"][status.to_string()]);
        assert!(
            response.is_object(),
            "{what}: status not documented; body {body}"
        );
        if let Some(documented) = response["headers"].as_object() {
            for name in documented.keys() {
                let value = headers
                    .get(name.as_str())
                    .unwrap_or_else(|| panic!("{what}: missing header {name}"));
                let value = value.to_str().unwrap_or_default();
                assert!(
                    value.parse::<u64>().is_ok(),
                    "{what}: header {name} = {value:?} is not seconds"
                );
            }
        }
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{what}: content-type {content_type:?}"
        );
        let schema = &response["content"]["application/json"]["schema"];
        self.validate(schema, body, &what);
    }

    fn check_request(&self, method: &Method, path: &str, body: &Value) {
        let schema =
            &self.operation(method, path)["requestBody"]["content"]["application/json"]["schema"];
        self.validate(schema, body, &format!("request body of {method} {path}"));
    }
}

/// A raw HTTP caller that checks every answer against the spec.
struct Checked<'a> {
    app: &'a TestApp,
    spec: &'a Spec,
    http: reqwest::Client,
}

impl Checked<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        self.call_raw(
            method,
            path,
            path,
            bearer,
            body.map(|b| b.to_string().into_bytes()),
            extra,
        )
        .await
    }

    async fn call_raw(
        &self,
        method: Method,
        spec_path: &str,
        url_path: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.http.request(
            method.clone(),
            format!("{}{url_path}", self.app.sandbox.base_url()),
        );
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let response = req.send().await.expect("the sandbox answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {url_path} → {status}: body is not JSON: {e}"));
        self.spec
            .check_response(&method, spec_path, status, &headers, &body);
        (status, body)
    }
}

#[tokio::test]
async fn every_answer_of_the_sandbox_matches_the_spec() {
    let spec = Spec::load();
    let app = spawn_app().await;
    let c = Checked {
        app: &app,
        spec: &spec,
        http: reqwest::Client::new(),
    };
    let device = device();
    let post = Method::POST;

    // resolve: 200, 404, 409, 422, 400, 413
    let resolve = "/external/tenants/resolve";
    assert_eq!(
        c.call(
            post.clone(),
            resolve,
            None,
            Some(json!({"code": "DEMO", "platform": "woocommerce", "deviceId": device})),
            &[]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        c.call(
            post.clone(),
            resolve,
            None,
            Some(json!({"code": "NOPE", "platform": "woocommerce", "deviceId": device})),
            &[]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        c.call(
            post.clone(),
            resolve,
            None,
            Some(json!({"code": "OLD", "platform": "woocommerce", "deviceId": device})),
            &[]
        )
        .await
        .0,
        409
    );
    let (s, b) = c
        .call(
            post.clone(),
            resolve,
            None,
            Some(json!({"code": 5, "platform": "shopify"})),
            &[],
        )
        .await;
    assert_eq!(s, 422);
    for field in ["code", "platform", "deviceId"] {
        assert!(b["errors"][field].is_array(), "errors.{field} in {b}");
    }
    assert_eq!(
        c.call_raw(
            post.clone(),
            resolve,
            resolve,
            None,
            Some(b"{\"code\":".to_vec()),
            &[]
        )
        .await
        .0,
        400
    );
    let huge = format!("{{\"code\":\"{}\"}}", "A".repeat(1024 * 1024 + 10));
    assert_eq!(
        c.call_raw(
            post.clone(),
            resolve,
            resolve,
            None,
            Some(huge.into_bytes()),
            &[]
        )
        .await
        .0,
        413
    );

    // login: 200, 401, 422, 429
    let login = "/external/login";
    let (s, body) = c
        .call(
            post.clone(),
            login,
            None,
            Some(json!({"email": EMAIL, "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(s, 200);
    let token = body["token"].as_str().expect("token").to_owned();
    assert_eq!(
        c.call(
            post.clone(),
            login,
            None,
            Some(json!({"email": EMAIL})),
            &[]
        )
        .await
        .0,
        422
    );
    let mut last = 0;
    for _ in 0..6 {
        last = c
            .call(
                post.clone(),
                login,
                None,
                Some(json!({"email": EMAIL, "password": "x"})),
                &[],
            )
            .await
            .0;
    }
    assert_eq!(last, 429);

    // stores: 200, 401, 422
    let stores = "/external/stores";
    let (s, body) = c.call(Method::GET, stores, Some(&token), None, &[]).await;
    assert_eq!(s, 200);
    let store_id = body["data"][0]["id"].clone();
    assert_eq!(
        c.call(Method::GET, stores, Some("forged"), None, &[])
            .await
            .0,
        401
    );
    assert_eq!(
        c.call_raw(
            Method::GET,
            stores,
            "/external/stores?per_page=1000",
            Some(&token),
            None,
            &[]
        )
        .await
        .0,
        422
    );

    // link: 201, 401, 404, 422
    let link = "/external/woocommerce/link";
    let link_body = json!({"store_id": store_id, "store_url": STORE_URL, "deviceId": device, "platform": "woocommerce"});
    let (s, body) = c
        .call(
            post.clone(),
            link,
            Some(&token),
            Some(link_body.clone()),
            &[],
        )
        .await;
    assert_eq!(s, 201);
    let customer = body["customer_id"]
        .as_str()
        .expect("customer_id")
        .to_owned();
    let integration = body["integration_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        c.call(post.clone(), link, None, Some(link_body.clone()), &[])
            .await
            .0,
        401
    );
    let mut unknown_store = link_body.clone();
    unknown_store["store_id"] = json!(987_654);
    assert_eq!(
        c.call(post.clone(), link, Some(&token), Some(unknown_store), &[])
            .await
            .0,
        404
    );
    assert_eq!(
        c.call(
            post.clone(),
            link,
            Some(&token),
            Some(json!({"store_url": "ftp://x"})),
            &[]
        )
        .await
        .0,
        422
    );

    // orders: 201, 200, 409, 422, 401
    let orders = "/external/woocommerce/orders";
    let key = [("Idempotency-Key", "k-1")];
    let body = raw_order_json(5001, &customer);
    assert_eq!(
        c.call(
            post.clone(),
            orders,
            Some(&integration),
            Some(body.clone()),
            &key
        )
        .await
        .0,
        201
    );
    assert_eq!(
        c.call(
            post.clone(),
            orders,
            Some(&integration),
            Some(body.clone()),
            &key
        )
        .await
        .0,
        200
    );
    let mut changed = body.clone();
    changed["products"][0]["quantity"] = json!(9);
    assert_eq!(
        c.call(
            post.clone(),
            orders,
            Some(&integration),
            Some(changed),
            &key
        )
        .await
        .0,
        409
    );
    let mut extra = body.clone();
    extra["billing"] = json!({"first_name": "leak"});
    let (s, b) = c
        .call(
            post.clone(),
            orders,
            Some(&integration),
            Some(extra),
            &[("Idempotency-Key", "k-2")],
        )
        .await;
    assert_eq!(s, 422, "unknown fields are refused: {b}");
    let mut bad = body.clone();
    bad["products"][0]["quantity"] = json!(0);
    bad["products"][1]["price"] = json!(5000);
    let (s, b) = c
        .call(
            post.clone(),
            orders,
            Some(&integration),
            Some(bad),
            &[("Idempotency-Key", "k-3")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        b["errors"]["products.0.quantity"].is_array() && b["errors"]["products.1.price"].is_array(),
        "{b}"
    );
    assert_eq!(
        c.call(
            post.clone(),
            orders,
            Some(&integration),
            Some(body.clone()),
            &[]
        )
        .await
        .0,
        422,
        "no Idempotency-Key"
    );
    assert_eq!(
        c.call(post.clone(), orders, Some(&token), Some(body.clone()), &key)
            .await
            .0,
        401,
        "a login token is not an integration token"
    );

    // status: 200, 422, 401
    let status = "/external/woocommerce/orders/status";
    let (s, b) = c
        .call(
            post.clone(),
            status,
            Some(&integration),
            Some(json!({"order_ids": [5001, 5002]})),
            &[],
        )
        .await;
    assert_eq!((s, b["data"].as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(
        c.call(
            post.clone(),
            status,
            Some(&integration),
            Some(json!({"order_ids": []})),
            &[]
        )
        .await
        .0,
        422
    );
    assert_eq!(
        c.call(
            post.clone(),
            status,
            Some(&integration),
            Some(json!({"order_ids": ["x"]})),
            &[]
        )
        .await
        .0,
        422
    );
    assert_eq!(
        c.call(
            post.clone(),
            status,
            None,
            Some(json!({"order_ids": [1]})),
            &[]
        )
        .await
        .0,
        401
    );

    // faults: 500, 429 and 503 with Retry-After
    app.set_faults(json!({"error_rate": 1.0})).await;
    assert_eq!(
        c.call(
            post.clone(),
            status,
            Some(&integration),
            Some(json!({"order_ids": [1]})),
            &[]
        )
        .await
        .0,
        500
    );
    app.set_faults(json!({"throttle_rate": 1.0, "retry_after_secs": 2}))
        .await;
    assert_eq!(
        c.call(
            post.clone(),
            status,
            Some(&integration),
            Some(json!({"order_ids": [1]})),
            &[]
        )
        .await
        .0,
        429
    );
    app.set_faults(json!({"down_for_secs": 60})).await;
    assert_eq!(
        c.call(
            post.clone(),
            status,
            Some(&integration),
            Some(json!({"order_ids": [1]})),
            &[]
        )
        .await
        .0,
        503
    );
    assert_eq!(
        app.admin_send(Method::DELETE, "/_sandbox/faults", json!({}))
            .await,
        200
    );

    // uninstall: 422, 200, then 401
    let uninstall = "/external/woocommerce/uninstall";
    assert_eq!(
        c.call(
            post.clone(),
            uninstall,
            Some(&integration),
            Some(json!({"store_url": STORE_URL})),
            &[]
        )
        .await
        .0,
        422
    );
    assert_eq!(
        c.call(
            post.clone(),
            uninstall,
            Some(&integration),
            Some(json!({"store_url": STORE_URL, "customer_id": customer})),
            &[]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        c.call(
            post.clone(),
            uninstall,
            Some(&integration),
            Some(json!({"store_url": STORE_URL, "customer_id": customer})),
            &[]
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_messages() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    for (method, path, expected) in [
        (Method::GET, "/external/nothing-here", 404),
        (Method::POST, "/", 404),
        (Method::GET, "/external/login", 405),
        (Method::DELETE, "/external/woocommerce/orders", 405),
    ] {
        let response = http
            .request(method.clone(), format!("{}{path}", app.sandbox.base_url()))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON: {e}"));
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {path}: {body}"
        );
    }
}

#[test]
fn the_clients_request_bodies_match_the_spec() {
    let spec = Spec::load();
    let device = device();
    let value = |v: &dyn erased::Ser| v.to_value();
    spec.check_request(
        &Method::POST,
        "/external/tenants/resolve",
        &value(&ResolveRequest::new("DEMO", &device)),
    );
    spec.check_request(
        &Method::POST,
        "/external/login",
        &value(&LoginRequest {
            email: EMAIL,
            password: PASSWORD,
            code: Some("DEMO"),
        }),
    );
    spec.check_request(
        &Method::POST,
        "/external/login",
        &value(&LoginRequest {
            email: EMAIL,
            password: PASSWORD,
            code: None,
        }),
    );
    let id = trackingtech::Id::Number(101);
    spec.check_request(
        &Method::POST,
        "/external/woocommerce/link",
        &value(&LinkRequest::new(&id, STORE_URL, &device)),
    );
    spec.check_request(
        &Method::POST,
        "/external/woocommerce/orders",
        &raw_order_json(1, "cus_1"),
    );
    spec.check_request(
        &Method::POST,
        "/external/woocommerce/uninstall",
        &value(&UninstallRequest {
            store_url: STORE_URL,
            customer_id: "cus_1",
        }),
    );
}

/// Lets one helper take any of the request types.
mod erased {
    pub trait Ser {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}
