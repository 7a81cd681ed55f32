//! Every client call against woo-sim, which has its own OAuth verifier, Basic/query-key
//! authentication and webhook signer: a bug shared by client and server cannot hide here.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use woocommerce::webhook::{self, Incoming};
use woocommerce::{
    AuthMode, Client, Credentials, HttpOptions, OrderQuery, OrderStatus, RestIndex, StoreUrl,
    WebhookCreate, WebhookSecret, WebhookStatus, WeightUnit,
};

use crate::server::{Recorded, Reply, Server};

struct Sim {
    handle: woo_sim::Handle,
    cert_pem: Option<Vec<u8>>,
}

impl Sim {
    async fn start(tls: bool, seed: woo_sim::Seed) -> Sim {
        let mut config = woo_sim::Config::new(seed);
        config.tls = tls;
        config.delivery_delay = Duration::from_millis(50);
        let handle = woo_sim::spawn(config).await.expect("woo-sim starts");
        let cert_pem = handle
            .cert_pem_path()
            .map(|p| std::fs::read(p).expect("the simulator's certificate"));
        Sim { handle, cert_pem }
    }

    fn client(&self) -> Client {
        let options = HttpOptions {
            extra_root_cert_pem: self.cert_pem.clone(),
            ..crate::loopback_options()
        };
        Client::new(
            &crate::http(options),
            StoreUrl::parse(&self.handle.base_url()).expect("store url"),
            Credentials::new(self.handle.consumer_key(), self.handle.consumer_secret())
                .expect("credentials"),
        )
    }

