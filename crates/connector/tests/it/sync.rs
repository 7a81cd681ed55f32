//! The sync engine end to end: woo-sim deliveries → ttwc's outbox → the sandbox, and statuses
//! back into the WooCommerce orders.

use connector::text::{Code, Lang, Param, Text};
use std::collections::{BTreeMap, BTreeSet, HashSet};
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
            activity.into_iter().find(|a| {
                a.kind == kind
                    && a.message
                        .render(Lang::En)
                        .to_lowercase()
                        .contains(&text.to_lowercase())
            })
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
    let seed = test_seed();
    let replay = replay(seed);
    eprintln!("{replay}");
    let (t, conn) = connected().await;
    let ids = t.sim_orders_seeded(500, "processing", seed).await;
    assert_eq!(ids.len(), 500, "{replay}");
    t.settled(&conn, 500, Duration::from_secs(120)).await;

    // Which orders ship is decided from the store's own orders and catalogue.
    let catalogue = Catalogue::builtin();
    let orders = t.sim_orders_by_id(&ids).await;
    let fates: BTreeMap<u64, Fate> = orders
        .iter()
        .map(|(id, o)| (*id, expected_fate(o, &catalogue)))
        .collect();
    let count = |fate: Fate| fates.values().filter(|f| **f == fate).count();
    // The simulator's mix makes both kinds (about one order in eight is virtual only), so the
    // test covers the skip as well as the send.
    assert!(
        count(Fate::Sent) > 0 && count(Fate::Skipped) > 0,
        "{replay}: {fates:?}"
    );
    let received = t.assert_final_states(&conn, &fates, &replay).await;

    // Every body TrackingTech received is the store's order, field by field, sent in one
    // request, for the customer TrackingTech linked this store to.
    for (id, o) in &received {
        assert_eq!(
            o["requests"], 1,
            "{replay}: one request for order {id}: {o}"
        );
        let customer = o["customer_id"].as_str().expect("the sandbox's customer");
        let want = expected_body(&orders[id], &catalogue, customer, &t.woo.base_url());
        assert_eq!(
            o["order"], want,
            "{replay}: the body of order {id} against the store's order {}",
            orders[id]
        );
    }
    let row = t
        .app
        .store()
        .connection(&conn)
        .await
        .expect("read")
        .expect("row");
    let linked: BTreeSet<&str> = received
        .values()
        .filter_map(|o| o["customer_id"].as_str())
        .collect();
    assert_eq!(
        linked,
        BTreeSet::from([row.customer_id.as_deref().expect("customer id")]),
        "{replay}: every order went to the store's own TrackingTech customer"
    );

    // Delivered orders are wiped of their contents; only ids, states and the tracking id
    // TrackingTech gave remain.
    for (id, o) in &received {
        let stored = t
            .app
            .store()
            .order(&conn, i64::try_from(*id).expect("id"))
            .await
            .expect("read")
            .expect("row");
        assert!(
            stored.payload.is_none() && stored.source.is_none(),
            "{replay}: order {id} kept its contents"
        );
        assert_eq!(
            stored.tracking_id.as_deref(),
            o["tracking_id"].as_str(),
            "{replay}: order {id}'s tracking id"
        );
    }
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
    let catalogue = Catalogue::builtin();
    let fates: BTreeMap<u64, Fate> = t
        .sim_orders_by_id(&ids)
        .await
        .iter()
        .map(|(id, o)| (*id, expected_fate(o, &catalogue)))
        .collect();
    let received = t
        .assert_final_states(&conn, &fates, "after the first deliveries")
        .await;

    // Each sent order's write-back (meta, tracking items, then the note) saves the order, and
    // each save fires another delivery. Wait until the store shows every write-back done, as
    // TrackingTech's answer says it must read...
    let meta = |order: &Value, key: &str| -> Option<Value> {
        order["meta_data"]
            .as_array()?
            .iter()
            .find(|m| m["key"] == key)
            .map(|m| m["value"].clone())
    };
    let written_back = |order: &Value, tt: &Value| -> bool {
        let tracking = &tt["tracking_id"];
        let note = format!(
            // In the store's language: Spanish, as ttwc does not know it.
            "TrackingTech: {} — seguimiento {}",
            tt["status_name"].as_str().unwrap_or("?"),
            tracking.as_str().unwrap_or("?")
        );
        meta(order, "_trackingtech_tracking_id").as_ref() == Some(tracking)
            && meta(order, "_trackingtech_status").as_ref() == Some(&tt["status"])
            && meta(order, "_wc_shipment_tracking_items")
                .is_some_and(|items| items[0]["tracking_number"] == *tracking)
            && order["notes"]
                .as_array()
                .is_some_and(|n| n.iter().any(|n| n["note"] == json!(note)))
    };
    for (id, tt) in &received {
        eventually(
            Duration::from_secs(30),
            &format!("order {id}'s write-back"),
            || async { written_back(&t.sim_order(*id).await, tt).then_some(()) },
        )
        .await;
    }
    // ...then until the store has delivered and ttwc answered every delivery those saves fired,
    // and ttwc has nothing left in flight. A loop (a write-back's delivery queuing the order
    // again) would keep the store delivering and this wait would time out.
    eventually(
        Duration::from_secs(30),
        "every delivery answered and the outbox idle",
        || async {
            let delivering = t.sim_pending_deliveries().await;
            let states = t.order_states(&conn).await;
            let busy = states.get("queued").copied().unwrap_or(0)
                + states.get("sending").copied().unwrap_or(0);
            (delivering == 0 && busy == 0).then_some(())
        },
    )
    .await;
    // Every delivery, the write-backs' included, was taken (a refusal counts against the
    // webhook in WooCommerce).
    let deliveries: Value = reqwest::Client::new()
        .get(format!("{}/_sim/deliveries", t.woo.base_url()))
        .send()
        .await
        .expect("sim")
        .json()
        .await
        .expect("json");
    let refused: Vec<&Value> = deliveries
        .as_array()
        .expect("deliveries")
        .iter()
        .filter(|d| d["ping"] == false && d["success"] != true)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");

    // Now count: the same final states, one send request per sent order, and one note per
    // sent order (a write-back run twice would add a second).
    let received = t
        .assert_final_states(&conn, &fates, "after the write-backs' deliveries")
        .await;
    let requests = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/orders")
        .count();
    assert_eq!(requests, received.len(), "no second send, no loop");
    for id in &ids {
        let notes = t.sim_order(*id).await["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .filter(|n| {
                n["note"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("TrackingTech:"))
            })
            .count();
        let want = usize::from(fates[id] == Fate::Sent);
        assert_eq!(
            notes, want,
            "TrackingTech notes on order {id} ({:?})",
            fates[id]
        );
    }
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
    t.settled(&conn, first.len() + second.len(), Duration::from_secs(120))
        .await;
    // Every order ends as the store's data says it must, outage or not: each one that ships
    // sent exactly once, each virtual-only one skipped, none failed, rejected or cancelled.
    let ids: Vec<u64> = first.iter().chain(&second).copied().collect();
    let catalogue = Catalogue::builtin();
    let fates: BTreeMap<u64, Fate> = t
        .sim_orders_by_id(&ids)
        .await
        .iter()
        .map(|(id, o)| (*id, expected_fate(o, &catalogue)))
        .collect();
    let received = t
        .assert_final_states(&conn, &fates, "TrackingTech down for 30 s")
        .await;
    // TrackingTech's own log shows sends refused during the outage and tried again.
    let sends = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/orders")
        .count();
    assert!(
        sends > received.len(),
        "some sends met the outage and were retried: {sends} sends for {} orders",
        received.len()
    );
}

