//! Webhook deliveries: signature, delivery ids, collapsing, pings, disabling, URL policy.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

async fn sim_webhook(h: &woo_sim::Handle, id: u64) -> Value {
    let (_, list) = admin(h, "GET", "/_sim/webhooks", None).await;
    list.as_array()
        .and_then(|l| l.iter().find(|w| w["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn signature_and_delivery_ids() {
    let h = sim().await;
    let r = receiver().await;
    let secret = "s3cretAlnum42";
    let id = create_webhook(&h, "order.created", &r.url(), secret).await;
    let (s, body) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 4}))).await;
    assert_eq!(s, 201, "{body}");
    let got = eventually(5, "4 deliveries", || {
        let d = r.deliveries();
        (d.len() == 4).then_some(d)
    })
    .await;
    for d in &got {
        assert_eq!(
            d.header("x-wc-webhook-signature"),
            hmac_sha256_b64(secret, &d.body)
        );
        assert_eq!(d.header("x-wc-webhook-topic"), "order.created");
        assert_eq!(d.header("x-wc-webhook-resource"), "order");
        assert_eq!(d.header("x-wc-webhook-event"), "created");
        assert_eq!(d.header("x-wc-webhook-id"), id.to_string());
        let dl = d.header("x-wc-webhook-delivery-id");
        assert!(
            dl.len() == 32 && dl.bytes().all(|b| b.is_ascii_hexdigit()),
            "{dl}"
        );
        let payload: Value = serde_json::from_slice(&d.body).expect("json");
        assert!(payload["_links"]["self"].is_array());
    }
    // Deliveries within one second share the id; the log tells which second each ran in.
    let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
    let log: Vec<Value> = log
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d["ping"] == false)
        .collect();
    assert_eq!(log.len(), 4);
    let mut compared = 0;
    for a in &log {
        for b in &log {
            if a["time"] == b["time"] {
                assert_eq!(a["delivery_id"], b["delivery_id"]);
                compared += 1;
            } else {
                assert_ne!(a["delivery_id"], b["delivery_id"]);
            }
        }
    }
    assert!(
        compared > 4,
        "at least two deliveries ran in the same second: {log:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn updates_before_delivery_collapse_into_one() {
    let h = sim_with(|c| c.delivery_delay = Duration::from_millis(500)).await;
    let r = receiver().await;
    create_webhook(&h, "order.updated", &r.url(), "abc").await;
    let (s, ids) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    let id = ids["ids"][0].as_u64().expect("id");
    let path = format!("/wp-json/wc/v3/orders/{id}");
    for (i, status) in ["on-hold", "processing"].iter().enumerate() {
        let (s, _) = send_json(
            &h,
            "PUT",
            &path,
            &[],
            &json!({"status": status, "meta_data": [{"key": "_step", "value": i}]}),
        )
        .await;
        assert_eq!(s, 200);
    }
    let first = eventually(5, "a delivery", || r.deliveries().into_iter().next()).await;
    let payload: Value = serde_json::from_slice(&first.body).expect("json");
    assert_eq!(payload["status"], "processing", "rendered at delivery time");
    assert_eq!(payload["meta_data"][0]["value"], 1);
    // A later save is a new delivery.
    let (s, _) = admin(
        &h,
        "POST",
        &format!("/_sim/orders/{id}/status"),
        Some(json!({"status": "completed"})),
    )
    .await;
    assert_eq!(s, 200);
    let both = eventually(5, "a second delivery", || {
        let d = r.deliveries();
        (d.len() == 2).then_some(d)
    })
    .await;
    let payload: Value = serde_json::from_slice(&both[1].body).expect("json");
    assert_eq!(payload["status"], "completed");
    h.shutdown().await;
}

