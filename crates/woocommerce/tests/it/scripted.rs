//! The client against a scripted local server: authentication, error classes, bad bodies, paging.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use woocommerce::{
    AuthMode, BodyProblem, Client, Credentials, Error, ErrorClass, HttpOptions, OrderQuery,
    StoreUrl, TransportKind,
};

use crate::samples::sample;
use crate::server::{Recorded, Reply, Server};

const CK: &str = "ck_0123456789abcdef0123456789abcdef01234567";
const CS: &str = "cs_fedcba9876543210fedcba9876543210fedcba98";

fn client_for(server: &Server) -> Client {
    client_with(server, crate::loopback_options())
}

fn client_with(server: &Server, mut options: HttpOptions) -> Client {
    options.extra_root_cert_pem = server.cert_pem.clone();
    Client::new(
        &crate::http(options),
        StoreUrl::parse(&server.base_url).expect("store url"),
        Credentials::new(CK, CS).expect("credentials"),
    )
}

fn order_body() -> Value {
    sample("order-get.json")["body"].clone()
}

fn anonymous_401() -> Reply {
    Reply::json(401, &sample("error-anonymous-list-orders.json")["body"])
}

fn basic_header() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CK}:{CS}"))
    )
}

#[tokio::test]
async fn https_uses_basic_auth_and_no_keys_in_the_url() {
    let server = Server::https(|r| {
        if r.header("authorization").is_some() {
            Reply::json(200, &order_body())
        } else {
            anonymous_401()
        }
    })
    .await;
    let client = client_for(&server);
    assert_eq!(client.auth_mode(), AuthMode::Basic);
    let order = client.get_order(105).await.expect("order");
    assert_eq!(order.id, 105);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/wp-json/wc/v3/orders/105");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(basic_header().as_str())
    );
    assert!(reqs[0].query.is_empty(), "{:?}", reqs[0].query);
    assert_eq!(client.auth_mode(), AuthMode::Basic);
}

/// The host strips `Authorization`: the store sees an anonymous request and answers 401, while
/// query-string keys get through.
#[tokio::test]
async fn https_falls_back_to_query_keys_once_and_remembers() {
    let server = Server::https(|r| {
        if r.param("consumer_key") == Some(CK) && r.param("consumer_secret") == Some(CS) {
            Reply::json(200, &order_body())
        } else {
            anonymous_401()
        }
    })
    .await;
    let client = client_for(&server);
    let order = client.get_order(105).await.expect("order after fallback");
    assert_eq!(order.id, 105);
    assert_eq!(client.auth_mode(), AuthMode::QueryString);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(reqs[0].header("authorization").is_some());
    assert!(reqs[0].param("consumer_key").is_none());
    assert!(reqs[1].header("authorization").is_none());

    // A clone shares what was learned; the next call goes straight to query keys.
    let clone = client.clone();
    clone.get_order(105).await.expect("second order");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[2].header("authorization").is_none());
    assert_eq!(reqs[2].param("consumer_key"), Some(CK));
}

