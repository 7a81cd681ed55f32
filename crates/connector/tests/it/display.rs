//! Issue 19, items 5 and 6: what the pages show of text from outside (neutralized and cut,
//! while TrackingTech gets it as the store wrote it), signed bodies that are not an order
//! object, and replayed deliveries that must not set an older status over a newer one.

use std::time::Duration;

use connector::store::OrderState;
use connector::text::Code;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, deliver, eventually, line, made_up_order, spawn_app};

async fn connected() -> (TestApp, String) {
    let mut t = spawn_app().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (t, id)
}

/// Characters that must never reach a page as they are.
const UNSAFE: [char; 4] = ['\u{202e}', '\u{0}', '\u{1b}', '\u{2066}'];

fn assert_clean(what: &str, text: &str) {
    for c in UNSAFE {
        assert!(!text.contains(c), "{what} shows {c:?} as it is");
    }
}

/// A made-up order (see `made_up_order`) with these fields changed.
fn order_with(id: u64, changes: Value) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&made_up_order(
        id,
        vec![line("Polera", 1)],
        "Irarrázaval 123",
    ))
    .expect("json");
    for (key, value) in changes.as_object().expect("object") {
        order[key] = value.clone();
    }
    serde_json::to_vec(&order).expect("json")
}

async fn wait_for_state(t: &TestApp, conn: &str, id: i64, state: OrderState) {
    eventually(Duration::from_secs(30), "the order's state", || async {
        let o = t.app.store().order(conn, id).await.ok()??;
        (o.state == state).then_some(())
    })
    .await;
}

#[tokio::test]
async fn outside_text_is_shown_neutralized_and_cut_but_sent_as_the_store_wrote_it() {
    let (t, conn) = connected().await;
    // A bidi override, a NUL and an escape in a 100,000-character number, and in the names
    // TrackingTech receives.
    let number = format!("N\u{202e}\u{0}\u{1b}[2J{}", "8".repeat(100_000));
    let product = "Polera \u{202e}gpj.exe\u{0}";
    let mut order: Value = serde_json::from_slice(&order_with(
        95_001,
        json!({"number": number, "line_items": [line(product, 1)]}),
    ))
    .expect("json");
    order["billing"]["first_name"] = json!("Ana\u{2066}\u{0}");
    let body = serde_json::to_vec(&order).expect("json");
    assert_eq!(
        deliver(&t, &conn, &body, "order.updated").await,
        StatusCode::OK
    );
    wait_for_state(&t, &conn, 95_001, OrderState::Sent).await;

    // Stored and sent as the store wrote it.
    let stored = t
        .app
        .store()
        .order(&conn, 95_001)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(stored.order_number, number);
    let received = t.received().await;
    let sent = &received
        .iter()
        .find(|o| o["order"]["order_id"] == 95_001)
        .expect("TrackingTech received the order")["order"];
    assert_eq!(sent["products"][0]["name"], product);
    assert_eq!(sent["shipping"]["first_name"], "Ana\u{2066}\u{0}");

    // Shown neutralized and cut: the orders page (the number) and the dashboard (the activity
    // entry naming it).
    let cut = format!("N???[2J{}…", "8".repeat(32));
    assert_eq!(cut.chars().count(), connector::display::ORDER_NUMBER);
    let orders = t.get_page(&format!("/connections/{conn}/orders")).await;
    assert_clean("the orders page", &orders);
    assert!(orders.contains(&format!("#{cut}")), "the number, cut");
    assert!(!orders.contains(&"8".repeat(33)), "no more of the number");
    let dashboard = t.get_page("/").await;
    assert_clean("the dashboard", &dashboard);
    assert!(dashboard.contains(&format!("#{cut}")), "the activity entry");
    assert!(!dashboard.contains(&"8".repeat(33)));
    // The JSON the pages' script reads carries display-safe messages; the parameters keep the
    // stored values for programs.
    let (status, list) = t.get_json("/api/connections").await;
    assert_eq!(status, StatusCode::OK);
    let activity = list["connections"][0]["activity"]
        .as_array()
        .expect("activity");
    let sent_entry = activity
        .iter()
        .find(|a| a["code"] == Code::OrderSent.as_str())
        .expect("order.sent");
    let message = sent_entry["message"].as_str().expect("message");
    assert_clean("the activity message", message);
    assert!(message.contains(&cut), "{message}");
    assert_eq!(sent_entry["params"]["number"], number.as_str());
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_object_is_refused_and_stores_nothing() {
    let (t, conn) = connected().await;
    // The last one reads as an order's head when arrays are taken for structs (fields in order).
    let bodies: [&[u8]; 5] = [
        b"[1,2,3]",
        b"\"x\"",
        b"1",
        b" null",
        br#"[95002, "95002", "processing"]"#,
    ];
    for body in bodies {
        let hooks = t.woo_webhooks().await;
        let secret = hooks[0]["secret"].as_str().expect("secret");
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
            .header("x-wc-webhook-id", hooks[0]["id"].to_string())
            .header("x-wc-webhook-delivery-id", "1")
            .body(body.to_vec())
            .send()
            .await
            .expect("delivery");
        let shown = String::from_utf8_lossy(body);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{shown}");
        let answer: Value = r.json().await.expect("json");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains("not a JSON object")),
            "{shown}: {answer}"
        );
    }
    assert!(
        t.order_states(&conn).await.is_empty(),
        "no row from a body that is not an order"
    );
    assert!(
        t.app
            .store()
            .order(&conn, 95_002)
            .await
            .expect("read")
            .is_none()
    );
}