#[tokio::test]
async fn created_and_updated_topics_and_checkout_drafts() {
    let h = sim().await;
    let created = receiver().await;
    let updated = receiver().await;
    create_webhook(&h, "order.created", &created.url(), "a").await;
    create_webhook(&h, "order.updated", &updated.url(), "b").await;
    // REST creation: order.created and the follow-up save's order.updated.
    let (s, o) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/orders",
        &[],
        &json!({"line_items": [{"product_id": 12}]}),
    )
    .await;
    assert_eq!(s, 201);
    eventually(5, "created", || {
        (created.deliveries().len() == 1).then_some(())
    })
    .await;
    eventually(5, "updated", || {
        (updated.deliveries().len() == 1).then_some(())
    })
    .await;
    // A note does not save the order: no webhook.
    let (s, _) = send_json(
        &h,
        "POST",
        &format!("/wp-json/wc/v3/orders/{}/notes", o["id"]),
        &[],
        &json!({"note": "hola"}),
    )
    .await;
    assert_eq!(s, 201);
    // Checkout drafts reach order.updated but never order.created.
    let (s, _) = admin(
        &h,
        "POST",
        "/_sim/orders",
        Some(json!({"count": 1, "status": "checkout-draft"})),
    )
    .await;
    assert_eq!(s, 201);
    eventually(5, "draft updated", || {
        (updated.deliveries().len() == 2).then_some(())
    })
    .await;
    let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
    let created_count = log.as_array().map(|l| {
        l.iter()
            .filter(|d| d["topic"] == "order.created" && d["ping"] == false)
            .count()
    });
    assert_eq!(created_count, Some(1));
    assert_eq!(created.deliveries().len(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn ping_inside_create_and_repinged_until_200() {
    let h = sim().await;
    let r = receiver().await;
    r.ping_status.store(500, Ordering::SeqCst);
    let id = create_webhook(&h, "order.updated", &r.url(), "x").await;
    // The ping arrived before the 201 came back.
    assert_eq!(r.pings().len(), 1);
    assert_eq!(sim_webhook(&h, id).await["pending_delivery"], true);
    // The save after a delivery pings again while pending; a 200 clears it.
    r.ping_status.store(200, Ordering::SeqCst);
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    eventually(5, "re-ping", || (r.pings().len() == 2).then_some(())).await;
    let mut cleared = false;
    for _ in 0..200 {
        if sim_webhook(&h, id).await["pending_delivery"] == false {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cleared, "pending_delivery cleared by a 200 ping");
    // No more pings once cleared.
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    eventually(5, "2nd delivery", || {
        (r.deliveries().len() >= 2).then_some(())
    })
    .await;
    let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
    assert_eq!(
        log.as_array()
            .map(|l| l.iter().filter(|d| d["ping"] == true).count()),
        Some(2)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn seventh_failure_disables_and_put_active_reenables() {
    let h = sim().await;
    let r = receiver().await;
    r.delivery_status.store(500, Ordering::SeqCst);
    let id = create_webhook(&h, "order.created", &r.url(), "x").await;
    for n in 1..=7u64 {
        let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
        assert_eq!(s, 201);
        eventually(5, "failed delivery", || {
            (r.deliveries().len() as u64 == n).then_some(())
        })
        .await;
        let mut state = Value::Null;
        for _ in 0..200 {
            state = sim_webhook(&h, id).await;
            let settled = if n < 7 {
                state["failure_count"] == n
            } else {
                state["status"] == "disabled"
            };
            if settled {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if n < 7 {
            assert_eq!(state["status"], "active", "still active after {n} failures");
            assert_eq!(state["failure_count"], n);
        } else {
            assert_eq!(state["status"], "disabled", "disabled on the 7th failure");
        }
    }
    let (_, _, got) = get_json(&h, &format!("/wp-json/wc/v3/webhooks/{id}"), &[]).await;
    assert_eq!(got["status"], "disabled");
    // Disabled: nothing more is delivered.
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    // Re-enable through REST: the failure count is not reset.
    let (s, body) = send_json(
        &h,
        "PUT",
        &format!("/wp-json/wc/v3/webhooks/{id}"),
        &[],
        &json!({"status": "active"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body["status"], "active");
    assert_eq!(r.deliveries().len(), 7, "no delivery while disabled");
    assert_eq!(sim_webhook(&h, id).await["failure_count"], 6);
    // One more failure disables it again; a success resets the count.
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    eventually(5, "8th delivery", || {
        (r.deliveries().len() == 8).then_some(())
    })
    .await;
    let mut state = Value::Null;
    for _ in 0..200 {
        state = sim_webhook(&h, id).await;
        if state["status"] == "disabled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state["status"], "disabled");
    h.shutdown().await;
}

#[tokio::test]
async fn success_resets_failures_and_3xx_counts_as_success() {
    let h = sim().await;
    let r = receiver().await;
    r.delivery_status.store(404, Ordering::SeqCst);
    let id = create_webhook(&h, "order.created", &r.url(), "x").await;
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    eventually(5, "failure", || (r.deliveries().len() == 1).then_some(())).await;
    r.delivery_status.store(302, Ordering::SeqCst);
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    eventually(5, "second", || (r.deliveries().len() == 2).then_some(())).await;
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
        last = log
            .as_array()
            .and_then(|l| l.iter().rev().find(|d| d["ping"] == false).cloned())
            .unwrap_or_default();
        if last["response_code"] == 302 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(last["success"], true, "302 is a success: {last}");
    assert_eq!(sim_webhook(&h, id).await["failure_count"], 0);
    h.shutdown().await;
}

#[tokio::test]
async fn paused_deliveries_are_dropped() {
    let h = sim().await;
    let r = receiver().await;
    let id = create_webhook(&h, "order.created", &r.url(), "x").await;
    let (s, _) = admin(
        &h,
        "PUT",
        "/_sim/faults",
        Some(json!({"webhooks_paused": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 2}))).await;
    assert_eq!(s, 201);
    let mut dropped = 0;
    for _ in 0..300 {
        let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
        dropped = log
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|d| d["error"] == "dropped: webhooks_paused" && d["webhook_id"] == id)
                    .count()
            })
            .unwrap_or(0);
        if dropped == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(dropped, 2);
    assert!(r.deliveries().is_empty(), "nothing sent while paused");
    assert_eq!(sim_webhook(&h, id).await["failure_count"], 0);
    // Resumed: new saves are delivered again.
    let (s, _) = admin(&h, "DELETE", "/_sim/faults", None).await;
    assert_eq!(s, 204);
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    eventually(5, "delivery after resume", || {
        (r.deliveries().len() == 1).then_some(())
    })
    .await;
    h.shutdown().await;
}

#[tokio::test]
async fn strict_urls_refuse_loopback_as_failed_delivery() {
    let h = sim_with(|c| c.strict_urls = true).await;
    let r = receiver().await;
    let id = create_webhook(&h, "order.created", &r.url(), "x").await;
    assert!(r.all().is_empty(), "the ping was refused, not sent");
    let (s, _) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    let mut entry = Value::Null;
    for _ in 0..300 {
        let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
        if let Some(d) = log
            .as_array()
            .and_then(|l| l.iter().find(|d| d["ping"] == false).cloned())
        {
            entry = d;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(entry["success"], false);
    assert_eq!(entry["error"], "A valid URL was not provided.");
    assert!(r.all().is_empty());
    assert_eq!(sim_webhook(&h, id).await["failure_count"], 1);
    h.shutdown().await;
}

#[tokio::test]
async fn webhook_crud() {
    let h = sim().await;
    let r = receiver().await;
    let id = create_webhook(&h, "order.updated", &r.url(), "x").await;
    let (s, _, list) = get_json(&h, "/wp-json/wc/v3/webhooks", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let path = format!("/wp-json/wc/v3/webhooks/{id}");
    let (s, body) = send_json(
        &h,
        "PUT",
        &path,
        &[],
        &json!({"status": "paused", "name": "renamed"}),
    )
    .await;
    assert_eq!(
        (s, body["status"].as_str(), body["name"].as_str()),
        (200, Some("paused"), Some("renamed"))
    );
    let (s, body) = send_json(&h, "PUT", &path, &[], &json!({"status": "sleeping"})).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (400, Some("woocommerce_rest_webhook_invalid_status"))
    );
    let (s, body) = send_json(&h, "DELETE", &path, &[], &json!({})).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (501, Some("woocommerce_rest_trash_not_supported"))
    );
    let (s, body) = send_json(&h, "DELETE", &path, &[("force", "true")], &json!({})).await;
    assert_eq!((s, body["id"].as_u64()), (200, Some(id)));
    let (s, _, body) = get_json(&h, &path, &[]).await;
    assert_eq!(
        (s, body["code"].as_str(), body["message"].as_str()),
        (
            400,
            Some("woocommerce_rest_shop_webhook_invalid_id"),
            Some("ID is invalid.")
        )
    );
    // Other valid topics are accepted, invalid ones refused.
    for topic in [
        "product.updated",
        "customer.created",
        "coupon.deleted",
        "order.restored",
        "action.woocommerce_new_order",
    ] {
        let (s, body) = send_json(
            &h,
            "POST",
            "/wp-json/wc/v3/webhooks",
            &[],
            &json!({"topic": topic, "delivery_url": r.url()}),
        )
        .await;
        assert_eq!(s, 201, "{topic}: {body}");
    }
    for topic in ["order.shipped", "invoice.created", "action.save_post", ""] {
        let (s, body) = send_json(
            &h,
            "POST",
            "/wp-json/wc/v3/webhooks",
            &[],
            &json!({"topic": topic, "delivery_url": r.url()}),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (400, Some("woocommerce_rest_shop_webhook_invalid_topic")),
            "{topic}"
        );
    }
    let (s, body) = send_json(
        &h,
        "POST",
        "/wp-json/wc/v3/webhooks",
        &[],
        &json!({"topic": "order.created", "delivery_url": "ftp://x"}),
    )
    .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (
            400,
            Some("woocommerce_rest_shop_webhook_invalid_delivery_url")
        )
    );
    h.shutdown().await;
}

/// A receiver that answers pings at once and holds every delivery until the test lets one go:
/// (its URL, how many deliveries arrived, the gate to open).
async fn holding_receiver() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::sync::Arc<tokio::sync::Semaphore>,
) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    let arrived = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (a, g) = (arrived.clone(), gate.clone());
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let (a, g) = (a.clone(), g.clone());
        async move {
            if headers.contains_key("x-wc-webhook-topic") {
                a.fetch_add(1, Ordering::SeqCst);
                if let Ok(permit) = g.acquire().await {
                    permit.forget();
                }
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, arrived, gate)
}

#[tokio::test]
async fn pending_counts_each_delivery_until_it_is_logged() {
    let h = sim_with(|c| c.delivery_delay = Duration::from_millis(1000)).await;
    let (url, arrived, gate) = holding_receiver().await;
    create_webhook(&h, "order.updated", &url, "abc").await;
    let pending = || async { admin(&h, "GET", "/_sim/deliveries/pending", None).await.1 };
    let logged = || async {
        let (_, log) = admin(&h, "GET", "/_sim/deliveries", None).await;
        log.as_array()
            .map(|l| l.iter().filter(|d| d["ping"] == false).count())
            .unwrap_or(0)
    };
    assert_eq!(
        pending().await,
        json!({"queued": 0, "in_flight": 0, "pending": 0})
    );
    // One order's saves (created, saved again, paid) collapse into one queued delivery.
    let (s, _) = admin(
        &h,
        "POST",
        "/_sim/orders",
        Some(json!({"count": 1, "status": "processing"})),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        pending().await,
        json!({"queued": 1, "in_flight": 0, "pending": 1}),
        "queued while the delivery delay runs"
    );
    // Sent, its answer held back: in flight, not yet logged.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while arrived.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "no delivery arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        pending().await,
        json!({"queued": 0, "in_flight": 1, "pending": 1})
    );
    assert_eq!(logged().await, 0);
    // Answered: logged and no longer pending, in one step.
    gate.add_permits(1);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pending().await["pending"] != 0 {
        assert!(std::time::Instant::now() < deadline, "still pending");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(logged().await, 1);
    h.shutdown().await;
}

#[tokio::test]
async fn changing_the_creation_date_is_a_save_that_fires_order_updated() {
    let h = sim().await;
    let r = receiver().await;
    let (s, ids) = admin(&h, "POST", "/_sim/orders", Some(json!({"count": 1}))).await;
    assert_eq!(s, 201);
    let id = ids["ids"][0].as_u64().expect("id");
    create_webhook(&h, "order.updated", &r.url(), "s3cret").await;
    let path = format!("/_sim/orders/{id}/date_created");
    // Bad input is refused and changes nothing.
    for bad in [
        json!({"date_created_gmt": "yesterday"}),
        json!({"date": "2024-01-01T00:00:00"}),
    ] {
        let (s, _) = admin(&h, "POST", &path, Some(bad)).await;
        assert_eq!(s, 400);
    }
    let (s, _) = admin(
        &h,
        "POST",
        "/_sim/orders/999999/date_created",
        Some(json!({"date_created_gmt": "2024-01-01T00:00:00"})),
    )
    .await;
    assert_eq!(s, 404);
    let (_, before) = admin(&h, "GET", &format!("/_sim/orders/{id}"), None).await;
    assert_ne!(before["date_created_gmt"], "2024-03-14T09:26:53");
    let (s, order) = admin(
        &h,
        "POST",
        &path,
        Some(json!({"date_created_gmt": "2024-03-14T09:26:53"})),
    )
    .await;
    assert_eq!(s, 200, "{order}");
    assert_eq!(order["date_created_gmt"], "2024-03-14T09:26:53");
    assert_eq!(order["id"], id);
    let first = eventually(5, "a delivery", || r.deliveries().into_iter().next()).await;
    let payload: Value = serde_json::from_slice(&first.body).expect("json");
    assert_eq!(payload["id"], id);
    assert_eq!(payload["date_created_gmt"], "2024-03-14T09:26:53");
    h.shutdown().await;
}
