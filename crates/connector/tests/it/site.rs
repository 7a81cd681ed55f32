//! What ttwc takes from the store itself: times shown in its zone, notes in its language, and
//! the trigger status chosen among its own order statuses.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn connected_to(seed: woo_sim::Seed, options: Options) -> (TestApp, String) {
    let mut t = spawn_with(Options {
        woo_seed: seed,
        ..options
    })
    .await;
    let id = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (t, id)
}

async fn row(t: &TestApp, id: &str) -> connector::store::ConnectionRow {
    t.app
        .store()
        .connection(id)
        .await
        .expect("read")
        .expect("connection exists")
}

/// `YYYY-MM-DD HH:MM` of `at` shifted by `minutes`, as the time crate computes it.
fn wall(at: time::OffsetDateTime, minutes: i64) -> String {
    let at = at + time::Duration::minutes(minutes);
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

/// The card's text of the definition after `<dt>label</dt>`.
fn definition<'a>(html: &'a str, label: &str) -> &'a str {
    let start = html
        .find(&format!("<dt>{label}</dt>"))
        .unwrap_or_else(|| panic!("no {label:?} on the page"));
    let dd = html[start..].find("<dd").expect("a definition") + start;
    let open = html[dd..].find('>').expect("tag ends") + dd + 1;
    let end = html[open..].find("</dd>").expect("definition ends") + open;
    &html[open..end]
}

#[tokio::test]
async fn dashboard_times_are_in_the_stores_named_zone() {
    let seed = woo_sim::Seed::builtin()
        .with_timezone_string("America/Santiago")
        .with_utc_offset_minutes(-180);
    let (t, id) = connected_to(seed, Options::default()).await;
    let connected_at = row(&t, &id).await.connected_at.expect("connected");
    // Santiago's offset at that instant, from the zone database (UTC-3 in its summer, UTC-4).
    let offset = jiff::Timestamp::from_second(connected_at.unix_timestamp())
        .expect("timestamp")
        .to_zoned(jiff::tz::TimeZone::get("America/Santiago").expect("zone"))
        .offset()
        .seconds()
        / 60;
    let page = t.get_page("/?lang=en").await;
    assert_eq!(
        definition(&page, "Connected since"),
        format!(
            "{} (America/Santiago)",
            wall(connected_at, i64::from(offset))
        )
    );
    // The activity list too ("Store … connected"), and nothing on the card is in UTC.
    assert!(
        page.contains(&format!(
            "<time>{} (America/Santiago)</time>",
            wall(connected_at, i64::from(offset))
        )),
        "{page}"
    );
    assert!(!page.contains(" UTC"), "{page}");
    let (s, list) = t.get_json("/api/connections").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["connections"][0]["timezone"], "America/Santiago");
}

#[tokio::test]
async fn a_store_on_a_fixed_offset_shows_times_in_it() {
    let seed = woo_sim::Seed::builtin().with_utc_offset_minutes(-240);
    let (t, id) = connected_to(seed, Options::default()).await;
    let connected_at = row(&t, &id).await.connected_at.expect("connected");
    let page = t.get_page("/?lang=en").await;
    assert_eq!(
        definition(&page, "Connected since"),
        format!("{} (UTC-4)", wall(connected_at, -240))
    );
}

#[tokio::test]
async fn a_connection_without_a_zone_reads_it_at_the_next_reconcile() {
    let seed = woo_sim::Seed::builtin().with_timezone_string("America/Bogota");
    let options = Options {
        reconcile_interval: Duration::from_millis(200),
        ..Options::default()
    };
    let (t, id) = connected_to(seed, options).await;
    // As a connection made before ttwc kept the zone.
    let mut before = row(&t, &id).await;
    before.store_timezone = None;
    before.store_utc_offset = None;
    t.app.update_connection(&before).await.expect("cleared");
    let zone = eventually(Duration::from_secs(30), "the zone read again", || async {
        row(&t, &id).await.store_timezone
    })
    .await;
    assert_eq!(zone, "America/Bogota");
}

/// The note ttwc writes when TrackingTech's shipment moves on, for the first sent order.
async fn first_note(t: &TestApp, conn: &str) -> String {
    // Generated orders may have nothing to ship (skipped, no shipment): pay orders until one
    // is sent.
    let mut sent = None;
    for made in 1..=10 {
        t.sim_orders(1, "processing").await;
        t.settled(conn, made, Duration::from_secs(60)).await;
        sent = t
            .outbox_states(conn)
            .await
            .into_iter()
            .find_map(|(id, state)| (state == "sent").then_some(id));
        if sent.is_some() {
            break;
        }
    }
    let id = sent.expect("one of ten orders is sent");
    assert_eq!(
        t.sandbox_send(
            reqwest::Method::POST,
            "/_sandbox/advance",
            json!({"steps": 2})
        )
        .await,
        StatusCode::OK
    );
    eventually(Duration::from_secs(30), "a TrackingTech note", || async {
        let o = t.sim_order(id).await;
        o["notes"].as_array()?.iter().find_map(|n| {
            let text = n["note"].as_str()?;
            text.starts_with("TrackingTech:").then(|| text.to_owned())
        })
    })
    .await
}