    /// Calls the simulator's `/_sim/` admin API.
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &self.cert_pem {
            builder = builder
                .tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem).expect("certificate"));
        }
        let http = builder.build().expect("admin client");
        let mut req = http.request(method, format!("{}{path}", self.handle.base_url()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("admin call");
        let status = resp.status();
        let text = resp.text().await.expect("admin body");
        assert!(status.is_success(), "{path}: {status} {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("admin json")
        }
    }

    async fn create_orders(&self, count: u32, status: &str) -> Vec<u64> {
        let v = self
            .admin(
                reqwest::Method::POST,
                "/_sim/orders",
                Some(json!({"count": count, "status": status})),
            )
            .await;
        v["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|i| i.as_u64().expect("id"))
            .collect()
    }
}

/// Polls `check` until it returns `Some`, or fails after `deadline`.
async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn over_http_every_call_is_signed_with_oauth_and_accepted() {
    let sim = Sim::start(false, woo_sim::Seed::builtin().with_shipment_tracking(true)).await;
    let client = sim.client();
    assert_eq!(client.auth_mode(), AuthMode::OAuth1);

    let index = client.rest_index().await.expect("index");
    assert!(index.has_namespace("wc/v3"));
    assert!(index.has_namespace(RestIndex::SHIPMENT_TRACKING));

    assert_eq!(
        client.weight_unit().await.expect("weight unit"),
        WeightUnit::Kg
    );

    // Products by include= (a comma list, which OAuth must sign double-encoded), variation id 15
    // and an unknown id simply absent.
    let products = client
        .products_by_ids(&[11, 12, 14, 19, 15, 999_999])
        .await
        .expect("products");
    let mut ids: Vec<u64> = products.iter().map(|p| p.id).collect();
    ids.sort();
    assert_eq!(ids, vec![11, 12, 14, 19]);
    let by_id = |id| products.iter().find(|p| p.id == id).expect("product");
    assert_eq!(by_id(11).weight(), Some("0.3"));
    assert_eq!(by_id(14).kind, "variable");
    assert!(by_id(19).is_virtual);

    let mut variations = client.variations(14, &[15, 16]).await.expect("variations");
    variations.sort_by_key(|v| v.id);
    assert_eq!(variations.len(), 2);
    assert!(variations.iter().all(|v| v.parent_id == 14));
    assert_eq!(variations[0].weight(), Some("0.85"));
    assert_eq!(
        variations[1].weight(),
        Some("0.9"),
        "inherits the parent's weight"
    );
    assert_eq!(
        client
            .variations(14, &[])
            .await
            .expect("all variations")
            .len(),
        2
    );

    let order_id = sim.create_orders(1, "processing").await[0];
    let order = client.get_order(order_id).await.expect("order");
    assert_eq!(order.id, order_id);
    assert_eq!(order.status, OrderStatus::PROCESSING);
    assert!(!order.line_items.is_empty());
    assert!(order.date_created_gmt.is_some());

    let updated = client
        .update_order_meta(
            order_id,
            &[
                ("_trackingtech_status", json!("in_transit")),
                ("_trackingtech_tracking_id", json!("LMT, 1")),
            ],
        )
        .await
        .expect("meta");
    assert_eq!(updated.meta_str("_trackingtech_status"), Some("in_transit"));
    assert_eq!(
        client
            .get_order(order_id)
            .await
            .expect("again")
            .meta_str("_trackingtech_tracking_id"),
        Some("LMT, 1")
    );

    let completed = client
        .update_order_status(order_id, &OrderStatus::completed())
        .await
        .expect("status");
    assert_eq!(completed.status, OrderStatus::COMPLETED);

    let note = client
        .add_order_note(
            order_id,
            "TrackingTech: En tránsito — tracking LMT 1, 2",
            false,
        )
        .await
        .expect("note");
    assert!(!note.customer_note);
    let notes = client.list_order_notes(order_id).await.expect("notes");
    assert!(
        notes.iter().any(|n| n.id == note.id && n.note == note.note),
        "{notes:?}"
    );

    let tracking = client
        .add_shipment_tracking(order_id, "TrackingTech", "LMTCL201225HLSES")
        .await
        .expect("tracking");
    assert_eq!(tracking.tracking_number, "LMTCL201225HLSES");

    let missing = client.get_order(999_999).await.expect_err("no such order");
    assert!(missing.is_not_found(), "{missing:?}");
    assert_eq!(missing.class(), woocommerce::ErrorClass::Rejected);
}

#[tokio::test]
async fn wrong_secret_over_http_is_an_auth_error() {
    let sim = Sim::start(false, woo_sim::Seed::builtin()).await;
    let client = Client::new(
        &crate::http(crate::loopback_options()),
        StoreUrl::parse(&sim.handle.base_url()).expect("url"),
        Credentials::new(
            sim.handle.consumer_key(),
            "cs_0000000000000000000000000000000000000000",
        )
        .expect("creds"),
    );
    let err = client.get_order(1).await.expect_err("refused");
    assert_eq!(err.class(), woocommerce::ErrorClass::Auth, "{err:?}");
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn paging_through_250_orders_with_filters() {
    let sim = Sim::start(false, woo_sim::Seed::builtin()).await;
    let client = sim.client();
    let before = OffsetDateTime::now_utc() - Duration::from_secs(5);
    let created: HashSet<u64> = sim
        .create_orders(250, "processing")
        .await
        .into_iter()
        .collect();
    assert_eq!(created.len(), 250);

    let query = OrderQuery {
        status: vec!["processing".into()],
        ..OrderQuery::default()
    };
    let orders: Vec<_> = client
        .list_orders(&query)
        .try_collect()
        .await
        .expect("orders");
    let ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
    assert_eq!(ids.len(), 250, "no order twice, none missed");
    assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), created);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending by id");
    // The count comes from one small page's X-WP-Total, with the same filters.
    assert_eq!(client.count_orders(&query).await.expect("count"), Some(250));

    // A comma list of statuses; the seed's on-hold order comes along.
    let query = OrderQuery {
        status: vec!["processing".into(), "on-hold".into()],
        per_page: Some(37),
        ..OrderQuery::default()
    };
    let orders: Vec<_> = client
        .list_orders(&query)
        .try_collect()
        .await
        .expect("orders");
    assert!(orders.len() > 250, "{}", orders.len());
    assert!(
        orders
            .iter()
            .all(|o| o.status == "processing" || o.status == "on-hold")
    );

    // modified_after, in GMT.
    let recent = OrderQuery {
        status: vec!["processing".into()],
        modified_after: Some(before),
        ..OrderQuery::default()
    };
    assert_eq!(
        client
            .list_orders(&recent)
            .try_collect::<Vec<_>>()
            .await
            .expect("recent")
            .len(),
        250
    );
    let future = OrderQuery {
        modified_after: Some(OffsetDateTime::now_utc() + Duration::from_secs(3600)),
        ..OrderQuery::default()
    };
    assert_eq!(client.count_orders(&future).await.expect("count"), Some(0));
    assert_eq!(
        client
            .list_orders(&future)
            .try_collect::<Vec<_>>()
            .await
            .expect("future")
            .len(),
        0
    );
}