#[tokio::test]
async fn https_wrong_keys_are_an_auth_error_after_one_retry() {
    let server =
        Server::https(|_| Reply::json(401, &sample("error-oauth-wrong-secret.json")["body"])).await;
    let client = client_for(&server);
    let err = client.get_order(105).await.expect_err("refused");
    assert_eq!(err.class(), ErrorClass::Auth);
    assert_eq!(err.code(), Some("woocommerce_rest_authentication_error"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        client.auth_mode(),
        AuthMode::Basic,
        "query keys did not work: keep Basic"
    );
    // The secret never shows in the error.
    assert!(!format!("{err} {err:?}").contains(CS));
}

#[tokio::test]
async fn http_requests_carry_fresh_oauth_parameters_and_no_basic_auth() {
    let server = Server::http(|_| Reply::json(200, &order_body())).await;
    let client = client_for(&server);
    assert_eq!(client.auth_mode(), AuthMode::OAuth1);
    client.get_order(105).await.expect("first");
    client.get_order(105).await.expect("second");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("now")
        .as_secs();
    for r in &reqs {
        assert!(r.header("authorization").is_none());
        assert!(r.param("consumer_secret").is_none());
        assert_eq!(r.param("oauth_consumer_key"), Some(CK));
        assert_eq!(r.param("oauth_signature_method"), Some("HMAC-SHA256"));
        let nonce = r.param("oauth_nonce").expect("nonce");
        assert!(nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
        let ts: u64 = r
            .param("oauth_timestamp")
            .expect("timestamp")
            .parse()
            .expect("number");
        assert!(ts.abs_diff(now) < 60);
        let sig = r.param("oauth_signature").expect("signature");
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(sig)
                .expect("b64")
                .len(),
            32
        );
    }
    assert_ne!(reqs[0].param("oauth_nonce"), reqs[1].param("oauth_nonce"));
}

/// Three pages; the `Link` header points somewhere that must never be requested.
#[tokio::test]
async fn paging_builds_and_signs_each_page_and_ignores_link() {
    let server = Server::http(|r| {
        if r.path != "/wp-json/wc/v3/orders" {
            return Reply::json(
                404,
                &json!({"code": "rest_no_route", "message": "No route", "data": {"status": 404}}),
            );
        }
        let page: u64 = r.param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let per_page: u64 = r
            .param("per_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(10);
        // A full last page: only X-WP-TotalPages tells the client to stop there.
        let total = 6u64;
        let first = (page - 1) * per_page + 1;
        let last = (page * per_page).min(total);
        let items: Vec<Value> = (first..=last)
            .map(|id| json!({"id": id, "status": "processing", "line_items": []}))
            .collect();
        Reply::json(200, &Value::Array(items))
            .with_header("X-WP-Total", &total.to_string())
            .with_header("X-WP-TotalPages", &total.div_ceil(per_page).to_string())
            .with_header("Link", "</never-follow-me?page=2>; rel=\"next\"")
    })
    .await;
    let client = client_for(&server);
    let modified_after = time::macros::datetime!(2026-11-27 05:00:00 -3);
    let query = OrderQuery {
        status: vec!["processing".into(), "on-hold".into()],
        modified_after: Some(modified_after),
        per_page: Some(2),
        ..OrderQuery::default()
    };
    let orders: Vec<_> = client
        .list_orders(&query)
        .try_collect()
        .await
        .expect("orders");
    assert_eq!(
        orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );

    let reqs = server.requests();
    assert_eq!(
        reqs.len(),
        3,
        "{:?}",
        reqs.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let nonces: HashSet<&str> = reqs.iter().filter_map(|r| r.param("oauth_nonce")).collect();
    assert_eq!(nonces.len(), 3, "every page has its own nonce");
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(r.path, "/wp-json/wc/v3/orders");
        assert_eq!(r.param("page"), Some((i + 1).to_string().as_str()));
        assert_eq!(r.param("per_page"), Some("2"));
        assert_eq!(r.param("status"), Some("processing,on-hold"));
        assert_eq!(r.param("modified_after"), Some("2026-11-27T08:00:00"));
        assert_eq!(r.param("dates_are_gmt"), Some("true"));
    }
}

#[tokio::test]
async fn paging_without_headers_stops_at_a_short_page() {
    // A plugin stripped X-WP-Total(Pages): a page shorter than per_page is the last one.
    let server = Server::http(|r| {
        let page: u64 = r.param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let items: Vec<Value> = match page {
            1 => (1..=3)
                .map(|id| json!({"id": id, "status": "processing"}))
                .collect(),
            2 => vec![json!({"id": 4, "status": "processing"})],
            _ => vec![json!({"id": 99, "status": "must-not-be-asked-for"})],
        };
        Reply::json(200, &Value::Array(items))
    })
    .await;
    let client = client_for(&server);
    let query = OrderQuery {
        per_page: Some(3),
        ..OrderQuery::default()
    };
    let orders: Vec<_> = client
        .list_orders(&query)
        .try_collect()
        .await
        .expect("orders");
    assert_eq!(
        orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(server.requests().len(), 2);

    // And `list_webhooks`, paged by 100, stops after one short page.
    let server = Server::http(|_| {
        Reply::json(
            200,
            &json!([{"id": 1, "status": "active", "topic": "order.updated"}]),
        )
    })
    .await;
    let hooks = client_for(&server).list_webhooks().await.expect("webhooks");
    assert_eq!(hooks.len(), 1);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_error_mid_stream_ends_the_stream_with_that_error() {
    let server = Server::http(|r| match r.param("page") {
        Some("1") => Reply::json(200, &json!([{"id": 1, "status": "processing"}]))
            .with_header("X-WP-TotalPages", "2"),
        _ => Reply::Http {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html>cache says hi</html>".to_vec(),
        },
    })
    .await;
    let client = client_for(&server);
    let results: Vec<Result<woocommerce::Order, Error>> =
        futures_util::StreamExt::collect(client.list_orders(&OrderQuery::default())).await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().expect("first").id, 1);
    assert!(matches!(
        results[1],
        Err(Error::InvalidResponse {
            problem: BodyProblem::NotJson,
            ..
        })
    ));
}

type Script = dyn Fn() -> Reply + Send + Sync;

/// One scripted answer per case, and the error class it must give.
#[tokio::test]
async fn error_answers_are_classified() {
    let html = |status: u16| Reply::Http {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=UTF-8".into())],
        body: b"<!DOCTYPE html><html><body>Ana Rojas, Av. Providencia 1234</body></html>".to_vec(),
    };
    let cases: Vec<(&str, Box<Script>)> = vec![
        (
            "401",
            Box::new(|| Reply::json(401, &sample("error-oauth-wrong-secret.json")["body"])),
        ),
        ("403", Box::new(move || html(403))),
        (
            "404",
            Box::new(|| Reply::json(404, &sample("error-order-not-found.json")["body"])),
        ),
        (
            "429",
            Box::new(|| {
                Reply::json(429, &json!({"code": "too_many", "message": "Slow down"}))
                    .with_header("Retry-After", "7")
            }),
        ),
        ("500", Box::new(move || html(500))),
        (
            "503",
            Box::new(|| Reply::json(503, &json!({})).with_header("Retry-After", "120")),
        ),
        ("408", Box::new(|| Reply::json(408, &json!({})))),
        ("html200", Box::new(move || html(200))),
        (
            "truncated200",
            Box::new(|| {
                let body = order_body().to_string();
                Reply::Http {
                    status: 200,
                    headers: vec![],
                    body: body.as_bytes()[..body.len() / 2].to_vec(),
                }
            }),
        ),
        (
            "wrongtypes",
            Box::new(|| Reply::json(200, &json!({"id": "Ana", "status": "processing"}))),
        ),
        (
            "short-body",
            Box::new(|| {
                Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{\"id\": 105, \"sta".to_vec())
            }),
        ),
        ("dropped", Box::new(|| Reply::Drop)),
        (
            "redirect",
            Box::new(|| {
                Reply::Http {
            status: 301,
            headers: vec![("Location".into(), "https://www.example.cl/wp-json/wc/v3/orders/105?oauth_nonce=x&consumer_secret=y".into())],
            body: vec![],
        }
            }),
        ),
    ];
    let names: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    let cases = Arc::new(cases);
    let current = Arc::new(AtomicUsize::new(0));
    let (c, i) = (cases.clone(), current.clone());
    let server = Server::http(move |_r: &Recorded| (c[i.load(Ordering::SeqCst)].1)()).await;
    let client = client_for(&server);

    for (index, name) in names.iter().enumerate() {
        current.store(index, Ordering::SeqCst);
        let err = client.get_order(105).await.expect_err(name);
        let shown = format!("{err}");
        assert!(
            !shown.contains("Ana") && !shown.contains(CS),
            "{name}: {shown}"
        );
        let transient = ErrorClass::Transient { retry_after: None };
        match *name {
            "401" => {
                assert_eq!(err.class(), ErrorClass::Auth);
                assert_eq!(
                    err.message(),
                    Some("Invalid signature - provided signature does not match.")
                );
            }
            "403" => {
                assert_eq!(err.class(), ErrorClass::Auth);
                assert_eq!(err.code(), None);
            }
            "404" => {
                assert_eq!(err.class(), ErrorClass::Rejected);
                assert_eq!(err.code(), Some("woocommerce_rest_shop_order_invalid_id"));
                assert_eq!(err.message(), Some("Invalid ID."));
                assert!(err.is_not_found());
            }
            "429" => {
                assert_eq!(
                    err.class(),
                    ErrorClass::Transient {
                        retry_after: Some(Duration::from_secs(7))
                    }
                );
                assert_eq!(err.code(), Some("too_many"));
            }
            "503" => assert_eq!(
                err.class(),
                ErrorClass::Transient {
                    retry_after: Some(Duration::from_secs(120))
                }
            ),
            "500" | "408" => {
                assert_eq!(err.class(), transient);
                assert_eq!(err.status(), Some(name.parse().expect("status")));
            }
            "html200" => {
                assert!(
                    matches!(
                        err,
                        Error::InvalidResponse {
                            problem: BodyProblem::NotJson,
                            ..
                        }
                    ),
                    "{err:?}"
                );
                assert!(shown.contains("text/html"), "{shown}");
                assert_eq!(err.class(), transient);
            }
            "truncated200" => {
                assert!(
                    matches!(
                        err,
                        Error::InvalidResponse {
                            problem: BodyProblem::Truncated,
                            ..
                        }
                    ),
                    "{err:?}"
                );
                assert_eq!(err.class(), transient);
            }
            "wrongtypes" => {
                assert!(
                    matches!(
                        err,
                        Error::InvalidResponse {
                            problem: BodyProblem::UnexpectedShape { .. },
                            ..
                        }
                    ),
                    "{err:?}"
                );
                assert_eq!(err.class(), transient);
            }
            "short-body" => {
                assert!(
                    matches!(
                        err,
                        Error::Transport {
                            kind: TransportKind::Body,
                            ..
                        }
                    ),
                    "{err:?}"
                );
                assert_eq!(err.class(), transient);
            }
            "dropped" => {
                assert!(matches!(err, Error::Transport { .. }), "{err:?}");
                assert_eq!(err.class(), transient);
            }
            "redirect" => {
                assert_eq!(err.class(), ErrorClass::Rejected);
                match &err {
                    Error::Redirected {
                        status: 301,
                        location: Some(l),
                    } => {
                        assert_eq!(l, "https://www.example.cl")
                    }
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("unhandled case {other}"),
        }
    }
    // One request per case: no retries inside the client over http, and no redirect followed.
    assert_eq!(server.requests().len(), names.len());
}

#[tokio::test]
async fn php_notice_before_json_is_read_through() {
    let server = Server::http(|_| {
        let mut body = b"<br />\n<b>Deprecated</b>:  Creation of dynamic property is deprecated in <b>/var/www/html/wp-content/plugins/x/x.php</b> on line <b>12</b><br />\n".to_vec();
        body.extend_from_slice(order_body().to_string().as_bytes());
        Reply::Http { status: 200, headers: vec![("Content-Type".into(), "application/json".into())], body }
    })
    .await;
    let order = client_for(&server).get_order(105).await.expect("recovered");
    assert_eq!(order.id, 105);
}

#[tokio::test]
async fn a_store_that_never_answers_times_out() {
    let server = Server::http(|_| Reply::Hang).await;
    let options = HttpOptions {
        timeout: Duration::from_millis(300),
        ..crate::loopback_options()
    };
    let err = client_with(&server, options)
        .get_order(105)
        .await
        .expect_err("timeout");
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Transient { retry_after: None });
}

#[tokio::test]
async fn nothing_listening_is_a_transient_connect_error() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = Client::new(
        &crate::http(crate::loopback_options()),
        StoreUrl::parse(&format!("http://127.0.0.1:{port}")).expect("url"),
        Credentials::new(CK, CS).expect("creds"),
    );
    let err = client.get_order(1).await.expect_err("refused");
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Transient { retry_after: None });
}

/// Each captured error answer, served as the store served it, becomes the matching typed error.
#[tokio::test]
async fn sample_errors_become_typed_errors() {
    for (name, class) in [
        ("error-anonymous-list-orders.json", ErrorClass::Auth),
        ("error-oauth-wrong-secret.json", ErrorClass::Auth),
        ("error-order-not-found.json", ErrorClass::Rejected),
        ("error-webhook-invalid-topic.json", ErrorClass::Rejected),
    ] {
        let v = sample(name);
        let status = v["status"].as_u64().expect("status") as u16;
        let body = v["body"].clone();
        let server = Server::http(move |_| Reply::json(status, &body)).await;
        let err = client_for(&server).get_webhook(6).await.expect_err(name);
        assert_eq!(err.class(), class, "{name}");
        assert_eq!(err.status(), Some(status), "{name}");
        assert_eq!(err.code(), v["body"]["code"].as_str(), "{name}");
        assert_eq!(err.message(), v["body"]["message"].as_str(), "{name}");
    }
}

/// The calls' requests as WooCommerce expects them: path, method, query and JSON body, each
/// answered with the captured sample.
#[tokio::test]
async fn calls_send_what_woocommerce_expects() {
    let server = Server::http(|r| {
        let s = |name: &str| Reply::json(200, &sample(name)["body"]);
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/wp-json/") => Reply::json(200, &sample("rest-index-namespaces.json")),
            ("GET", "/wp-json/wc/v3/products") => s("products-include.json"),
            ("GET", "/wp-json/wc/v3/products/102/variations") => s("product-variations.json"),
            ("GET", "/wp-json/wc/v3/settings/products/woocommerce_weight_unit") => s("setting-weight-unit.json"),
            ("PUT", "/wp-json/wc/v3/orders/105") => s("order-get.json"),
            ("POST", "/wp-json/wc/v3/orders/105/notes") => s("order-note-create-response.json"),
            ("GET", "/wp-json/wc/v3/orders/105/notes") => s("order-notes-list.json"),
            ("POST", "/wp-json/wc/v3/webhooks") => s("webhook-create-response.json"),
            ("PUT" | "GET" | "DELETE", "/wp-json/wc/v3/webhooks/6") => s("webhook-get.json"),
            ("POST", "/wp-json/wc-shipment-tracking/v3/orders/105/shipment-trackings") => Reply::json(
                201,
                &json!({"tracking_id": "abc", "tracking_provider": "", "custom_tracking_provider": "Starken", "tracking_number": "LMT1", "tracking_link": "", "date_shipped": "1795768003"}),
            ),
            _ => Reply::json(404, &json!({"code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": {"status": 404}})),
        }
    })
    .await;
    let client = client_for(&server);

    let index = client.rest_index().await.expect("index");
    assert!(index.has_namespace("wc/v3"));

    let ids: Vec<u64> = (1..=150).chain([100, 0]).collect();
    let products = client.products_by_ids(&ids).await.expect("products");
    assert_eq!(products.len(), 6, "the sample's 3 products, once per batch");

    let variations = client
        .variations(102, &[104, 103])
        .await
        .expect("variations");
    assert_eq!(variations.len(), 2);
    assert_eq!(
        client.weight_unit().await.expect("unit"),
        woocommerce::WeightUnit::Kg
    );

    client
        .update_order_meta(
            105,
            &[
                ("_trackingtech_status", json!("in_transit")),
                ("_old", Value::Null),
            ],
        )
        .await
        .expect("meta");
    client
        .update_order_status(105, &woocommerce::OrderStatus::completed())
        .await
        .expect("status");
    let note = client
        .add_order_note(105, "TrackingTech: En tránsito", false)
        .await
        .expect("note");
    assert_eq!(note.id, 12);
    assert_eq!(client.list_order_notes(105).await.expect("notes").len(), 2);

    let secret = woocommerce::WebhookSecret::new("sampleSecret123").expect("secret");
    let create = woocommerce::WebhookCreate {
        name: "ttwc".into(),
        topic: "order.updated".into(),
        delivery_url: "https://ttwc.example/hooks/1".into(),
        secret,
    };
    assert_eq!(client.create_webhook(&create).await.expect("create").id, 6);
    assert_eq!(client.get_webhook(6).await.expect("get").id, 6);
    client
        .update_webhook_status(6, &woocommerce::WebhookStatus::active())
        .await
        .expect("update");
    client.delete_webhook(6).await.expect("delete");
    let tracking = client
        .add_shipment_tracking(105, "Starken", "LMT1")
        .await
        .expect("tracking");
    assert_eq!(tracking.tracking_number, "LMT1");

    let reqs = server.requests();
    let body = |r: &Recorded| -> Value { serde_json::from_slice(&r.body).expect("json body") };
    let mut it = reqs.iter();
    let r = it.next().expect("index");
    assert_eq!(
        r.param("_fields"),
        Some("namespaces,home,url,timezone_string,gmt_offset")
    );
    assert!(
        r.param("oauth_signature").is_none(),
        "the index is asked anonymously"
    );
    for expected in [
        (1..=100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(","),
        (101..=150)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(","),
    ] {
        let r = it.next().expect("products");
        assert_eq!(r.param("include"), Some(expected.as_str()));
        assert_eq!(r.param("per_page"), Some("100"));
    }
    let r = it.next().expect("variations");
    assert_eq!(r.param("include"), Some("103,104"));
    it.next().expect("weight unit");
    let r = it.next().expect("meta");
    assert_eq!(
        body(r),
        json!({"meta_data": [{"key": "_trackingtech_status", "value": "in_transit"}, {"key": "_old", "value": null}]})
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        body(it.next().expect("status")),
        json!({"status": "completed"})
    );
    assert_eq!(
        body(it.next().expect("note")),
        json!({"note": "TrackingTech: En tránsito", "customer_note": false})
    );
    it.next().expect("notes");
    let r = it.next().expect("create webhook");
    assert_eq!(
        body(r),
        json!({"name": "ttwc", "topic": "order.updated", "delivery_url": "https://ttwc.example/hooks/1", "secret": "sampleSecret123", "status": "active"})
    );
    assert_eq!(it.next().expect("get webhook").method, "GET");
    let r = it.next().expect("update webhook");
    assert_eq!(
        (r.method.as_str(), body(r)),
        ("PUT", json!({"status": "active"}))
    );
    let r = it.next().expect("delete webhook");
    assert_eq!(
        (r.method.as_str(), r.param("force")),
        ("DELETE", Some("true"))
    );
    let r = it.next().expect("tracking");
    assert_eq!(
        body(r),
        json!({"custom_tracking_provider": "Starken", "tracking_number": "LMT1"})
    );
    assert!(it.next().is_none());
}

/// The wizard's first probe: an anonymous client reads the REST index, and a call that needs
/// keys goes out with none (no header, no query keys, no OAuth parameters) and is refused.
#[tokio::test]
async fn an_anonymous_client_reads_the_index_and_sends_no_keys() {
    let server = Server::https(|r| match r.path.as_str() {
        "/wp-json/" => Reply::json(200, &sample("rest-index-namespaces.json")),
        _ => anonymous_401(),
    })
    .await;
    let options = HttpOptions {
        extra_root_cert_pem: server.cert_pem.clone(),
        ..crate::loopback_options()
    };
    let client = Client::anonymous(
        &crate::http(options),
        StoreUrl::parse(&server.base_url).expect("store url"),
    );
    let index = client.rest_index().await.expect("index");
    assert!(index.has_namespace("wc/v3"));
    let refused = client.get_order(105).await.expect_err("needs keys");
    assert_eq!(refused.class(), ErrorClass::Auth, "{refused}");
    let reqs = server.requests();
    assert!(reqs.len() >= 2, "{reqs:?}");
    for r in &reqs {
        assert_eq!(r.header("authorization"), None, "{}", r.path);
        assert!(
            r.query
                .iter()
                .all(|(k, _)| !k.starts_with("consumer_") && !k.starts_with("oauth_")),
            "{}: {:?}",
            r.path,
            r.query
        );
    }
}