/// A store's time as WooCommerce writes `date_modified_gmt`.
fn gmt(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .expect("format")
}

#[tokio::test]
async fn a_replayed_older_delivery_does_not_set_an_older_status() {
    let (t, conn) = connected().await;
    let now = time::OffsetDateTime::now_utc();
    let (paid, cancelled) = (
        now + time::Duration::seconds(5),
        now + time::Duration::minutes(5),
    );
    let at = |status: &str, modified: time::OffsetDateTime| {
        order_with(
            95_010,
            json!({"status": status, "date_modified_gmt": gmt(modified)}),
        )
    };
    let paid_delivery = at("processing", paid);
    let cancelled_delivery = at("cancelled", cancelled);
    assert_eq!(
        deliver(&t, &conn, &paid_delivery, "order.updated").await,
        StatusCode::OK
    );
    wait_for_state(&t, &conn, 95_010, OrderState::Sent).await;
    let warnings = || async {
        t.app
            .store()
            .activity(&conn, 100)
            .await
            .expect("activity")
            .into_iter()
            .filter(|a| a.message.code == Code::SentThenCancelled)
            .count()
    };
    let woo_status = || async {
        t.app
            .store()
            .order(&conn, 95_010)
            .await
            .expect("read")
            .expect("row")
            .woo_status
    };

    // Cancelled in the store after it was sent: said once.
    assert_eq!(
        deliver(&t, &conn, &cancelled_delivery, "order.updated").await,
        StatusCode::OK
    );
    assert_eq!(woo_status().await, "cancelled");
    assert_eq!(warnings().await, 1);

    // The older delivery replayed, properly signed: acknowledged, and the newer status stays.
    assert_eq!(
        deliver(&t, &conn, &paid_delivery, "order.updated").await,
        StatusCode::OK
    );
    assert_eq!(woo_status().await, "cancelled");
    // So the cancellation replayed is no news either: no second warning.
    assert_eq!(
        deliver(&t, &conn, &cancelled_delivery, "order.updated").await,
        StatusCode::OK
    );
    assert_eq!(woo_status().await, "cancelled");
    assert_eq!(warnings().await, 1);
    assert_eq!(t.received().await.len(), 1, "the replay sent nothing again");
}

#[tokio::test]
async fn trackingtech_names_are_shown_neutralized_in_the_wizard_and_on_the_dashboard() {
    let long = "x".repeat(200);
    let fixtures = sandbox::Fixtures::from_toml(&format!(
        r#"
        [[tenants]]
        code = "DEMO"
        name = "Courier\u202EDemo"
        active = true

        [[accounts]]
        email = "demo@trackingtech.test"
        password = "demo1234"
        name = "Demo\u0000\u001b[2J"
          [[accounts.stores]]
          id = 101
          name = "Bodega\u2066{long}"
          address = "Providencia\u202E 123"
        "#
    ))
    .expect("fixtures");
    let mut t = crate::helpers::spawn_with(crate::helpers::Options {
        fixtures,
        ..Default::default()
    })
    .await;
    // The wizard's JSON, which the page's script writes with textContent.
    let (_, v) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "demo"}),
        )
        .await;
    assert_eq!(v["tenant_name"], "Courier?Demo", "{v}");
    let (_, v) = t
        .post(
            "/api/wizard/login",
            json!({"email": crate::helpers::EMAIL, "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(v["step"], "store", "{v}");
    let store = &v["stores"][0];
    assert_eq!(store["id"], 101, "ids stay exact");
    assert_eq!(store["address"], "Providencia? 123");
    let name = store["name"].as_str().expect("name");
    assert_eq!(name, format!("Bodega?{}…", "x".repeat(72)));
    assert_eq!(name.chars().count(), connector::display::NAME);
    assert_eq!(v["user"]["name"], "Demo??[2J");

    // Connected: stored as TrackingTech named it, shown neutralized and cut.
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let row = t
        .app
        .store()
        .connection(&id)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.tt_store_name, format!("Bodega\u{2066}{long}"));
    assert_eq!(row.tenant_name, "Courier\u{202e}Demo");
    let dashboard = t.get_page("/").await;
    assert_clean("the dashboard", &dashboard);
    assert!(dashboard.contains("Courier?Demo"));
    assert!(dashboard.contains("Demo??[2J"), "the signed-in user");
    assert!(dashboard.contains(name));
    assert!(!dashboard.contains(&"x".repeat(73)));
}