#[tokio::test]
async fn over_https_basic_auth_works() {
    let sim = Sim::start(true, woo_sim::Seed::builtin()).await;
    assert!(sim.handle.base_url().starts_with("https://"));
    let client = sim.client();
    assert_eq!(client.auth_mode(), AuthMode::Basic);
    let id = sim.create_orders(1, "processing").await[0];
    assert_eq!(client.get_order(id).await.expect("order").id, id);
    let orders: Vec<_> = client
        .list_orders(&OrderQuery {
            status: vec!["processing".into()],
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .expect("list");
    assert_eq!(orders.len(), 1);
    assert_eq!(client.weight_unit().await.expect("unit"), WeightUnit::Kg);
    assert_eq!(client.auth_mode(), AuthMode::Basic);
}

#[tokio::test]
async fn over_https_a_stripped_authorization_header_falls_back_to_query_keys() {
    let sim = Sim::start(true, woo_sim::Seed::builtin()).await;
    sim.admin(
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"strip_authorization": true})),
    )
    .await;
    let client = sim.client();
    let id = sim.create_orders(1, "processing").await[0];
    assert_eq!(
        client.get_order(id).await.expect("order via query keys").id,
        id
    );
    assert_eq!(client.auth_mode(), AuthMode::QueryString);
    let note = client
        .add_order_note(id, "hola", false)
        .await
        .expect("write via query keys");
    assert_eq!(note.note, "hola");
    let products = client.products_by_ids(&[11, 12]).await.expect("products");
    assert_eq!(products.len(), 2);
}

