//! The sync engine end to end: woo-sim deliveries → ttwc's outbox → the sandbox, and statuses
//! back into the WooCommerce orders.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// Polls the connection's activity until an entry of `kind` mentions `text`.
async fn activity_entry(
    t: &TestApp,
    conn: &str,
    kind: &str,
    text: &str,
    deadline: Duration,
) -> connector::store::ActivityRow {
    eventually(
        deadline,
        &format!("a {kind} entry about {text}"),
        || async {
            let activity = t.app.store().activity(conn, 50).await.ok()?;
            activity
                .into_iter()
                .find(|a| a.kind == kind && a.message.contains(text))
        },
    )
    .await
}

async fn connected() -> (TestApp, String) {
    let mut t = spawn_app().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (t, id)
}

/// Checks the sandbox holds each of `ids` exactly once, from one request each.
async fn exactly_once(t: &TestApp, expected: &HashSet<u64>) {
    let received = t.received().await;
    let mut seen = BTreeMap::new();
    for o in &received {
        let id = o["order"]["order_id"].as_u64().expect("order_id");
        *seen.entry(id).or_insert(0) += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "an order reached TrackingTech twice: {seen:?}"
    );
    let got: HashSet<u64> = seen.keys().copied().collect();
    assert_eq!(&got, expected, "the sandbox holds exactly the sent orders");
}

async fn sent_ids(t: &TestApp, connection: &str) -> HashSet<u64> {
    let filter = connector::store::OrderFilter {
        connection_id: Some(connection.to_owned()),
        state: Some(connector::store::OrderState::Sent),
        ..Default::default()
    };
    t.app
        .store()
        .orders(&filter)
        .await
        .expect("orders")
        .iter()
        .map(|o| o.order_id as u64)
        .collect()
}

#[tokio::test]
async fn five_hundred_paid_orders_reach_trackingtech_exactly_once_with_the_right_payload() {
    let (t, conn) = connected().await;
    let ids = t.sim_orders(500, "processing").await;
    assert_eq!(ids.len(), 500);
    let states = t.settled(&conn, 500, Duration::from_secs(120)).await;
    let sent = sent_ids(&t, &conn).await;
    assert_eq!(
        states.get("sent").copied().unwrap_or(0) + states.get("skipped").copied().unwrap_or(0),
        500,
        "{states:?}"
    );
    assert!(sent.len() > 400, "most simulated orders ship: {states:?}");
    exactly_once(&t, &sent).await;
    for o in t.received().await {
        assert_eq!(o["requests"], 1, "one request per order: {o}");
    }

    // One order's payload against the store's own order.
    let sample = *sent.iter().next().expect("a sent order");
    let woo_order = t.sim_order(sample).await;
    let received = t.received().await;
    let body = &received
        .iter()
        .find(|o| o["order"]["order_id"] == json!(sample))
        .expect("received")["order"];
    let row = t
        .app
        .store()
        .connection(&conn)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(body["customer_id"], json!(row.customer_id));
    assert_eq!(body["store_url"], json!(t.woo.base_url()));
    assert_eq!(body["shipping"]["email"], woo_order["billing"]["email"]);
    assert_eq!(body["shipping"]["phone"], woo_order["billing"]["phone"]);
    let state = body["shipping"]["state"].as_str().unwrap_or_default();
    assert!(
        state.starts_with("CL-"),
        "the region travels as WooCommerce's code: {state}"
    );
    let names: Vec<&Value> = body["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| &p["name"])
        .collect();
    let woo_names: Vec<&Value> = woo_order["line_items"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| &l["name"])
        .collect();
    assert_eq!(names, woo_names);
    // Delivered orders are wiped of their contents; only ids, states and tracking remain.
    let stored = t
        .app
        .store()
        .order(&conn, sample as i64)
        .await
        .expect("read")
        .expect("row");
    assert!(stored.payload.is_none() && stored.source.is_none());
    assert!(
        stored
            .tracking_id
            .as_deref()
            .is_some_and(|t| t.starts_with("LMTCL"))
    );
}

#[tokio::test]
async fn every_delivery_twice_and_ttwcs_own_write_backs_still_send_once() {
    let (t, conn) = connected().await;
    let ids = t.sim_orders(20, "processing").await;
    // Re-saving each order fires order.updated again (a second delivery of the same order).
    for id in &ids {
        t.sim_set_status(*id, "processing").await;
    }
    t.settled(&conn, 20, Duration::from_secs(60)).await;
    // Write-backs (notes, meta) save the sent orders and fire more deliveries; wait for them
    // all (skipped orders — virtual-only, local pickup — get none).
    let sent = sent_ids(&t, &conn).await;
    for id in &sent {
        eventually(Duration::from_secs(30), "write-backs", || async {
            let order = t.sim_order(*id).await;
            order["meta_data"]
                .as_array()?
                .iter()
                .any(|m| m["key"] == "_trackingtech_tracking_id")
                .then_some(())
        })
        .await;
    }
    exactly_once(&t, &sent).await;
    let requests = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/orders")
        .count();
    assert_eq!(requests, sent.len(), "no second send, no loop");
}

#[tokio::test]
async fn trackingtech_down_for_30_seconds_mid_stream_loses_nothing() {
    let (t, conn) = connected().await;
    let first = t.sim_orders(10, "processing").await;
    eventually(Duration::from_secs(30), "a few orders sent", || async {
        (t.received().await.len() >= 3).then_some(())
    })
    .await;
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::PUT,
            "/_sandbox/faults",
            json!({"down_for_secs": 30})
        )
        .await,
        StatusCode::OK
    );
    let second = t.sim_orders(40, "processing").await;
    let states = t
        .settled(&conn, first.len() + second.len(), Duration::from_secs(120))
        .await;
    assert_eq!(states.get("failed"), None, "{states:?}");
    exactly_once(&t, &sent_ids(&t, &conn).await).await;
    let retried = t
        .app
        .store()
        .orders(&connector::store::OrderFilter {
            connection_id: Some(conn.clone()),
            ..Default::default()
        })
        .await
        .expect("orders")
        .iter()
        .filter(|o| o.attempts > 1)
        .count();
    assert!(retried > 0, "some sends met the outage and were retried");
}

