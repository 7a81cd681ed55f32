//! The dashboard's orders page, resend and backfill, over HTTP.

use connector::text::{Code, Lang, Text};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use connector::store::{OrderFilter, OrderRow, OrderState};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn connected() -> (TestApp, String) {
    let mut t = spawn_app().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (t, id)
}

/// The rows of an orders page: (order id, state), top to bottom.
fn rows(html: &str) -> Vec<(i64, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let marker = format!("{name}=\"");
        let start = tag.find(&marker).expect("attribute") + marker.len();
        let end = tag[start..].find('"').expect("attribute ends") + start;
        tag[start..end].to_owned()
    };
    html.split("<tr class=\"order\"")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').expect("tag ends")];
            (
                attr(tag, "data-order").parse().expect("order id"),
                attr(tag, "data-state"),
            )
        })
        .collect()
}

/// The HTML of the table row of order `id` (from its `<tr>` to its `</tr>`): what a row shows,
/// without the filter links, headers and labels elsewhere on the page that use the same words.
fn row_html(html: &str, id: i64) -> &str {
    let start = html
        .find(&format!("<tr class=\"order\" data-order=\"{id}\""))
        .unwrap_or_else(|| panic!("no row for order {id}"));
    let end = html[start..].find("</tr>").expect("the row ends") + start;
    &html[start..end]
}

/// The state label a row shows (the text of its `span.state`).
fn state_label(row: &str) -> &str {
    let start = row.find("<span class=\"state ").expect("a state cell");
    let start = row[start..].find('>').expect("the tag ends") + start + 1;
    let end = row[start..].find("</span>").expect("the label ends") + start;
    &row[start..end]
}

/// The text of the row's cell of class `class`.
fn cell<'a>(row: &'a str, class: &str) -> &'a str {
    let start = row
        .find(&format!("<td class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no {class} cell in {row}"));
    let start = row[start..].find('>').expect("the tag ends") + start + 1;
    let end = row[start..].find("</td>").expect("the cell ends") + start;
    &row[start..end]
}

async fn order(t: &TestApp, conn: &str, id: i64) -> OrderRow {
    t.app
        .store()
        .order(conn, id)
        .await
        .expect("read")
        .expect("row")
}

async fn all_orders(t: &TestApp, conn: &str, state: Option<OrderState>) -> Vec<OrderRow> {
    t.app
        .store()
        .orders(&OrderFilter {
            connection_id: Some(conn.to_owned()),
            state,
            ..Default::default()
        })
        .await
        .expect("orders")
}