/// Webhook lifecycle, with a receiver that checks the ping and a signed delivery from the
/// simulator's own signer.
#[tokio::test]
async fn webhooks_create_deliver_verify_update_delete() {
    let sim = Sim::start(false, woo_sim::Seed::builtin()).await;
    let client = sim.client();
    let receiver = Server::http(|_r: &Recorded| Reply::Http {
        status: 200,
        headers: vec![],
        body: vec![],
    })
    .await;

    let secret = WebhookSecret::generate();
    let create = WebhookCreate {
        name: "ttwc test".into(),
        topic: "order.updated".into(),
        delivery_url: format!("{}/hooks/1", receiver.base_url),
        secret: secret.clone(),
    };
    let hook = client.create_webhook(&create).await.expect("create");
    assert_eq!(hook.topic, "order.updated");
    assert_eq!(hook.status, WebhookStatus::active());
    assert_eq!(hook.delivery_url, create.delivery_url);

    // The ping arrives (real WooCommerce sends it before answering the create).
    let ping = eventually(Duration::from_secs(10), "the ping", || {
        let reqs = receiver.requests();
        async move { reqs.into_iter().next() }
    })
    .await;
    let ping_headers = to_header_map(&ping);
    assert_eq!(
        webhook::classify(&ping_headers, &ping.body),
        Ok(Incoming::Ping {
            webhook_id: hook.id
        })
    );

    // An order change gives a signed delivery that verifies with our secret.
    let order_id = sim.create_orders(1, "processing").await[0];
    let (headers, body) = eventually(Duration::from_secs(10), "a delivery for the order", || {
        let reqs = receiver.requests();
        async move {
            reqs.into_iter().find_map(|r| {
                let headers = to_header_map(&r);
                match webhook::classify(&headers, &r.body) {
                    Ok(Incoming::Delivery(h)) => {
                        let order = webhook::parse_order(&r.body).ok()?;
                        (order.id == order_id).then_some((h, r.body))
                    }
                    _ => None,
                }
            })
        }
    })
    .await;
    assert_eq!(headers.webhook_id, hook.id);
    assert_eq!(headers.topic, "order.updated");
    assert_eq!(headers.source, format!("{}/", sim.handle.base_url()));
    assert_eq!(headers.verify(secret.as_bytes(), &body), Ok(()));
    assert_eq!(
        headers.verify(WebhookSecret::generate().as_bytes(), &body),
        Err(webhook::SignatureError::Mismatch)
    );

    let got = client.get_webhook(hook.id).await.expect("get");
    assert_eq!(got.id, hook.id);
    let paused = client
        .update_webhook_status(hook.id, &WebhookStatus::paused())
        .await
        .expect("pause");
    assert_eq!(paused.status, WebhookStatus::paused());
    let active = client
        .update_webhook_status(hook.id, &WebhookStatus::active())
        .await
        .expect("resume");
    assert!(active.status.is_active());
    let all = client.list_webhooks().await.expect("list");
    assert!(all.iter().any(|w| w.id == hook.id));

    let deleted = client.delete_webhook(hook.id).await.expect("delete");
    assert_eq!(deleted.id, hook.id);
    let gone = client.get_webhook(hook.id).await.expect_err("gone");
    assert!(gone.is_not_found(), "{gone:?}");
    assert!(
        client
            .delete_webhook(hook.id)
            .await
            .expect_err("already gone")
            .is_not_found()
    );
    assert!(
        client
            .list_webhooks()
            .await
            .expect("list")
            .iter()
            .all(|w| w.id != hook.id)
    );

    // Bad topic: WooCommerce's 400, classed rejected with its code.
    let bad = WebhookCreate {
        topic: "order.exploded".into(),
        ..create
    };
    let err = client
        .create_webhook(&bad)
        .await
        .expect_err("invalid topic");
    assert_eq!(err.class(), woocommerce::ErrorClass::Rejected);
    assert_eq!(
        err.code(),
        Some("woocommerce_rest_shop_webhook_invalid_topic")
    );
}