#[tokio::test]
async fn a_429_holds_every_send_of_the_connection_until_retry_after() {
    let (t, conn) = connected().await;
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::PUT,
            "/_sandbox/faults",
            json!({"throttle_rate": 1.0, "retry_after_secs": 3})
        )
        .await,
        StatusCode::OK
    );
    t.sim_orders(8, "processing").await;
    let first_429 = eventually(Duration::from_secs(30), "a throttled send", || async {
        let requests = t.sandbox_admin("/_sandbox/requests").await;
        requests["data"]
            .as_array()?
            .iter()
            .find(|r| r["path"] == "/external/woocommerce/orders")
            .map(|r| r["time"].as_str().unwrap_or("").to_owned())
    })
    .await;
    assert_eq!(
        t.sandbox_send(reqwest::Method::DELETE, "/_sandbox/faults", json!({}))
            .await,
        StatusCode::OK
    );
    t.settled(&conn, 8, Duration::from_secs(60)).await;
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .expect("time")
    };
    let t0 = parse(&first_429);
    let sends: Vec<time::OffsetDateTime> = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/orders")
        .map(|r| parse(r["time"].as_str().unwrap_or("")))
        .collect();
    // The sends that raced the first 429 (already in flight) came within a moment of it; every
    // later one waited out the Retry-After.
    for at in sends {
        let gap = at - t0;
        assert!(
            gap < time::Duration::milliseconds(500) || gap >= time::Duration::milliseconds(2900),
            "a send {gap} after the 429"
        );
    }
    exactly_once(&t, &sent_ids(&t, &conn).await).await;
}