#[tokio::test]
async fn the_orders_page_lists_filters_and_pages_the_outbox() {
    let (t, conn) = connected().await;
    t.sim_orders(60, "processing").await;
    let states = t.settled(&conn, 60, Duration::from_secs(120)).await;
    let sent = all_orders(&t, &conn, Some(OrderState::Sent)).await;
    assert!(!sent.is_empty(), "{states:?}");

    // The dashboard card links to it.
    let home = t.get_page("/").await;
    assert!(
        home.contains(&format!("href=\"/connections/{conn}/orders\"")),
        "the card links to its orders"
    );

    // Page 1: the 50 newest, as the store lists them, with a link to page 2 of the 60.
    let base = format!("/connections/{conn}/orders");
    let page1 = t.get_page(&base).await;
    let first = rows(&page1);
    assert_eq!(first.len(), 50);
    let newest = t
        .app
        .store()
        .orders(&OrderFilter {
            connection_id: Some(conn.clone()),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("orders");
    assert_eq!(
        first.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        newest.iter().map(|o| o.order_id).collect::<Vec<_>>(),
        "newest first"
    );
    assert!(page1.contains("href=\"?page=2\""), "a link to page 2");
    assert!(page1.contains("<span class=\"total\">60</span>"));
    // Spanish by default: each row's state label is its state's name.
    for (id, state) in &first {
        let label = state_label(row_html(&page1, *id));
        let want = match state.as_str() {
            "sent" => "Enviado",
            "skipped" => "Omitido",
            other => panic!("order {id} ended {other}: {states:?}"),
        };
        assert_eq!(label, want, "order {id}, {state}");
    }
    assert!(
        first.iter().any(|(_, s)| s == "sent"),
        "page 1 shows a sent order"
    );
    let page2 = t.get_page(&format!("{base}?page=2")).await;
    let second = rows(&page2);
    assert_eq!(second.len(), 10);
    let ids: BTreeSet<i64> = first.iter().chain(&second).map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 60, "the two pages hold every order once");
    assert!(page2.contains("href=\"?page=1\""), "a link back to page 1");
    // A page past the end shows the last one.
    assert_eq!(rows(&t.get_page(&format!("{base}?page=99")).await), second);

    // The state filter narrows the list; each sent row shows its tracking id.
    let only_sent = t.get_page(&format!("{base}?state=sent&lang=en")).await;
    let listed = rows(&only_sent);
    assert_eq!(listed.len(), sent.len().min(50));
    assert!(listed.iter().all(|(_, s)| s == "sent"), "{listed:?}");
    // Each sent row shows its own tracking id, the one TrackingTech gave the order, and the
    // English label.
    let given: std::collections::HashMap<i64, String> = t
        .received()
        .await
        .iter()
        .map(|o| {
            (
                o["order"]["order_id"].as_i64().expect("order id"),
                o["tracking_id"].as_str().expect("tracking id").to_owned(),
            )
        })
        .collect();
    for (id, _) in &listed {
        let row = row_html(&only_sent, *id);
        assert_eq!(state_label(row), "Sent", "English labels with ?lang=en");
        let tracking = cell(row, "tracking");
        assert!(tracking.starts_with("LMTCL"), "{row}");
        assert_eq!(Some(tracking), given.get(id).map(String::as_str), "{row}");
    }
    let skipped = rows(&t.get_page(&format!("{base}?state=skipped")).await);
    assert_eq!(
        skipped.len(),
        states.get("skipped").copied().unwrap_or(0).min(50)
    );
    assert!(skipped.iter().all(|(_, s)| s == "skipped"));
    let failed = t.get_page(&format!("{base}?state=failed")).await;
    assert!(rows(&failed).is_empty());
    assert!(failed.contains("No orders to show."));
}

#[tokio::test]
async fn another_merchants_orders_and_actions_are_not_found() {
    let fixtures = two_merchants();
    let mut t = spawn_with(Options {
        fixtures,
        ..Options::default()
    })
    .await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/connections/{id}/orders");
    let status = |client: reqwest::Client, url: String| async move {
        client.get(url).send().await.expect("GET").status()
    };
    assert_eq!(
        status(t.http.clone(), format!("{}{path}", t.base)).await,
        StatusCode::OK,
        "the owner sees it"
    );
    assert_eq!(
        status(reqwest::Client::new(), format!("{}{path}", t.base)).await,
        StatusCode::NOT_FOUND,
        "nobody signed in"
    );

    // A second merchant signs in from another browser.
    t.sign_in_as_other().await;
    let r = t
        .http
        .get(format!("{}{path}", t.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.expect("html");
    assert!(html.contains("no es tuya"), "a page that says so");
    let (s, _) = t
        .post(
            &format!("/api/connections/{id}/resend"),
            json!({"all": true}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t
        .post(
            &format!("/api/connections/{id}/backfill"),
            json!({"since": "2024-01-01"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t.get_json(&format!("/api/connections/{id}/backfill")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        t.app
            .store()
            .activity(&id, 50)
            .await
            .expect("activity")
            .iter()
            .all(|a| a.kind != "resend"),
        "nothing was resent"
    );
}

#[tokio::test]
async fn resend_requeues_one_order_or_every_failed_and_rejected_one() {
    let (mut t, conn) = connected().await;
    let cases = [
        made_up_order(91_001, vec![line("Polera", 1)], "Irarrázaval 123"),
        made_up_order(91_002, vec![line("Sin dirección", 1)], ""),
        made_up_order(91_003, vec![], "Irarrázaval 123"),
        made_up_order(91_004, vec![line("Negativo", -3)], "Irarrázaval 123"),
    ];
    for body in &cases {
        assert_eq!(
            deliver(&t, &conn, body, "order.updated").await,
            StatusCode::OK
        );
    }
    t.settled(&conn, cases.len(), Duration::from_secs(60)).await;
    assert_eq!(order(&t, &conn, 91_001).await.state, OrderState::Sent);
    let rejected = order(&t, &conn, 91_002).await;
    assert_eq!(rejected.state, OrderState::Rejected);
    for id in [91_003, 91_004] {
        assert_eq!(order(&t, &conn, id).await.state, OrderState::Rejected);
    }

    // The page offers Resend on the rejected rows only, and the reason in the page's language.
    let page = t
        .get_page(&format!("/connections/{conn}/orders?state=rejected"))
        .await;
    assert_eq!(page.matches("class=\"resend\"").count(), 3);
    assert!(page.contains("id=\"resend-all\""));
    let reason = rejected.last_error.clone().expect("a reason");
    let (es, en) = (reason.render(Lang::Es), reason.render(Lang::En));
    assert!(page.contains(&es), "the Spanish text of {reason:?}");
    assert!(!page.contains(&en), "not the English one");

    // Without the CSRF token (or with a wrong one): 403 and nothing changes.
    let path = format!("/api/connections/{conn}/resend");
    let (s, _) = t.post_with(&path, json!({"order_id": 91_002}), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .post_with(&path, json!({"order_id": 91_002}), Some("forged"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(order(&t, &conn, 91_002).await, rejected);

    // A sent order cannot be resent; an unknown one is not found; a body must say what.
    let (s, v) = t.post(&path, json!({"order_id": 91_001})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let msg = v["error"].as_str().expect("message");
    assert!(
        msg.contains("#91001") && msg.contains("enviado"),
        "says which order and why: {msg}"
    );
    let (s, _) = t.post(&path, json!({"order_id": 123_456})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t.post(&path, json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Resending the rejected order queues it afresh: built again from the store, which does not
    // know it, so it ends skipped instead of rejected.
    let (s, v) = t.post(&path, json!({"order_id": 91_002})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["queued"], 1);
    let again = eventually(Duration::from_secs(30), "the resent order", || async {
        let o = order(&t, &conn, 91_002).await;
        (o.state == OrderState::Skipped).then_some(o)
    })
    .await;
    assert_eq!(again.attempts, 1, "attempts counted afresh");
    assert!(again.created_at > rejected.created_at, "queued again");
    assert_eq!(
        again.last_error,
        Some(Text::new(Code::OrderGone)),
        "fetched afresh from the store"
    );

    // Resend all: the two rejected ones, not the skipped one nor the sent one.
    let skipped_before = order(&t, &conn, 91_002).await;
    let (s, v) = t.post(&path, json!({"all": true})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["queued"], 2);
    t.settled(&conn, cases.len(), Duration::from_secs(60)).await;
    for id in [91_003, 91_004] {
        assert_eq!(order(&t, &conn, id).await.state, OrderState::Skipped);
    }
    assert_eq!(order(&t, &conn, 91_002).await, skipped_before);
    assert_eq!(order(&t, &conn, 91_001).await.state, OrderState::Sent);
    let (s, v) = t.post(&path, json!({"all": true})).await;
    assert_eq!((s, &v["queued"]), (StatusCode::OK, &json!(0)));
    assert_eq!(t.received().await.len(), 1, "nothing sent twice");
}

#[tokio::test]
async fn the_card_shows_the_last_error_and_its_time_in_the_pages_language() {
    let (t, conn) = connected().await;
    let body = made_up_order(92_001, vec![line("Sin dirección", 1)], "");
    assert_eq!(
        deliver(&t, &conn, &body, "order.updated").await,
        StatusCode::OK
    );
    t.settled(&conn, 1, Duration::from_secs(60)).await;
    let row = t
        .app
        .store()
        .connection(&conn)
        .await
        .expect("read")
        .expect("row");
    let (Some(error), Some(at)) = (row.last_error, row.last_error_at) else {
        panic!("a rejected order leaves the connection's last error");
    };
    let (es, en) = (error.render(Lang::Es), error.render(Lang::En));
    assert_ne!(es, en);
    // In the store's zone: the builtin simulated store is on a fixed UTC-3.
    let local = at - time::Duration::hours(3);
    let minute = format!(
        "{} {:02}:{:02} (UTC-3)",
        local.date(),
        local.hour(),
        local.minute()
    );
    // The card's last-error entry.
    let last_error = |html: &str| -> String {
        let start = html.find("last-error\">").expect("a last error");
        let end = html[start..].find("</dd>").expect("ends") + start;
        html[start..end].to_owned()
    };
    let spanish = last_error(&t.get_page("/").await);
    assert!(
        spanish.contains(es.trim()) && !spanish.contains(en.trim()),
        "{spanish}"
    );
    assert!(spanish.contains(&minute), "the error's time: {spanish}");
    let english = last_error(&t.get_page("/?lang=en").await);
    assert!(
        english.contains(en.trim()) && !english.contains(es.trim()),
        "{english}"
    );
    let (_, list) = t.get_json("/api/connections").await;
    let card = &list["connections"][0];
    assert!(card["last_error_at"].is_string());
    // JSON: the text rendered for the reader (English: the language switch above left its
    // cookie), with its code and parameters; every activity entry likewise, never both.
    assert_eq!(card["last_error"], json!(en));
    assert_eq!(card["last_error_code"], json!(error.code.as_str()));
    assert_eq!(card["last_error_params"], error.params_json());
    let activity = card["activity"].as_array().expect("activity");
    assert!(!activity.is_empty());
    for entry in activity {
        let message = entry["message"].as_str().expect("message");
        let code = entry["code"].as_str().expect("code");
        assert!(Code::parse(code).is_some(), "{entry}");
        assert!(
            entry["params"].is_object() && entry["at"].is_string() && entry["kind"].is_string(),
            "{entry}"
        );
        assert!(!message.contains(" | "), "one language: {entry}");
    }
}

/// Polls the backfill's status until it stops.
async fn backfill_finished(t: &TestApp, conn: &str) -> Value {
    eventually(
        Duration::from_secs(30),
        "the backfill to finish",
        || async {
            let (s, v) = t
                .get_json(&format!("/api/connections/{conn}/backfill"))
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            (v["running"] == false).then_some(v)
        },
    )
    .await
}

#[tokio::test]
async fn backfill_sends_orders_older_than_the_connection() {
    let mut t = spawn_app().await;
    let today = time::OffsetDateTime::now_utc().date();
    let old: HashSet<i64> = t
        .sim_orders(5, "processing")
        .await
        .into_iter()
        .map(|id| id as i64)
        .collect();
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/connections/{conn}/backfill");
    let (s, _) = t.get_json(&path).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "none started yet");

    // An order made after connecting goes through; the older ones stay out.
    let new = t.sim_orders(1, "processing").await[0] as i64;
    t.settled(&conn, 1, Duration::from_secs(60)).await;
    let known: HashSet<i64> = all_orders(&t, &conn, None)
        .await
        .iter()
        .map(|o| o.order_id)
        .collect();
    assert_eq!(known, HashSet::from([new]));

    // Bad dates are refused, naming the value.
    for bad in ["2024-13-45", "ayer", "2999-01-01"] {
        let (s, v) = t.post(&path, json!({"since": bad})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["field"], "since");
        assert!(v["error"].as_str().unwrap_or("").contains(bad), "{v}");
    }
    let (s, _) = t.get_json(&path).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a refused start starts nothing");

    let (s, v) = t.post(&path, json!({"since": today.to_string()})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["started"], true);
    let done = backfill_finished(&t, &conn).await;
    assert_eq!(done["error"], Value::Null, "{done}");
    assert_eq!(done["seen"], 6, "{done}");
    assert_eq!(done["queued"], 5, "the new order was already known: {done}");

    let states = t.settled(&conn, 6, Duration::from_secs(60)).await;
    let orders = all_orders(&t, &conn, None).await;
    let ids: HashSet<i64> = orders.iter().map(|o| o.order_id).collect();
    assert!(old.is_subset(&ids), "every older order queued");
    let sent: HashSet<i64> = orders
        .iter()
        .filter(|o| o.state == OrderState::Sent)
        .map(|o| o.order_id)
        .collect();
    assert!(
        orders
            .iter()
            .all(|o| matches!(o.state, OrderState::Sent | OrderState::Skipped)),
        "{states:?}"
    );
    let received: HashSet<i64> = t
        .received()
        .await
        .iter()
        .filter_map(|o| o["order"]["order_id"].as_i64())
        .collect();
    assert_eq!(received, sent, "the sent ones reached TrackingTech");
    let activity = t.app.store().activity(&conn, 50).await.expect("activity");
    assert!(activity.iter().any(|a| a.kind == "backfill"));

    // The dashboard shows how the last backfill ended.
    let home = t.get_page("/?lang=en").await;
    assert!(
        home.contains("Backfill finished. 6 orders seen, 5 queued"),
        "{home}"
    );
    let (_, status) = t
        .get_json(&format!("/api/connections/{conn}/backfill"))
        .await;
    assert_eq!(status["counts"], "6 orders seen, 5 queued", "{status}");
    let home = t.get_page("/?lang=es").await;
    assert!(home.contains("6 pedidos revisados, 5 en cola"), "{home}");

    // Again: nothing new to queue.
    let (s, _) = t.post(&path, json!({"since": today.to_string()})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let again = backfill_finished(&t, &conn).await;
    assert_eq!(
        (again["seen"].clone(), again["queued"].clone()),
        (json!(6), json!(0))
    );
}

#[tokio::test]
async fn a_second_backfill_while_one_runs_is_refused() {
    let (mut t, conn) = connected().await;
    // Every REST answer of the store takes 1.5 s (under the 2 s timeout), so the first backfill
    // is still listing when the second start arrives.
    t.sim_faults(json!({"rest_latency_ms": 1500})).await;
    let path = format!("/api/connections/{conn}/backfill");
    let (s, v) = t.post(&path, json!({"since": "2024-01-01"})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let (s, v) = t.post(&path, json!({"since": "2024-01-01"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap_or("").contains("en curso"));
    t.sim_faults(json!({})).await;
    let done = backfill_finished(&t, &conn).await;
    assert_eq!(done["error"], Value::Null, "{done}");
    assert_eq!(done["queued"], 0);
    let (s, _) = t.post(&path, json!({"since": "2024-01-01"})).await;
    assert_eq!(
        s,
        StatusCode::ACCEPTED,
        "a finished backfill can be run again"
    );
    backfill_finished(&t, &conn).await;
}

// ---- The page's script, in a real browser ----

mod browser {
    //! The dashboard's script in headless Chromium: backfill with its live progress, Resend and
    //! Resend all. Like `browser.rs`, it needs `chromium` and `chromium-driver` and is recorded as
    //! skipped without them, unless `TTWC_REQUIRE_BROWSER=1` makes their absence a failure.

    use std::path::PathBuf;
    use std::time::Duration;

    use fantoccini::{Client, ClientBuilder, Locator};
    use reqwest::StatusCode;
    use serde_json::json;
    use testkit::chromedriver::{self, Chromedriver};

    use super::{deliver, line, made_up_order, order};
    use crate::helpers::*;
    use connector::store::OrderState;

    const WAIT: Duration = Duration::from_secs(30);

    async fn browser(driver: &Chromedriver) -> Client {
        ClientBuilder::rustls()
            .expect("tls")
            .capabilities(driver.capabilities(1300, 1400))
            .connect(&driver.url)
            .await
            .expect("a browser session")
    }

    async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    async fn click(c: &Client, css: &str) {
        find(c, css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    async fn fill(c: &Client, css: &str, text: &str) {
        find(c, css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    async fn screenshot(c: &Client, name: &str) {
        let png = c.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts"));
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        std::fs::write(dir.join(name), png).expect("screenshot written");
    }

    #[tokio::test]
    async fn backfill_and_resend_from_the_dashboard_in_a_real_browser() {
        let Some(driver) = chromedriver::start(
            "dashboard::browser::backfill_and_resend_from_the_dashboard_in_a_real_browser",
        ) else {
            return;
        };
        let mut t = spawn_app().await;
        t.sim_orders(3, "processing").await;
        let conn = t.connect_with_keys().await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        for id in [93_001, 93_002, 93_003] {
            let body = made_up_order(id, vec![line("Sin dirección", 1)], "");
            assert_eq!(
                deliver(&t, &conn, &body, "order.updated").await,
                StatusCode::OK
            );
        }
        t.settled(&conn, 3, Duration::from_secs(60)).await;
        let c = browser(&driver).await;
        async {
            // The merchant signs in on the home page.
            c.goto(&format!("{}/?lang=en", t.base)).await.expect("home");
            fill(&c, "#si-code", "demo").await;
            fill(&c, "#si-email", EMAIL).await;
            fill(&c, "#si-password", PASSWORD).await;
            click(&c, "#sign-in-submit").await;

            // Backfill since today: the progress line follows it to the end.
            click(&c, ".connection .backfill summary").await;
            let today = time::OffsetDateTime::now_utc().date().to_string();
            c.execute(
                "document.querySelector('.backfill-form input[name=since]').value = arguments[0];",
                vec![json!(today)],
            )
            .await
            .expect("date set");
            click(&c, ".backfill-form button[type=submit]").await;
            let progress = Locator::XPath(
                "//p[contains(@class,'backfill-progress') and contains(., 'Backfill finished. 3 orders seen, 3 queued')]",
            );
            c.wait()
                .at_most(WAIT)
                .for_element(progress)
                .await
                .expect("the progress line shows the totals");
            screenshot(&c, "dashboard-en.png").await;

            // The orders page: Resend on one rejected order.
            click(&c, ".connection a.orders-link").await;
            find(&c, "#orders").await;
            screenshot(&c, "orders-en.png").await;
            click(&c, "tr[data-order='93001'] button.resend").await;
            find(&c, "tr[data-order='93001']:not([data-state='rejected'])").await;
            eventually(WAIT, "93001 to be skipped", || async {
                (order(&t, &conn, 93_001).await.state == OrderState::Skipped).then_some(())
            })
            .await;
            assert_eq!(
                order(&t, &conn, 93_002).await.state,
                OrderState::Rejected,
                "only the one clicked"
            );

            // Resend all, after confirming.
            c.goto(&format!("{}/connections/{conn}/orders", t.base))
                .await
                .expect("orders page");
            click(&c, "#resend-all").await;
            c.accept_alert().await.expect("the confirm dialog");
            eventually(WAIT, "the other two to be resent", || async {
                let states = [
                    order(&t, &conn, 93_002).await.state,
                    order(&t, &conn, 93_003).await.state,
                ];
                states
                    .iter()
                    .all(|s| *s != OrderState::Rejected)
                    .then_some(())
            })
            .await;
            // The page may be reloading after the resend: the box found may go stale before
            // it is read, so find and read it again until one read succeeds.
            let shown = eventually(WAIT, "the error box to be readable", || async {
                let error = c.find(Locator::Css("#error")).await.ok()?;
                error.is_displayed().await.ok()
            })
            .await;
            assert!(!shown, "no error shown");
        }
        .await;
        let _ = c.close().await;
    }
}
