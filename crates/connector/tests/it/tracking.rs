//! ttwc's tracking item beside another carrier's: with and without the Shipment Tracking
//! extension's REST API, another's item stays byte for byte, ttwc's is exactly one, updated in
//! place, and a write-back run again adds nothing.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, eventually, spawn_with};

const ITEMS: &str = "_wc_shipment_tracking_items";
const ITEM_ID: &str = "_trackingtech_tracking_item_id";

fn theirs() -> Value {
    json!({"tracking_provider": "chilexpress", "custom_tracking_provider": "", "custom_tracking_link": "", "tracking_number": "CX-998877", "date_shipped": "1733130000", "tracking_id": "abc123"})
}

fn meta(order: &Value, key: &str) -> Option<Value> {
    order["meta_data"]
        .as_array()?
        .iter()
        .find(|m| m["key"] == key)
        .map(|m| m["value"].clone())
}

fn has_note(order: &Value, note: &str) -> bool {
    order["notes"]
        .as_array()
        .is_some_and(|n| n.iter().any(|n| n["note"] == json!(note)))
}

/// The store's client with the connection's keys, as another plugin or a person would write.
fn woo(t: &TestApp) -> woocommerce::Client {
    woocommerce::Client::new(
        t.app.woo_http(),
        woocommerce::StoreUrl::parse(&t.woo.base_url()).expect("url"),
        woocommerce::Credentials::new(t.woo.consumer_key(), t.woo.consumer_secret()).expect("keys"),
    )
}

/// Connects, makes three paid orders whose items meta holds `items` before they are paid, and
/// returns (connection, a sent order, its tracking number) once the send's write-back is done.
async fn sent_order_holding(t: &mut TestApp, items: Value) -> (String, u64, String) {
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Random orders are sometimes virtual-only (skipped, nothing to track): pay three at a
    // time until one is sent.
    let client = woo(t);
    let filter = connector::store::OrderFilter {
        connection_id: Some(conn.clone()),
        state: Some(connector::store::OrderState::Sent),
        ..Default::default()
    };
    let mut made = 0;
    let row = loop {
        assert!(made < 30, "thirty random orders and none to ship");
        let ids = t.sim_orders(3, "pending").await;
        for id in &ids {
            client
                .update_order_meta(*id, &[(ITEMS, items.clone())])
                .await
                .expect("another's items written");
            t.sim_set_status(*id, "processing").await;
        }
        made += ids.len();
        t.settled(&conn, made, Duration::from_secs(60)).await;
        let sent = t.app.store().orders(&filter).await.expect("orders");
        if let Some(row) = sent
            .into_iter()
            .find(|o| ids.contains(&(o.order_id as u64)))
        {
            break row;
        }
    };
    let id = row.order_id as u64;
    let tracking = row.tracking_id.clone().expect("tracking number");
    // The note is the write-back's last step.
    let note_end = format!("— seguimiento {tracking}");
    eventually(Duration::from_secs(30), "the send's write-back", || async {
        let o = t.sim_order(id).await;
        let noted = o["notes"].as_array().is_some_and(|n| {
            n.iter()
                .any(|n| n["note"].as_str().is_some_and(|s| s.ends_with(&note_end)))
        });
        noted.then_some(())
    })
    .await;
    (conn, id, tracking)
}

/// Another's item first and untouched, then ttwc's, exactly once.
fn assert_items(order: &Value, tracking: &str, api: bool) -> Value {
    let items = meta(order, ITEMS).expect("items");
    let list = items.as_array().expect("a list");
    assert_eq!(list.len(), 2, "{items}");
    assert_eq!(list[0], theirs(), "another carrier's item changed");
    let ours = &list[1];
    assert_eq!(ours["tracking_number"], json!(tracking), "{items}");
    assert_eq!(ours["custom_tracking_provider"], "TrackingTech", "{items}");
    if api {
        assert_eq!(meta(order, ITEM_ID), Some(ours["tracking_id"].clone()));
    } else {
        assert_eq!(ours["tracking_id"], json!(format!("ttwc{}", order["id"])));
    }
    items
}

async fn keeps_another_carriers_item(api: bool) {
    let mut t = spawn_with(Options {
        shipment_tracking: api,
        ..Options::default()
    })
    .await;
    let (conn, id, tracking) = sent_order_holding(&mut t, json!([theirs()])).await;
    let after_send = assert_items(&t.sim_order(id).await, &tracking, api);

    // A status change: a note and meta, the items as they were.
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::POST,
            "/_sandbox/advance",
            json!({"steps": 2})
        )
        .await,
        StatusCode::OK
    );
    let note = format!("TrackingTech: En tránsito — seguimiento {tracking}");
    let order = eventually(Duration::from_secs(30), "the in-transit note", || async {
        let o = t.sim_order(id).await;
        has_note(&o, &note).then_some(o)
    })
    .await;
    assert_eq!(meta(&order, ITEMS), Some(after_send.clone()));

    // The send's write-back again, as a retry would run it. Through the API, without the id
    // ttwc kept, as when the create succeeded and the meta step failed: it must list first.
    if api {
        woo(&t)
            .update_order_meta(id, &[(ITEM_ID, Value::Null)])
            .await
            .expect("id removed");
    }
    let again = json!({
        "note": "retried write-back",
        "customer_note": false,
        "meta": [],
        "tracking_number": tracking,
        "complete": false,
    });
    t.app
        .store()
        .update_tracking(
            &conn,
            id as i64,
            "in_transit",
            "En tránsito",
            "2026-01-01T00:00:00Z",
            &again.to_string(),
        )
        .await
        .expect("write-back queued");
    let order = eventually(
        Duration::from_secs(30),
        "the retried write-back",
        || async {
            let o = t.sim_order(id).await;
            has_note(&o, "retried write-back").then_some(o)
        },
    )
    .await;
    assert_eq!(assert_items(&order, &tracking, api), after_send);
}

#[tokio::test]
async fn another_carriers_item_is_kept_through_the_meta() {
    keeps_another_carriers_item(false).await;
}

#[tokio::test]
async fn another_carriers_item_is_kept_through_the_rest_api() {
    keeps_another_carriers_item(true).await;
}

#[tokio::test]
async fn items_meta_that_is_not_a_list_is_left_with_a_warning() {
    let mut t = spawn_with(Options::default()).await;
    // A PHP array with a gap in its keys comes out of the REST API as an object.
    let odd = json!({"1": theirs()});
    let (conn, id, tracking) = sent_order_holding(&mut t, odd.clone()).await;
    let order = t.sim_order(id).await;
    assert_eq!(meta(&order, ITEMS), Some(odd));
    assert_eq!(
        meta(&order, "_trackingtech_tracking_id"),
        Some(json!(tracking))
    );
    let number = order["number"].as_str().expect("number").to_owned();
    let warned = eventually(Duration::from_secs(10), "the warning", || async {
        let activity = t.app.store().activity(&conn, 100).await.expect("activity");
        activity
            .into_iter()
            .find(|a| a.kind == "warning" && a.message.code.as_str() == "order.tracking_items_kept")
    })
    .await;
    assert_eq!(
        warned.message.params_json(),
        json!({"number": number, "tracking": tracking})
    );
}