/// The send requests TrackingTech logged, in milliseconds since the Unix epoch, in order.
async fn send_times_ms(t: &TestApp) -> Vec<i64> {
    let mut times: Vec<i64> = t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["path"] == "/external/woocommerce/orders")
        .map(|r| r["unix_ms"].as_i64().expect("unix_ms"))
        .collect();
    times.sort_unstable();
    times
}

#[tokio::test]
async fn a_429_holds_every_send_of_the_connection_until_retry_after() {
    const RETRY_AFTER_MS: i64 = 4_000;
    let (t, conn) = connected().await;
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::PUT,
            "/_sandbox/faults",
            json!({"throttle_rate": 1.0, "retry_after_secs": RETRY_AFTER_MS / 1000})
        )
        .await,
        StatusCode::OK
    );
    // One order meets the 429 alone, so no other send can have been on its way before ttwc
    // read the answer.
    let first = made_up_order(94_001, vec![line("Polera", 1)], "Irarrázaval 123");
    assert_eq!(
        deliver(&t, &conn, &first, "order.updated").await,
        StatusCode::OK
    );
    let t0 = eventually(Duration::from_secs(30), "a throttled send", || async {
        send_times_ms(&t).await.first().copied()
    })
    .await;
    // ttwc has taken the answer in (the order waits for another attempt) and TrackingTech
    // would now accept anything.
    eventually(Duration::from_secs(30), "the 429 recorded", || async {
        let o = t.app.store().order(&conn, 94_001).await.ok()??;
        (o.state == connector::store::OrderState::Queued && o.attempts == 1).then_some(())
    })
    .await;
    assert_eq!(
        t.sandbox_send(reqwest::Method::DELETE, "/_sandbox/faults", json!({}))
            .await,
        StatusCode::OK
    );
    // More orders of the store are paid while the Retry-After runs.
    let more = t.sim_orders(7, "processing").await;
    t.settled(&conn, 1 + more.len(), Duration::from_secs(60))
        .await;
    let catalogue = Catalogue::builtin();
    let mut fates: BTreeMap<u64, Fate> = t
        .sim_orders_by_id(&more)
        .await
        .iter()
        .map(|(id, o)| (*id, expected_fate(o, &catalogue)))
        .collect();
    let first: Value = serde_json::from_slice(&first).expect("json");
    fates.insert(94_001, expected_fate(&first, &catalogue));
    let received = t.assert_final_states(&conn, &fates, "after a 429").await;
    // The orders paid meanwhile reached ttwc while the hold still ran (else this test shows
    // nothing about them).
    let delivered_ms: Vec<i64> = reqwest::Client::new()
        .get(format!("{}/_sim/deliveries", t.woo.base_url()))
        .send()
        .await
        .expect("sim")
        .json::<Value>()
        .await
        .expect("json")
        .as_array()
        .expect("deliveries")
        .iter()
        .filter(|d| d["order_id"].as_u64().is_some_and(|id| more.contains(&id)))
        .filter_map(|d| d["unix_ms"].as_i64())
        .collect();
    assert!(
        delivered_ms
            .iter()
            .any(|at| *at < t0 + RETRY_AFTER_MS - 1_000),
        "no order was delivered well within the Retry-After (429 at {t0}): {delivered_ms:?}"
    );

    // After the one throttled request, nothing for RETRY_AFTER_MS, measured in TrackingTech's
    // own log (both times are whole milliseconds cut down, so a request made at or after the
    // end of the wait cannot show less). Then every order that ships, the throttled one again
    // among them, once. The first send after the wait comes soon after it ends: a hold far
    // longer than asked would hold the store's every order with it.
    let sends = send_times_ms(&t).await;
    assert_eq!(sends[0], t0);
    assert_eq!(sends.len(), 1 + received.len(), "{sends:?}");
    for at in &sends[1..] {
        assert!(
            *at - t0 >= RETRY_AFTER_MS,
            "a send {} ms after the 429, whose Retry-After was {RETRY_AFTER_MS} ms: {sends:?}",
            at - t0
        );
    }
    assert!(
        sends[1] - t0 < RETRY_AFTER_MS + 2_000,
        "the first send after the wait came {} ms after the 429: {sends:?}",
        sends[1] - t0
    );
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
async fn a_webhook_paused_by_a_person_is_left_alone_and_said_once() {
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
    let woo = t
        .app
        .woo_client(
            &row.store_url,
            woocommerce::Credentials::new(t.woo.consumer_key(), t.woo.consumer_secret())
                .expect("keys"),
        )
        .expect("client");
    // Only a person sets `paused` (WooCommerce itself only ever sets `disabled`).
    woo.update_webhook_status(
        row.webhook_id.expect("webhook") as u64,
        &woocommerce::WebhookStatus::new("paused"),
    )
    .await
    .expect("paused");
    let paused_entries = || async {
        t.app
            .store()
            .activity(&conn, 100)
            .await
            .expect("activity")
            .into_iter()
            .filter(|a| a.message.code == Code::WebhookPaused)
            .count()
    };
    // Orders paid while it is paused come through reconcile, twice over: reconcile ran again
    // and again, and still the pause stands and was said once.
    for round in 1..=2 {
        let id = t.sim_orders(1, "processing").await[0];
        eventually(
            Duration::from_secs(20),
            &format!("order {id} found by reconcile and done with (round {round})"),
            || async {
                let o = t.app.store().order(&conn, id as i64).await.ok()??;
                // Sent, or skipped when the random order has nothing to ship.
                matches!(o.state.as_str(), "sent" | "skipped").then_some(())
            },
        )
        .await;
        assert_eq!(
            t.woo_webhooks().await[0]["status"],
            "paused",
            "round {round}"
        );
        assert_eq!(paused_entries().await, 1, "round {round}");
    }
    // The dashboard says what it means, in the page's language.
    let page = t.get_page("/?lang=es").await;
    assert!(
        page.contains("los pedidos llegan solo por la reconciliación, cada 1 minuto"),
        "{page}"
    );
    let (_, list) = t.get_json("/api/connections").await;
    assert_eq!(list["connections"][0]["webhook_status"], "paused");
    assert!(
        list["connections"][0]["webhook_notice"]
            .as_str()
            .is_some_and(|n| n.contains("en pausa")),
        "{list}"
    );
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
    // In the store's language (Spanish when ttwc does not know it), with TrackingTech's label.
    let expected_note = format!("TrackingTech: En tránsito — seguimiento {tracking}");
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

    // The merchant logs in again in the wizard: the store is relinked (with the keys it has,
    // which still work, so WooCommerce is not asked for new ones) and the queue flows.
    let (s, _) = t.post("/api/wizard/reset", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let again = t.reconnect_at_store_step().await;
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
    let reason = no_address.last_error.expect("a reason");
    assert!(
        matches!(reason.code, Code::NoStreet | Code::NoCity),
        "{reason:?}"
    );
    assert!(
        reason.render(Lang::Es).contains("#90006") && reason.render(Lang::En).contains("#90006"),
        "the reason names the order: {reason:?}"
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
    assert_eq!(
        order.last_error,
        Some(Text::new(Code::NotShippable).with("status", "cancelled")),
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
    assert_eq!(warning.message.code, Code::SentThenCancelled);
    assert_eq!(
        warning.message.params.get("number"),
        Some(&Param::Str(id.to_string())),
        "{:?}",
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
    t.settled(&conn, during.len() + 1, Duration::from_secs(15))
        .await;
    // Every order ends as the store's data says it must: the ones that ship sent once each
    // (within the deadline above, so none waited out its backoff), the virtual-only skipped.
    let catalogue = Catalogue::builtin();
    let mut fates: BTreeMap<u64, Fate> = t
        .sim_orders_by_id(&during)
        .await
        .iter()
        .map(|(id, o)| (*id, expected_fate(o, &catalogue)))
        .collect();
    let fresh: Value = serde_json::from_slice(&fresh).expect("json");
    fates.insert(92_001, expected_fate(&fresh, &catalogue));
    t.assert_final_states(&conn, &fates, "after the outage")
        .await;
}

/// Whether ttwc's outbox has the order (queued automatically, whatever came of it).
async fn in_outbox(t: &TestApp, conn: &str, id: u64) -> bool {
    t.app
        .store()
        .order(conn, id as i64)
        .await
        .expect("read")
        .is_some()
}

/// The connection's `left_out` activity entries about order `id`.
async fn left_out_entries(t: &TestApp, conn: &str, id: u64) -> usize {
    t.app
        .store()
        .activity(conn, 200)
        .await
        .expect("activity")
        .iter()
        .filter(|a| {
            a.kind == "left_out"
                && a.message.params.get("number") == Some(&Param::Str(id.to_string()))
        })
        .count()
}

#[tokio::test]
async fn an_order_back_dated_in_wp_admin_then_paid_is_sent_by_webhook() {
    let (t, conn) = connected().await;
    let id = t.sim_orders(1, "pending").await[0];
    t.sim_set_date_created(
        id,
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
    )
    .await;
    t.sim_set_status(id, "processing").await;
    eventually(
        Duration::from_secs(30),
        "the order in the outbox",
        || async { in_outbox(&t, &conn, id).await.then_some(()) },
    )
    .await;
    assert_eq!(left_out_entries(&t, &conn, id).await, 0);
}

#[tokio::test]
async fn an_order_back_dated_in_wp_admin_then_paid_is_found_by_reconcile() {
    let mut t = spawn_with(Options {
        reconcile_interval: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.sim_faults(json!({"webhooks_paused": true})).await;
    let id = t.sim_orders(1, "pending").await[0];
    t.sim_set_date_created(
        id,
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
    )
    .await;
    t.sim_set_status(id, "processing").await;
    eventually(
        Duration::from_secs(30),
        "reconcile to queue the order",
        || async { in_outbox(&t, &conn, id).await.then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_order_paid_before_connecting_is_left_out_and_said_once() {
    let mut t = spawn_app().await;
    let old = t.sim_orders(2, "processing").await;
    let unpaid = t.sim_orders(1, "pending").await[0];
    // WooCommerce dates have whole seconds and a payment in the connection's second counts as
    // after it: connect once the clock has left the second of the payments.
    let mut paid = Vec::new();
    for id in &old {
        let at = t.sim_order(*id).await["date_paid_gmt"]
            .as_str()
            .expect("paid")
            .to_owned();
        paid.push(at);
    }
    let last_paid = paid.iter().max().expect("paid").clone();
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    eventually(
        Duration::from_secs(5),
        "the second of the payments to pass",
        || async {
            let now = time::OffsetDateTime::now_utc().format(&format).ok()?;
            (now > last_paid).then_some(())
        },
    )
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
    assert_eq!(
        row.order_id_at_connect,
        Some(unpaid as i64),
        "the highest order id when connecting"
    );
    // Saved again after connecting, several times: an order.updated delivery each.
    for _ in 0..3 {
        t.sim_set_status(old[0], "processing").await;
        eventually(Duration::from_secs(30), "deliveries done", || async {
            (t.sim_pending_deliveries().await == 0).then_some(())
        })
        .await;
    }
    let entry = activity_entry(
        &t,
        &conn,
        "left_out",
        &format!("#{}", old[0]),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(entry.message.code, Code::LeftOut);
    assert!(
        entry
            .message
            .render(Lang::En)
            .contains("Load earlier orders"),
        "says how to send it: {}",
        entry.message.render(Lang::En)
    );
    // An order made before connecting and paid after it is sent; its delivery comes after the
    // old order's, so once it is in the outbox the old one's have all been answered.
    t.sim_set_status(unpaid, "processing").await;
    eventually(
        Duration::from_secs(30),
        "the order paid after connecting",
        || async { in_outbox(&t, &conn, unpaid).await.then_some(()) },
    )
    .await;
    t.sim_set_status(old[0], "processing").await;
    eventually(Duration::from_secs(30), "deliveries done", || async {
        (t.sim_pending_deliveries().await == 0).then_some(())
    })
    .await;
    assert_eq!(left_out_entries(&t, &conn, old[0]).await, 1, "said once");
    assert_eq!(
        left_out_entries(&t, &conn, old[1]).await,
        0,
        "never saved again"
    );
    assert!(
        !in_outbox(&t, &conn, old[0]).await,
        "not sent automatically"
    );
    assert!(
        t.received()
            .await
            .iter()
            .all(|o| o["order"]["order_id"] != old[0]),
        "TrackingTech never got it"
    );
}

#[tokio::test]
async fn a_connection_without_the_highest_id_reads_it_at_its_first_reconcile() {
    let mut t = spawn_with(Options {
        reconcile_interval: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let ids = t.sim_orders(2, "completed").await;
    t.sim_faults(json!({"webhooks_paused": true})).await;
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // As a connection made before the highest id was kept: none stored.
    let mut row = t
        .app
        .store()
        .connection(&conn)
        .await
        .expect("read")
        .expect("row");
    row.order_id_at_connect = None;
    t.app.upsert_connection(&row).await.expect("upsert");
    let highest = eventually(Duration::from_secs(30), "the highest id read", || async {
        t.app
            .store()
            .connection(&conn)
            .await
            .ok()??
            .order_id_at_connect
    })
    .await;
    assert_eq!(highest, ids[1] as i64);
}

#[tokio::test]
async fn a_sent_order_moved_to_the_trash_warns_in_the_activity() {
    let (t, conn) = connected().await;
    let ids = t.sim_orders(3, "processing").await;
    t.settled(&conn, 3, Duration::from_secs(60)).await;
    let sent = sent_ids(&t, &conn).await;
    let id = *ids
        .iter()
        .find(|id| sent.contains(id))
        .expect("a sent order");
    let mut body = t.sim_order(id).await;
    body["status"] = json!("trash");
    let body = serde_json::to_vec(&body).expect("json");
    let hooks = t.woo_webhooks().await;
    let secret = hooks[0]["secret"].as_str().expect("secret").to_owned();
    let (status, answer) = deliver_signed(&t, &conn, &secret, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let warning = activity_entry(&t, &conn, "warning", "trash", Duration::from_secs(30)).await;
    assert_eq!(warning.message.code, Code::SentThenCancelled);
    assert_eq!(
        warning.message.params.get("status"),
        Some(&Param::Str("trash".into()))
    );
    assert_eq!(
        warning.message.params.get("number"),
        Some(&Param::Str(id.to_string()))
    );
    assert_eq!(
        t.received().await.len(),
        sent.len(),
        "nothing more was sent"
    );
}
