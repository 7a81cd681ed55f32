//! Webhook deliveries and pings, scheduled like WooCommerce's Action Scheduler does.
//!
//! Design: a save queues `(webhook id, order id)` unless that pair is already queued, so several
//! saves before the delivery runs collapse into one delivery. After `delivery_delay` a task takes
//! the pair off the queue and renders the payload *then* (the order as `GET /orders/<id>` returns
//! it), signs the exact bytes and POSTs them once: no retry. The result updates `failure_count`
//! and may disable the webhook on the 7th consecutive failure; the save that records it re-pings
//! a webhook whose ping never got a 200. With `webhooks_paused` set through `/_sim/faults`, due
//! deliveries are dropped (logged, not sent, failure count untouched).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::json::wp_json_encode;
use crate::server::App;
use crate::store::{DeliveryRecord, Trigger, now};
use crate::wire;

/// `woocommerce_max_webhook_delivery_failures`.
const MAX_FAILURES: u32 = 5;

/// Queues deliveries; pairs already queued are not queued again.
pub(crate) fn enqueue(app: &Arc<App>, triggers: Vec<Trigger>) {
    for t in triggers {
        let fresh = app.lock().queued.insert(t);
        if fresh {
            let app = Arc::clone(app);
            tokio::spawn(async move {
                tokio::time::sleep(app.delivery_delay).await;
                deliver(&app, t).await;
            });
        }
    }
}

/// `get_new_delivery_id`: a 32-hex hash of the webhook id and the current second, so two
/// deliveries of one webhook in the same second share it, as `wp_hash(id . time())` does.
pub(crate) fn delivery_id(webhook_id: u64, unix_second: i64) -> String {
    let digest = Sha256::digest(format!("woo-sim-delivery:{webhook_id}{unix_second}").as_bytes());
    hex::encode(&digest[..16])
}

/// `generate_signature`: base64 HMAC-SHA256 of the body with the HTML-decoded secret.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let secret = html_decode(secret);
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// `wp_specialchars_decode($secret, ENT_QUOTES)`.
fn html_decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn record_time() -> (String, i128) {
    stamp(time::OffsetDateTime::now_utc())
}

fn stamp(t: time::OffsetDateTime) -> (String, i128) {
    (wire::date(t), t.unix_timestamp_nanos() / 1_000_000)
}

async fn deliver(app: &Arc<App>, trigger: Trigger) {
    let (webhook_id, order_id) = trigger;
    let prepared = {
        let mut store = app.lock();
        store.queued.remove(&trigger);
        let paused = store.faults.webhooks_paused;
        let Some(w) = store.webhooks.get(&webhook_id).cloned() else {
            return;
        };
        // Counted from the moment it leaves the queue until it is logged, so that no delivery
        // is ever in neither place (`GET /_sim/deliveries/pending`).
        store.in_flight += 1;
        let body = match store.orders.get(&order_id) {
            Some(o) => wp_json_encode(&wire::order(&store, o, &app.base_url)),
            None => wp_json_encode(
                &crate::error::RestError::new(
                    404,
                    "woocommerce_rest_shop_order_invalid_id",
                    "Invalid ID.",
                )
                .body(),
            ),
        };
        (w, body, paused)
    };
    let (w, body, paused) = prepared;
    // The delivery id and the logged time come from the same instant, so tests can tell which
    // deliveries happened within one second.
    let started = time::OffsetDateTime::now_utc();
    let id = delivery_id(w.id, started.unix_timestamp());
    if paused {
        let (time, unix_ms) = record_time();
        let mut store = app.lock();
        store.in_flight = store.in_flight.saturating_sub(1);
        store.deliveries.push(DeliveryRecord {
            webhook_id: w.id,
            topic: w.topic.clone(),
            order_id: Some(order_id),
            delivery_id: None,
            ping: false,
            url: w.delivery_url.clone(),
            response_code: None,
            error: Some("dropped: webhooks_paused".into()),
            success: false,
            time,
            unix_ms,
        });
        return;
    }
    let result = match crate::urls::check(&w.delivery_url, &app.base_url, app.strict_urls).await {
        Err(e) => Err(e),
        Ok(()) => app
            .delivery_client
            .post(&w.delivery_url)
            .header("Content-Type", "application/json")
            .header("User-Agent", app.hookshot_user_agent())
            .header("X-WC-Webhook-Source", format!("{}/", app.base_url))
            .header("X-WC-Webhook-Topic", &w.topic)
            .header("X-WC-Webhook-Resource", w.resource())
            .header("X-WC-Webhook-Event", w.event())
            .header(
                "X-WC-Webhook-Signature",
                signature(&w.secret, body.as_bytes()),
            )
            .header("X-WC-Webhook-ID", w.id.to_string())
            .header("X-WC-Webhook-Delivery-ID", &id)
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("{e}")),
    };
    let success = matches!(result, Ok(code) if (200..303).contains(&code));
    let ping_needed = {
        let mut store = app.lock();
        let (time, unix_ms) = stamp(started);
        store.in_flight = store.in_flight.saturating_sub(1);
        store.deliveries.push(DeliveryRecord {
            webhook_id: w.id,
            topic: w.topic.clone(),
            order_id: Some(order_id),
            delivery_id: Some(id),
            ping: false,
            url: w.delivery_url.clone(),
            response_code: result.as_ref().ok().copied(),
            error: result.as_ref().err().cloned(),
            success,
            time,
            unix_ms,
        });
        match store.webhooks.get_mut(&w.id) {
            Some(current) => {
                if success {
                    current.failure_count = 0;
                } else if current.failure_count > MAX_FAILURES {
                    current.status = "disabled".into();
                    tracing::warn!(
                        webhook_id = current.id,
                        "webhook disabled after consecutive failed deliveries"
                    );
                } else {
                    current.failure_count += 1;
                }
                current.date_modified = Some(now());
                current.status == "active" && current.pending_delivery
            }
            None => false,
        }
    };
    if ping_needed {
        ping(app, w.id).await;
    }
}

