//! `/healthz`, `/readyz` and `/metrics`.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn health_readiness_and_metrics_tell_what_happened() {
    let mut t = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let r = t
            .http
            .get(format!("{}{path}", t.base))
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let conn = t.connect_with_keys().await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.sim_orders(3, "processing").await;
    let states = t.settled(&conn, 3, Duration::from_secs(60)).await;
    let forged = reqwest::Client::new()
        .post(format!("{}/webhooks/woocommerce/{conn}", t.base))
        .header("x-wc-webhook-source", "x/")
        .header("x-wc-webhook-topic", "order.updated")
        .header("x-wc-webhook-resource", "order")
        .header("x-wc-webhook-event", "updated")
        .header("x-wc-webhook-signature", "bm9wZQ==")
        .header("x-wc-webhook-id", "1")
        .header("x-wc-webhook-delivery-id", "1")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let r = t
        .http
        .get(format!("{}/metrics", t.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.expect("text");
    let sent = states.get("sent").copied().unwrap_or(0) as f64;
    assert_eq!(
        value(&text, "ttwc_orders{state=\"sent\"}"),
        Some(sent),
        "{text}"
    );
    assert_eq!(
        value(&text, "ttwc_sends_total{outcome=\"sent\"}"),
        Some(sent),
        "{text}"
    );
    assert!(
        value(&text, "ttwc_deliveries_received_total{outcome=\"queued\"}")
            .is_some_and(|v| v >= 3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "ttwc_deliveries_refused_total{reason=\"bad_signature\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value(&text, "ttwc_oldest_queued_seconds"), Some(0.0));
    assert!(
        value(&text, "ttwc_send_seconds_count").is_some_and(|v| v >= 3.0),
        "{text}"
    );
    assert!(
        !text.contains(&conn),
        "no connection ids (or anything personal) in labels"
    );
}
