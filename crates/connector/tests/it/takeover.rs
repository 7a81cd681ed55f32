//! Issue 19, item 2: a store connected by one TrackingTech account is not linked by another.
//! The wizard refuses it before any key is asked for or taken, and changes nothing; the same
//! account reconnects as before and uninstalls nothing; only an operator takes a store over, and
//! then the replaced integration is uninstalled with its own token.

use std::collections::BTreeMap;
use std::time::Duration;

use connector::connection::{self, ConnectRequest, StepError};
use connector::store::{ConnectionRow, ConnectionState};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn two_accounts() -> TestApp {
    spawn_with(Options {
        fixtures: two_merchants(),
        ..Options::default()
    })
    .await
}

async fn row(t: &TestApp, id: &str) -> ConnectionRow {
    t.app
        .store()
        .connection(id)
        .await
        .expect("read")
        .expect("row")
}

/// The sandbox's customers: account email → integration tokens that still work.
async fn customers(t: &TestApp) -> BTreeMap<String, u64> {
    t.sandbox_admin("/_sandbox/customers").await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["account_email"].as_str().unwrap_or_default().to_owned(),
                c["integration_tokens"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// How many contract calls to `path` the sandbox received.
async fn calls(t: &TestApp, path: &str) -> usize {
    t.sandbox_admin("/_sandbox/requests").await["data"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["path"] == path).count())
        .unwrap_or(0)
}

fn webhook_ids(hooks: &[Value]) -> Vec<Value> {
    hooks.iter().map(|h| h["id"].clone()).collect()
}

/// What a refused take-over must leave as it was: the connection row (owner, customer, sealed
/// token), the store's webhooks, and TrackingTech's links and customers.
struct Untouched {
    row: ConnectionRow,
    hooks: Vec<Value>,
    links: usize,
}

impl Untouched {
    async fn now(t: &TestApp, id: &str) -> Untouched {
        Untouched {
            row: row(t, id).await,
            hooks: webhook_ids(&t.woo_webhooks().await),
            links: calls(t, LINK).await,
        }
    }

    async fn assert_still(&self, t: &TestApp, id: &str) {
        assert_eq!(
            row(t, id).await,
            self.row,
            "owner, customer, token unchanged"
        );
        assert_eq!(webhook_ids(&t.woo_webhooks().await), self.hooks);
        assert_eq!(
            calls(t, LINK).await,
            self.links,
            "nothing linked at TrackingTech"
        );
        assert_eq!(
            customers(t).await,
            BTreeMap::from([("demo@trackingtech.test".to_owned(), 1)])
        );
    }
}

const LINK: &str = "/external/woocommerce/link";
const UNINSTALL: &str = "/external/woocommerce/uninstall";

fn assert_refusal(es: &str) {
    assert!(
        es.contains("conectada a otra cuenta de TrackingTech")
            && es.contains("desconectarla primero")
            && es.contains("contacta al operador de este ttwc"),
        "{es}"
    );
    assert!(
        !es.contains("DEMO:1") && !es.contains("demo@") && !es.contains("con_"),
        "names neither the other account nor its connection: {es}"
    );
}

#[tokio::test]
async fn the_wizard_refuses_a_store_another_account_holds_at_the_store_step() {
    let mut t = two_accounts().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = Untouched::now(&t, &id).await;

    t.sign_in_as_other().await;
    let (s, v) = t
        .post(
            "/api/wizard/start",
            json!({"store_url": t.woo.base_url(), "code": "demo"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["step"], "store", "{v}");
    let store_id = v["stores"][0]["id"].clone();
    let (s, v) = t
        .post("/api/wizard/store", json!({"store_id": store_id}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_refusal(v["error"].as_str().unwrap_or_default());
    assert!(v.get("authorize_url").is_none(), "no key is asked for: {v}");

    // In English for a browser that asks for it.
    let r = t
        .http
        .post(format!("{}/api/wizard/store", t.base))
        .header("x-csrf-token", &t.csrf)
        .header("accept-language", "en")
        .json(&json!({"store_id": store_id}))
        .send()
        .await
        .expect("store step");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let en: Value = r.json().await.expect("json");
    let en = en["error"].as_str().unwrap_or_default();
    assert!(
        en.contains("connected to another TrackingTech account")
            && en.contains("must disconnect it first")
            && en.contains("contact the operator of this ttwc"),
        "{en}"
    );

    // The wizard did not move on, and nothing changed anywhere.
    let (_, state) = t.get_json("/api/wizard").await;
    assert_eq!(state["step"], "store", "{state}");
    assert_eq!(state["chosen"], Value::Null, "{state}");
    before.assert_still(&t, &id).await;
}

#[tokio::test]
async fn the_keys_step_refuses_a_store_another_account_connected_meanwhile_and_takes_no_key() {
    let mut t = two_accounts().await;
    let first_browser = (t.http.clone(), t.csrf.clone());
    // The other account reaches the keys step while the store is free, and its store's admin
    // approves the key request.
    t.sign_in_as_other().await;
    let view = t.through_store_step().await;
    let authorize = view["authorize_url"]
        .as_str()
        .expect("authorize_url")
        .to_owned();
    t.approve_in_woocommerce(&authorize).await;
    let other_browser = (t.http.clone(), t.csrf.clone());

    // Meanwhile the demo account connects the store from its own browser.
    (t.http, t.csrf) = first_browser;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = Untouched::now(&t, &id).await;

    (t.http, t.csrf) = other_browser;
    for attempt in 0..2 {
        let (s, v) = t.post("/api/wizard/keys", json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT, "attempt {attempt}: {v}");
        // The second answer is the same: the keys WooCommerce sent were not taken.
        assert_refusal(v["error"].as_str().unwrap_or_default());
    }
    before.assert_still(&t, &id).await;
}

#[tokio::test]
async fn the_same_account_reconnects_as_before_and_uninstalls_nothing() {
    let mut t = two_accounts().await;
    let first = t.connect_with_keys().await;
    let id = first["id"].as_str().expect("id").to_owned();
    let before = row(&t, &id).await;
    let second = t.reconnect_at_store_step().await;
    assert_eq!(second["id"], first["id"]);
    let after = row(&t, &id).await;
    assert_eq!(after.owner, before.owner);
    assert_eq!(after.customer_id, before.customer_id, "the same customer");
    assert_ne!(
        after.integration_token, before.integration_token,
        "a new token"
    );
    assert_eq!(calls(&t, UNINSTALL).await, 0);
    assert_eq!(
        customers(&t).await,
        BTreeMap::from([("demo@trackingtech.test".to_owned(), 2)]),
        "both tokens still installed"
    );
}

/// What `ttwc connect` does for the other account, in process.
struct Other {
    started: connection::Started,
    user: connection::UserInfo,
    token: trackingtech::Secret,
    store: connection::TtStore,
}

impl Other {
    async fn sign_in(t: &TestApp) -> Other {
        let started = connection::start(&t.app, &t.woo.base_url(), "DEMO")
            .await
            .expect("start");
        let (user, token) = connection::login(
            &t.app,
            &started.tenant_code,
            &started.tenant_name,
            &started.api_base,
            "otro@trackingtech.test",
            "otro1234",
        )
        .await
        .expect("login");
        let store = connection::stores(&t.app, &user, &token)
            .await
            .expect("stores")
            .remove(0);
        Other {
            started,
            user,
            token,
            store,
        }
    }

    fn request<'a>(&'a self, t: &TestApp) -> ConnectRequest<'a> {
        ConnectRequest {
            started: &self.started,
            user: &self.user,
            token: &self.token,
            store: &self.store,
            credentials: woocommerce::Credentials::new(
                t.woo.consumer_key(),
                t.woo.consumer_secret(),
            )
            .expect("keys"),
            permissions: None,
        }
    }
}

#[tokio::test]
async fn an_operators_take_over_uninstalls_the_old_integration_with_its_own_token() {
    let mut t = two_accounts().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = row(&t, &id).await;
    let other = Other::sign_in(&t).await;

    let refused = connection::connect(&t.app, other.request(&t)).await;
    assert_eq!(
        refused.err(),
        Some(StepError::HeldByAnotherAccount {
            store_url: before.store_url.clone(),
            owner: "DEMO:1".to_owned(),
            connection_id: id.clone(),
        })
    );
    assert_eq!(row(&t, &id).await, before);
    assert_eq!(calls(&t, LINK).await, 1, "only the first account's link");

    let taken = connection::take_over(&t.app, other.request(&t))
        .await
        .expect("taken over");
    assert_eq!(taken.id, id, "the same connection, the same history");
    assert_eq!(taken.owner, "DEMO:2");
    assert_eq!(taken.owner_email, "otro@trackingtech.test");
    assert_eq!(taken.tt_store_id, "201");
    assert_ne!(taken.customer_id, before.customer_id);
    assert_eq!(calls(&t, UNINSTALL).await, 1);
    assert_eq!(
        customers(&t).await,
        BTreeMap::from([
            ("demo@trackingtech.test".to_owned(), 0),
            ("otro@trackingtech.test".to_owned(), 1),
        ]),
        "the old integration is uninstalled, the new one works"
    );
    let activity = t.app.store().activity(&id, 10).await.expect("activity");
    assert_eq!(activity[0].kind, "taken_over");
    let text = &activity[0].message;
    assert_eq!(text.code, connector::text::Code::TakenOver);
    assert_eq!(
        text.params_json(),
        json!({
            "store_url": before.store_url, "tt_store": "Otra bodega", "courier": "DEMO",
            "old_owner": "DEMO:1", "new_owner": "DEMO:2", "cancelled": 0, "uninstalled": true,
        })
    );

    // The next paid order goes to the new account's customer.
    let order = made_up_order(95_001, vec![line("Polera", 1)], "Irarrázaval 123");
    assert_eq!(
        deliver(&t, &id, &order, "order.updated").await,
        StatusCode::OK
    );
    let customer = taken.customer_id.clone().expect("customer");
    let received = eventually(Duration::from_secs(20), "the order sent", || async {
        t.received().await.into_iter().next()
    })
    .await;
    assert_eq!(received["customer_id"], json!(customer), "{received}");
    // The web sees the new owner's connection (and not the old one's).
    t.sign_in_as_other().await;
    let (_, list) = t.get_json("/api/connections").await;
    assert_eq!(list["connections"][0]["id"], json!(id), "{list}");
}

#[tokio::test]
async fn a_take_over_completes_when_the_old_uninstall_fails_and_cancels_the_old_queue() {
    let mut t = two_accounts().await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // The first account's orders wait (its session needs a login), and its TrackingTech does
    // not answer any more.
    let mut old = row(&t, &id).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    old.api_base_url = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    old.state = ConnectionState::NeedsRelogin;
    t.app.update_connection(&old).await.expect("update");
    for n in [95_101, 95_102] {
        let order = made_up_order(n, vec![line("Polera", 1)], "Irarrázaval 123");
        assert_eq!(
            deliver(&t, &id, &order, "order.updated").await,
            StatusCode::OK
        );
    }
    eventually(Duration::from_secs(10), "two queued orders", || async {
        (t.order_states(&id).await.get("queued") == Some(&2)).then_some(())
    })
    .await;

    let other = Other::sign_in(&t).await;
    let taken = connection::take_over(&t.app, other.request(&t))
        .await
        .expect("taken over all the same");
    assert_eq!(taken.owner, "DEMO:2");
    assert_eq!(taken.state, ConnectionState::Connected);
    assert_eq!(
        t.order_states(&id).await,
        BTreeMap::from([("cancelled".to_owned(), 2)]),
        "the old account's queue is not sent to the new one"
    );
    assert_eq!(
        customers(&t).await,
        BTreeMap::from([
            ("demo@trackingtech.test".to_owned(), 1),
            ("otro@trackingtech.test".to_owned(), 1),
        ]),
        "the old integration could not be uninstalled"
    );
    let activity = t.app.store().activity(&id, 10).await.expect("activity");
    assert_eq!(activity[0].kind, "taken_over");
    assert_eq!(activity[0].message.params_json()["cancelled"], 2);
    assert_eq!(activity[0].message.params_json()["uninstalled"], false);
    assert_eq!(activity[1].kind, "warning");
    assert_eq!(
        activity[1].message.code,
        connector::text::Code::TakeOverUninstallFailed
    );
    assert_eq!(activity[1].message.params_json()["old_owner"], "DEMO:1");
}