/// `deliver_ping`: POST `webhook_id=N`, form-encoded, no `X-WC-*` headers. Only a 200 clears
/// `pending_delivery`.
pub(crate) async fn ping(app: &Arc<App>, webhook_id: u64) {
    let Some(w) = app.lock().webhooks.get(&webhook_id).cloned() else {
        return;
    };
    let result = match crate::urls::check(&w.delivery_url, &app.base_url, app.strict_urls).await {
        Err(e) => Err(e),
        Ok(()) => app
            .ping_client
            .post(&w.delivery_url)
            .header("User-Agent", app.hookshot_user_agent())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("webhook_id={webhook_id}"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("Error: Delivery URL cannot be reached: {e}")),
    };
    let ok = matches!(result, Ok(200));
    let mut store = app.lock();
    let (time, unix_ms) = record_time();
    store.deliveries.push(DeliveryRecord {
        webhook_id,
        topic: w.topic.clone(),
        order_id: None,
        delivery_id: None,
        ping: true,
        url: w.delivery_url.clone(),
        response_code: result.as_ref().ok().copied(),
        error: match &result {
            Ok(200) => None,
            Ok(code) => Some(format!(
                "Error: Delivery URL returned response code: {code}"
            )),
            Err(e) => Some(e.clone()),
        },
        success: ok,
        time,
        unix_ms,
    });
    if ok && let Some(current) = store.webhooks.get_mut(&webhook_id) {
        current.pending_delivery = false;
        current.date_modified = Some(now());
    }
}

/// HTTP clients for deliveries (no redirects, 60 s) and pings (WordPress defaults: 5 s, up to
/// 5 redirects).
pub(crate) fn clients()
-> Result<(reqwest::Client, reqwest::Client, reqwest::Client), reqwest::Error> {
    let delivery = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    let ping = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .timeout(Duration::from_secs(5))
        .build()?;
    let callback = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .timeout(Duration::from_secs(60))
        .build()?;
    Ok((delivery, ping, callback))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known-answer vector of `testdata/woocommerce-samples/`: a real store signed this
    /// delivery's body with the secret `sampleSecret123`.
    #[test]
    fn signature_matches_the_captured_delivery() {
        let captured: serde_json::Value = serde_json::from_str(include_str!(
            "../../../testdata/woocommerce-samples/webhook-deliveries-create-then-processing.json"
        ))
        .expect("the captured deliveries are JSON");
        let delivery = &captured[0];
        let body = delivery["body"].as_str().expect("the body as captured");
        let want = delivery["headers"]["X-WC-Webhook-Signature"]
            .as_str()
            .expect("the signature header");
        assert_eq!(signature("sampleSecret123", body.as_bytes()), want);
        assert_ne!(signature("sampleSecret124", body.as_bytes()), want);
    }

    #[test]
    fn the_secret_is_html_decoded_before_signing() {
        assert_eq!(signature("a&amp;b", b"x"), signature("a&b", b"x"));
        assert_ne!(signature("a&amp;b", b"x"), signature("a&amp;b", b"y"));
    }

    #[test]
    fn delivery_ids_are_32_hex_and_shared_within_a_second() {
        let a = delivery_id(6, 1_795_768_003);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, delivery_id(6, 1_795_768_003));
        assert_ne!(a, delivery_id(6, 1_795_768_004));
        assert_ne!(a, delivery_id(7, 1_795_768_003));
    }
}