fn to_header_map(r: &Recorded) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in &r.headers {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(k.as_bytes()),
            reqwest::header::HeaderValue::from_str(v),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// The whole wc-auth handshake against the simulator, the merchant's browser played by hand:
/// our authorize URL is understood, the callback body parses into working keys, and the return
/// URL's query parses.
#[tokio::test]
async fn wc_auth_handshake_yields_working_keys() {
    use woocommerce::wc_auth::{self, AuthorizeRequest, CallbackBody, ReturnParams, Scope};

    let mut config = woo_sim::Config::new(woo_sim::Seed::builtin());
    // Our scripted receiver speaks plain http; real WooCommerce would insist on https.
    config.allow_http_callbacks = true;
    let handle = woo_sim::spawn(config).await.expect("woo-sim starts");
    let store = StoreUrl::parse(&handle.base_url()).expect("store url");
    let callback = Server::http(|_r: &Recorded| Reply::Http {
        status: 200,
        headers: vec![],
        body: vec![],
    })
    .await;

    let request = AuthorizeRequest {
        app_name: "ttwc & TrackingTech".into(),
        scope: Scope::ReadWrite,
        user_id: "conn-7f3a".into(),
        return_url: url::Url::parse("https://ttwc.example/connect/return?step=3").expect("url"),
        callback_url: url::Url::parse(&format!("{}/wc-auth/callback", callback.base_url))
            .expect("url"),
    };
    let authorize = wc_auth::authorize_url(&store, &request);

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let location = |r: &reqwest::Response| -> String {
        r.headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no Location on a {}", r.status()))
    };

    // Logged out: sent to the login page, with our five parameters carried along.
    let r = browser
        .get(authorize.clone())
        .send()
        .await
        .expect("authorize");
    assert!(r.status().is_redirection(), "{}", r.status());
    let login = location(&r);
    assert!(login.contains("/wc-auth/v1/login"), "{login}");
    let r = browser
        .post(&login)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("username=admin&password=admin1234")
        .send()
        .await
        .expect("login");
    assert!(r.status().is_redirection(), "{}", r.status());
    let cookie = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();
    let grant_page = browser
        .get(location(&r))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("grant page")
        .text()
        .await
        .expect("html");
    assert!(
        grant_page.contains("ttwc &amp; TrackingTech"),
        "{grant_page}"
    );
    let marker = grant_page
        .find("id=\"wc-auth-approve\"")
        .expect("approve link");
    let href_start = grant_page[..marker].rfind("href=\"").expect("href") + 6;
    let href_end = href_start + grant_page[href_start..].find('"').expect("href end");
    let approve = grant_page[href_start..href_end].replace("&amp;", "&");

    let r = browser
        .get(&approve)
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("approve");
    assert!(r.status().is_redirection(), "{}", r.status());
    let back = url::Url::parse(&location(&r)).expect("return url");
    assert_eq!(back.path(), "/connect/return");
    assert_eq!(
        ReturnParams::from_url(&back),
        Some(ReturnParams {
            success: true,
            user_id: "conn-7f3a".into()
        })
    );

    let posted = callback.requests();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].path, "/wc-auth/callback");
    let body = CallbackBody::parse(&posted[0].body).expect("callback body");
    assert_eq!(body.user_id, "conn-7f3a");
    assert_eq!(body.key_permissions, Scope::ReadWrite);

    // The keys work.
    let client = Client::new(
        &crate::http(crate::loopback_options()),
        store,
        body.credentials.clone(),
    );
    assert_eq!(
        client
            .weight_unit()
            .await
            .expect("weight unit with the new key"),
        WeightUnit::Kg
    );
    handle.shutdown().await;
}

/// Each broken certificate woo-sim can serve is named, through the error's causes, as what it
/// is; a good one is not named at all.
#[tokio::test]
async fn certificate_problems_are_named() {
    use woocommerce::CertProblem;
    for (fault, expected) in [
        (Some(woo_sim::TlsFault::Expired), Some(CertProblem::Expired)),
        (
            Some(woo_sim::TlsFault::WrongHost),
            Some(CertProblem::WrongHost),
        ),
        (
            Some(woo_sim::TlsFault::UnknownIssuer),
            Some(CertProblem::UnknownIssuer),
        ),
        (None, None),
    ] {
        let mut config = woo_sim::Config::new(woo_sim::Seed::builtin());
        config.tls = true;
        config.tls_fault = fault;
        let handle = woo_sim::spawn(config).await.expect("woo-sim starts");
        let options = HttpOptions {
            extra_root_cert_pem: handle
                .cert_pem_path()
                .map(|p| std::fs::read(p).expect("cert.pem")),
            ..crate::loopback_options()
        };
        let store = StoreUrl::parse(&handle.base_url()).expect("url");
        let client = Client::anonymous(&crate::http(options), store);
        match client.rest_index().await {
            Ok(index) => {
                assert_eq!(expected, None, "{fault:?} went unnoticed");
                assert_eq!(index.home.as_deref(), Some(handle.base_url().as_str()));
            }
            Err(e) => {
                let mut chain = format!("{e:?}");
                let mut next = std::error::Error::source(&e);
                while let Some(s) = next {
                    chain.push_str(&format!("\n  caused by {s:?}"));
                    next = s.source();
                }
                assert_eq!(e.cert_problem(), expected, "{fault:?}: {chain}");
            }
        }
        handle.shutdown().await;
    }
}
