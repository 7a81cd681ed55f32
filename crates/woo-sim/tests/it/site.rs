//! What the store says about itself: time zone (REST index), language (system status) and its
//! registered order statuses (orders totals report).

use serde_json::{Value, json};

use crate::helpers::*;

async fn index(h: &woo_sim::Handle) -> Value {
    let resp = client(h)
        .get(format!("{}/wp-json/", h.base_url()))
        .send()
        .await
        .expect("sent");
    resp.json().await.unwrap_or_default()
}

#[tokio::test]
async fn index_reports_the_seeded_time_zone() {
    let h = sim().await;
    let i = index(&h).await;
    assert_eq!(
        (i["timezone_string"].clone(), i["gmt_offset"].as_f64()),
        (json!(""), Some(-3.0))
    );
    h.shutdown().await;

    let h = sim_with(|c| {
        c.seed = woo_sim::Seed::builtin()
            .with_timezone_string("America/Santiago")
            .with_utc_offset_minutes(-240)
    })
    .await;
    let i = index(&h).await;
    assert_eq!(
        (i["timezone_string"].clone(), i["gmt_offset"].as_f64()),
        (json!("America/Santiago"), Some(-4.0))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn system_status_tells_the_language_and_needs_a_key() {
    let h = sim_with(|c| c.seed = woo_sim::Seed::builtin().with_language("en_US")).await;
    let (s, _, body) = get_json(&h, "/wp-json/wc/v3/system_status", &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["environment"]["language"], "en_US");
    let (s, _, body) = get_json(
        &h,
        "/wp-json/wc/v3/system_status",
        &[("_fields", "environment")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    let anonymous = client(&h)
        .get(format!("{}/wp-json/wc/v3/system_status", h.base_url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), 401);
    h.shutdown().await;

    let h = sim().await;
    let (_, _, body) = get_json(&h, "/wp-json/wc/v3/system_status", &[]).await;
    assert_eq!(body["environment"]["language"], "es_CL");
    h.shutdown().await;
}

#[tokio::test]
async fn orders_totals_list_every_status_with_its_name_and_count() {
    let h = sim_with(|c| {
        c.seed = woo_sim::Seed::builtin().with_custom_order_status("pagado", "Pagado")
    })
    .await;
    let (s, _, body) = get_json(&h, "/wp-json/wc/v3/reports/orders/totals", &[]).await;
    assert_eq!(s, 200, "{body}");
    let rows: Vec<(String, String, i64)> = body
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["slug"].as_str().unwrap_or("").to_owned(),
                        r["name"].as_str().unwrap_or("").to_owned(),
                        r["total"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let slugs: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        slugs,
        [
            "pending",
            "processing",
            "on-hold",
            "completed",
            "cancelled",
            "refunded",
            "failed",
            "checkout-draft",
            "pagado"
        ]
    );
    let find = |slug: &str| rows.iter().find(|r| r.0 == slug).cloned();
    // The builtin seed: two completed orders, none processing; names in the store's Spanish.
    assert_eq!(
        find("completed"),
        Some(("completed".into(), "Completado".into(), 2))
    );
    assert_eq!(
        find("processing"),
        Some(("processing".into(), "Procesando".into(), 0))
    );
    assert_eq!(find("pagado"), Some(("pagado".into(), "Pagado".into(), 0)));

    // A custom status is a real status: orders can take it, and the report counts them.
    let (s, _) = admin(
        &h,
        "POST",
        "/_sim/orders",
        Some(json!({"count": 2, "status": "pagado"})),
    )
    .await;
    assert_eq!(s, 201);
    let (_, _, body) = get_json(&h, "/wp-json/wc/v3/reports/orders/totals", &[]).await;
    let pagado = body
        .as_array()
        .and_then(|a| a.iter().find(|r| r["slug"] == "pagado").cloned());
    assert_eq!(pagado.map(|r| r["total"].clone()), Some(json!(2)));
    let (s, _, list) = get_json(&h, "/wp-json/wc/v3/orders", &[("status", "pagado")]).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(2)));
    h.shutdown().await;

    let h = sim_with(|c| c.seed = woo_sim::Seed::builtin().with_language("en_US")).await;
    let (_, _, body) = get_json(&h, "/wp-json/wc/v3/reports/orders/totals", &[]).await;
    assert_eq!(
        body[1],
        json!({"slug": "processing", "name": "Processing", "total": 0})
    );
    h.shutdown().await;
}