#[tokio::test]
async fn notes_follow_the_stores_language() {
    let (t, id) = connected_to(
        woo_sim::Seed::builtin().with_language("en_US"),
        Options::default(),
    )
    .await;
    assert_eq!(row(&t, &id).await.store_language.as_deref(), Some("en_US"));
    let note = first_note(&t, &id).await;
    assert!(note.contains(" — tracking LMTCL"), "{note}");

    let (t, id) = connected_to(woo_sim::Seed::builtin(), Options::default()).await;
    assert_eq!(row(&t, &id).await.store_language.as_deref(), Some("es_CL"));
    let note = first_note(&t, &id).await;
    assert!(note.contains(" — seguimiento LMTCL"), "{note}");
}

/// The `(value, label)` options of the card's trigger status select.
fn status_options(html: &str) -> Vec<(String, String)> {
    let start = html
        .find("<select name=\"trigger_status\">")
        .expect("a status select");
    let end = html[start..].find("</select>").expect("select ends") + start;
    html[start..end]
        .split("<option ")
        .skip(1)
        .map(|o| {
            let v = o.find("value=\"").expect("value") + 7;
            let v_end = o[v..].find('"').expect("value ends") + v;
            let label = o.find('>').expect("tag ends") + 1;
            let label_end = o[label..].find("</option>").expect("option ends") + label;
            (o[v..v_end].to_owned(), o[label..label_end].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_trigger_status_is_one_of_the_stores_own() {
    let seed = woo_sim::Seed::builtin().with_custom_order_status("listo-envio", "Listo para envío");
    let (mut t, id) = connected_to(seed, Options::default()).await;
    // The store's own statuses with the names its es_CL WooCommerce gives them, the custom
    // one included (drafts are carts, never offered).
    let want: Vec<(String, String)> = [
        ("pending", "Pendiente de pago"),
        ("processing", "Procesando"),
        ("on-hold", "En espera"),
        ("completed", "Completado"),
        ("cancelled", "Cancelado"),
        ("refunded", "Reembolsado"),
        ("failed", "Fallido"),
        ("listo-envio", "Listo para envío"),
    ]
    .iter()
    .map(|(s, n)| ((*s).to_owned(), (*n).to_owned()))
    .collect();
    let page = t.get_page("/").await;
    assert_eq!(status_options(&page), want);
    assert!(
        page.contains("<option value=\"processing\" selected>"),
        "{page}"
    );

    // A custom status the store has is accepted and sends orders reaching it.
    let (s, v) = t
        .post(
            &format!("/api/connections/{id}/settings"),
            json!({"trigger_status": "listo-envio"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(row(&t, &id).await.trigger_status, "listo-envio");

    // One it does not have is refused, naming it, and nothing is saved.
    let activity_before = t.app.store().activity(&id, 100).await.expect("activity");
    let (s, v) = t
        .post(
            &format!("/api/connections/{id}/settings"),
            json!({"trigger_status": "pagado", "mark_completed": true}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let message = v["error"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("«pagado»"), "{v}");
    assert_eq!(v["field"], "trigger_status", "{v}");
    let after = row(&t, &id).await;
    assert_eq!(
        (after.trigger_status.as_str(), after.mark_completed),
        ("listo-envio", false)
    );
    assert_eq!(
        t.app
            .store()
            .activity(&id, 100)
            .await
            .expect("activity")
            .len(),
        activity_before.len()
    );
}

#[tokio::test]
async fn a_saved_status_the_store_lacks_shows_as_an_error_until_fixed() {
    let (mut t, id) = connected_to(woo_sim::Seed::builtin(), Options::default()).await;
    let page = t.get_page("/").await;
    assert!(!page.contains("trigger-status-error"), "{page}");
    // Saved before ttwc checked (the bug: "Pagado" was accepted, and nothing went out).
    let mut saved = row(&t, &id).await;
    saved.trigger_status = "pagado".into();
    t.app.update_connection(&saved).await.expect("saved");
    let page = t.get_page("/?lang=en").await;
    let start = page
        .find("trigger-status-error")
        .expect("the error on the card");
    assert!(
        page[start..].contains("The store has no order status &quot;pagado&quot;"),
        "{page}"
    );
    // Nothing is pre-selected for it: the merchant chooses.
    let options = status_options(&page);
    assert_eq!(options.first().map(|o| o.0.as_str()), Some(""));
    let (s, v) = t
        .post(
            &format!("/api/connections/{id}/settings"),
            json!({"trigger_status": "processing"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let page = t.get_page("/").await;
    assert!(!page.contains("trigger-status-error"), "{page}");
}