#[tokio::test]
async fn reconcile_finds_orders_the_stopped_webhooks_missed() {
    let mut t = spawn_with(Options {
        reconcile_interval: Duration::from_millis(500),
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.sim_faults(json!({"webhooks_paused": true})).await;
    let ids = t.sim_orders(15, "processing").await;
    let states = t.settled(&conn, 15, Duration::from_secs(60)).await;
    assert_eq!(states.values().sum::<usize>(), 15, "{states:?}");
    let sent = sent_ids(&t, &conn).await;
    assert!(sent.iter().all(|id| ids.contains(id)));
    exactly_once(&t, &sent).await;
    let activity = t.app.store().activity(&conn, 50).await.expect("activity");
    assert!(
        activity.iter().any(|a| a.kind == "reconcile"),
        "reconcile says what it found"
    );
}

#[tokio::test]
async fn a_webhook_disabled_by_woocommerce_is_re_enabled() {
    let mut t = spawn_with(Options {
        reconcile_interval: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let row = t
        .app
        .store()
        .connection(&conn)
        .await
        .expect("read")
        .expect("row");
    let hook = row.webhook_id.expect("webhook") as u64;
    let woo = t
        .app
        .woo_client(
            &row.store_url,
            woocommerce::Credentials::new(t.woo.consumer_key(), t.woo.consumer_secret())
                .expect("keys"),
        )
        .expect("client");
    woo.update_webhook_status(hook, &woocommerce::WebhookStatus::new("disabled"))
        .await
        .expect("disabled");
    eventually(
        Duration::from_secs(20),
        "the webhook to be re-enabled",
        || async {
            let hooks = t.woo_webhooks().await;
            (hooks.first()?["status"] == "active").then_some(())
        },
    )
    .await;
    // Reconcile says so in the activity once WooCommerce took the change, a moment after the
    // webhook shows active.
    activity_entry(&t, &conn, "webhook", "disabled", Duration::from_secs(5)).await;
}

#[tokio::test]
async fn statuses_come_back_as_notes_meta_tracking_and_completed() {
    let mut t = spawn_app().await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (s, _) = t
        .post(
            &format!("/api/connections/{conn}/settings"),
            json!({"mark_completed": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let ids = t.sim_orders(3, "processing").await;
    t.settled(&conn, 3, Duration::from_secs(60)).await;
    let id = *sent_ids(&t, &conn)
        .await
        .iter()
        .next()
        .expect("a sent order");
    assert!(ids.contains(&id));
    let meta = |order: &Value, key: &str| -> Option<Value> {
        order["meta_data"]
            .as_array()?
            .iter()
            .find(|m| m["key"] == key)
            .map(|m| m["value"].clone())
    };
    let order = eventually(Duration::from_secs(30), "the first write-back", || async {
        let o = t.sim_order(id).await;
        meta(&o, "_trackingtech_status").is_some().then_some(o)
    })
    .await;
    let tracking = meta(&order, "_trackingtech_tracking_id")
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("tracking id");
    assert!(tracking.starts_with("LMTCL"));
    let items = meta(&order, "_wc_shipment_tracking_items").expect("shipment tracking items");
    assert_eq!(items[0]["tracking_number"], json!(tracking));

    assert_eq!(
        t.sandbox_send(
            reqwest::Method::POST,
            "/_sandbox/advance",
            json!({"steps": 2})
        )
        .await,
        StatusCode::OK
    );
    // The note is the write-back's last step (it is the one a retry could duplicate).
    let expected_note = format!("TrackingTech: En tránsito — tracking {tracking}");
    let order = eventually(Duration::from_secs(30), "the in-transit note", || async {
        let o = t.sim_order(id).await;
        let has_note = o["notes"]
            .as_array()?
            .iter()
            .any(|n| n["note"] == json!(expected_note));
        has_note.then_some(o)
    })
    .await;
    assert_eq!(
        meta(&order, "_trackingtech_status"),
        Some(json!("in_transit"))
    );
    assert_eq!(
        meta(&order, "_trackingtech_status_name"),
        Some(json!("En tránsito"))
    );

    assert_eq!(
        t.sandbox_send(
            reqwest::Method::POST,
            "/_sandbox/advance",
            json!({"steps": 5})
        )
        .await,
        StatusCode::OK
    );
    eventually(
        Duration::from_secs(30),
        "the order to be completed",
        || async { (t.sim_order(id).await["status"] == "completed").then_some(()) },
    )
    .await;
    exactly_once(&t, &sent_ids(&t, &conn).await).await;
}

#[tokio::test]
async fn a_401_parks_the_connection_and_logging_in_again_releases_its_queue() {
    let mut t = spawn_app().await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        t.sandbox_send(reqwest::Method::POST, "/_sandbox/revoke", json!({}))
            .await,
        StatusCode::OK
    );
    t.sim_orders(5, "processing").await;
    eventually(
        Duration::from_secs(30),
        "the connection to need a re-login",
        || async {
            let row = t.app.store().connection(&conn).await.ok()??;
            (row.state.as_str() == "needs_relogin").then_some(())
        },
    )
    .await;
    // Held, not lost. (An order the simulator made a local pickup is skipped without any call:
    // it needs no courier, logged in or not.)
    let queued = eventually(Duration::from_secs(30), "all five held", || async {
        let states = t.order_states(&conn).await;
        let queued = states.get("queued").copied().unwrap_or(0);
        let skipped = states.get("skipped").copied().unwrap_or(0);
        (queued + skipped == 5 && queued > 0).then_some(queued)
    })
    .await;
    assert!(t.received().await.is_empty());
    let (s, list) = t.get_json("/api/connections").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["connections"][0]["state"], "needs_relogin");
    assert_eq!(list["connections"][0]["queue_depth"], json!(queued));

    // The merchant logs in again in the wizard: the store is relinked and the queue flows.
    let (s, _) = t.post("/api/wizard/reset", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let again = t.connect_with_keys().await;
    assert_eq!(again["id"], json!(conn));
    let states = t.settled(&conn, 5, Duration::from_secs(60)).await;
    assert_eq!(
        states.get("sent").copied().unwrap_or(0) + states.get("skipped").copied().unwrap_or(0),
        5,
        "{states:?}"
    );
    exactly_once(&t, &sent_ids(&t, &conn).await).await;
}

#[tokio::test]
async fn bad_deliveries_are_refused_and_absurd_orders_never_crash_a_worker() {
    let (t, conn) = connected().await;
    let good = made_up_order(90_001, vec![line("Café ☕ مرحبا", 1)], "Irarrázaval 123");

    // Forged, truncated, non-JSON, wrong topic, oversized: 4xx and no job.
    let client = reqwest::Client::new();
    let forged = client
        .post(format!("{}/webhooks/woocommerce/{conn}", t.base))
        .header("x-wc-webhook-source", "x/")
        .header("x-wc-webhook-topic", "order.updated")
        .header("x-wc-webhook-resource", "order")
        .header("x-wc-webhook-event", "updated")
        .header("x-wc-webhook-signature", "bm9wZQ==")
        .header("x-wc-webhook-id", "1")
        .header("x-wc-webhook-delivery-id", "1")
        .body(good.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        deliver(&t, &conn, &good[..good.len() / 2], "order.updated").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        deliver(&t, &conn, b"<html>PHP Fatal error</html>", "order.updated").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        deliver(&t, &conn, &good, "product.updated").await,
        StatusCode::BAD_REQUEST
    );
    let huge = vec![b' '; 3 * 1024 * 1024];
    assert_eq!(
        deliver(&t, &conn, &huge, "order.updated").await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(
        t.order_states(&conn).await.is_empty(),
        "no job from a refused delivery"
    );

    // Absurd orders: rejected with a reason or sent faithfully, and the worker keeps going.
    let many: Vec<Value> = (0..5000).map(|i| line(&format!("Ítem {i}"), 1)).collect();
    let cases = [
        (90_002, made_up_order(90_002, vec![], "Irarrázaval 123")),
        (
            90_003,
            made_up_order(90_003, vec![line("Negativo", -3)], "Irarrázaval 123"),
        ),
        (
            90_004,
            made_up_order(
                90_004,
                vec![line(&"N".repeat(100 * 1024), 1)],
                "Irarrázaval 123",
            ),
        ),
        (90_005, made_up_order(90_005, many, "Irarrázaval 123")),
        (
            90_006,
            made_up_order(90_006, vec![line("Sin dirección", 1)], ""),
        ),
        (90_001, good),
    ];
    for (_, body) in &cases {
        assert_eq!(
            deliver(&t, &conn, body, "order.updated").await,
            StatusCode::OK
        );
    }
    t.settled(&conn, cases.len(), Duration::from_secs(60)).await;
    let state = |id: i64| {
        let t = &t;
        let conn = conn.clone();
        async move {
            t.app
                .store()
                .order(&conn, id)
                .await
                .expect("read")
                .expect("row")
        }
    };
    assert_eq!(state(90_002).await.state.as_str(), "rejected", "no lines");
    assert_eq!(
        state(90_003).await.state.as_str(),
        "rejected",
        "negative quantity only"
    );
    let no_address = state(90_006).await;
    assert_eq!(no_address.state.as_str(), "rejected");
    assert!(
        no_address.last_error.unwrap_or_default().contains("90006"),
        "the reason names the order"
    );
    let faithful = state(90_001).await;
    assert_eq!(faithful.state.as_str(), "sent");
    let received = t.received().await;
    let body = &received
        .iter()
        .find(|o| o["order"]["order_id"] == 90_001)
        .expect("received")["order"];
    assert_eq!(body["products"][0]["name"], "Café ☕ مرحبا");
    assert_eq!(
        body["shipping"]["city"], "Ñuñoa",
        "billing address used when shipping is empty"
    );
    for id in [90_004, 90_005] {
        let s = state(id).await.state;
        assert!(matches!(s.as_str(), "sent" | "rejected"), "{id}: {s:?}");
    }
}

#[tokio::test]
async fn a_delivery_whose_head_reads_is_queued_and_the_rest_read_from_the_store() {
    // The receiver reads only id, number, status and creation date. A delivery whose other
    // fields do not read is acknowledged and queued (a refusal counts against the webhook in
    // WooCommerce), and the engine, finding the stored body unreadable, fetches the order.
    let (t, conn) = connected().await;
    let id = t.sim_orders(1, "cancelled").await[0];
    let mut body = t.sim_order(id).await;
    body["status"] = json!("processing");
    body["line_items"] = json!("not a list");
    let body = serde_json::to_vec(&body).expect("json");
    assert!(woocommerce::webhook::parse_order(&body).is_err());
    let hooks = t.woo_webhooks().await;
    let secret = hooks[0]["secret"].as_str().expect("secret").to_owned();
    let (status, answer) = deliver_signed(&t, &conn, &secret, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["queued"], true);
    t.settled(&conn, 1, Duration::from_secs(30)).await;
    let order = t
        .app
        .store()
        .order(&conn, id as i64)
        .await
        .expect("read")
        .expect("row");
    // Only the store's copy says cancelled: the delivered body said processing.
    assert_eq!(order.state.as_str(), "skipped");
    assert!(
        order.last_error.unwrap_or_default().contains("cancelled"),
        "skipped for the status the store gave"
    );
    assert!(t.received().await.is_empty(), "nothing sent");
}

#[tokio::test]
async fn a_sent_order_cancelled_in_woocommerce_warns_in_the_activity() {
    let (t, conn) = connected().await;
    let ids = t.sim_orders(3, "processing").await;
    t.settled(&conn, 3, Duration::from_secs(60)).await;
    let sent = sent_ids(&t, &conn).await;
    let id = *ids
        .iter()
        .find(|id| sent.contains(id))
        .expect("a sent order");
    t.sim_set_status(id, "cancelled").await;
    let warning = activity_entry(&t, &conn, "warning", "cancelled", Duration::from_secs(30)).await;
    assert!(
        warning.message.contains(&format!("#{id}")),
        "{}",
        warning.message
    );
    assert_eq!(
        t.received().await.len(),
        sent.len(),
        "nothing more was sent"
    );
}

/// A delivery of `body` for `conn` signed with `secret`: the status and the JSON answer.
async fn deliver_signed(t: &TestApp, conn: &str, secret: &str, body: &[u8]) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/webhooks/woocommerce/{conn}", t.base))
        .header("content-type", "application/json")
        .header("x-wc-webhook-source", format!("{}/", t.woo.base_url()))
        .header("x-wc-webhook-topic", "order.updated")
        .header("x-wc-webhook-resource", "order")
        .header("x-wc-webhook-event", "updated")
        .header(
            "x-wc-webhook-signature",
            woocommerce::webhook::sign(secret.as_bytes(), body),
        )
        .header("x-wc-webhook-id", "1")
        .header("x-wc-webhook-delivery-id", "1")
        .body(body.to_vec())
        .send()
        .await
        .expect("delivery");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_receiver_sees_connection_changes_made_here_at_once_and_elsewhere_soon() {
    let (t, conn) = connected().await;
    let hooks = t.woo_webhooks().await;
    let secret = hooks[0]["secret"].as_str().expect("secret").to_owned();
    let order = |id| made_up_order(id, vec![line("Polera", 1)], "Irarrázaval 123");
    let (s, v) = deliver_signed(&t, &conn, &secret, &order(91_001)).await;
    assert_eq!((s, &v["queued"]), (StatusCode::OK, &json!(true)), "{v}");

    // Another process (a replica, a CLI) rotates the webhook secret behind this one's back:
    // the new secret works at once, the old one is refused.
    let mut row = t.app.store().connection(&conn).await.unwrap().unwrap();
    let rotated = "rotated-webhook-secret-0123456789";
    row.webhook_secret = Some(t.app.key().seal_str(
        &connector::connection::secret_context(&conn, "webhook_secret"),
        rotated,
    ));
    t.app.store().update_connection(&row).await.unwrap();
    let (s, v) = deliver_signed(&t, &conn, rotated, &order(91_002)).await;
    assert_eq!((s, &v["queued"]), (StatusCode::OK, &json!(true)), "{v}");
    let (s, _) = deliver_signed(&t, &conn, &secret, &order(91_003)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A change made through this process counts for the very next delivery.
    row.trigger_status = "completed".into();
    t.app.update_connection(&row).await.unwrap();
    let (s, v) = deliver_signed(&t, &conn, rotated, &order(91_004)).await;
    assert_eq!((s, &v["queued"]), (StatusCode::OK, &json!(false)), "{v}");

    // Another process disconnects the store: deliveries are refused within the cache's life.
    row.state = connector::store::ConnectionState::Disconnected;
    t.app.store().update_connection(&row).await.unwrap();
    eventually(
        Duration::from_secs(10),
        "a store disconnected elsewhere to be refused",
        || async {
            let (s, _) = deliver_signed(&t, &conn, rotated, &order(91_005)).await;
            (s == StatusCode::NOT_FOUND).then_some(())
        },
    )
    .await;
    let queued: HashSet<i64> = t
        .app
        .store()
        .orders(&connector::store::OrderFilter {
            connection_id: Some(conn.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|o| o.order_id)
        .collect();
    assert!(queued.contains(&91_001) && queued.contains(&91_002));
    assert!(!queued.contains(&91_003) && !queued.contains(&91_004));
}

#[tokio::test]
async fn when_trackingtech_answers_again_the_retries_waiting_out_their_backoff_go_at_once() {
    // A backoff long enough that, left alone, the retries would still be waiting when the
    // deadline below runs out.
    let mut t = spawn_with(Options {
        backoff: (Duration::from_secs(40), Duration::from_secs(60)),
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::PUT,
            "/_sandbox/faults",
            json!({"down_for_secs": 3600})
        )
        .await,
        StatusCode::OK
    );
    let during = t.sim_orders(10, "processing").await;
    // Every order met the outage once and now waits out its backoff.
    eventually(
        Duration::from_secs(30),
        "every order tried once",
        || async {
            let orders = t
                .app
                .store()
                .orders(&connector::store::OrderFilter {
                    connection_id: Some(conn.clone()),
                    ..Default::default()
                })
                .await
                .expect("orders");
            let waiting = orders
                .iter()
                .filter(|o| o.state == connector::store::OrderState::Queued && o.attempts >= 1)
                .count();
            let open = orders
                .iter()
                .filter(|o| {
                    matches!(
                        o.state,
                        connector::store::OrderState::Queued
                            | connector::store::OrderState::Sending
                    )
                })
                .count();
            (orders.len() == during.len() && waiting == open && waiting > 0).then_some(())
        },
    )
    .await;
    assert!(t.received().await.is_empty());
    // TrackingTech is back; the next new order gets through and takes the waiting ones along.
    assert_eq!(
        t.sandbox_send(reqwest::Method::DELETE, "/_sandbox/faults", json!({}))
            .await,
        StatusCode::OK
    );
    let fresh = made_up_order(92_001, vec![line("Polera", 1)], "Irarrázaval 123");
    assert_eq!(
        deliver(&t, &conn, &fresh, "order.updated").await,
        StatusCode::OK
    );
    let states = t
        .settled(&conn, during.len() + 1, Duration::from_secs(15))
        .await;
    assert_eq!(states.get("failed"), None, "{states:?}");
    exactly_once(&t, &sent_ids(&t, &conn).await).await;
}
