//! The simulator's own admin API under `/_sim/` (no authentication: bind it to loopback).
//!
//! It plays the merchant and the store's customers: create realistic orders, change statuses
//! (each a save that fires `order.updated`), read what was delivered, inspect webhooks and keys,
//! and inject faults.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::App;
use crate::store::{Faults, OrderEvent};
use crate::wire;

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "no such order" })),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateOrders {
    count: u32,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
}

/// `POST /_sim/orders {"count": N, "status": "processing"?, "seed": S?}`: N checkout orders.
/// Each is created `pending` (order.created), then moved to `status` if given (order.updated),
/// as a checkout followed by a payment would. Customers, carts and shipping are drawn from a
/// generator seeded with `seed` (a random one when absent); the answer names the seed, so any
/// run's orders can be made again.
pub(crate) async fn create_orders(
    State(app): State<Arc<App>>,
    body: axum::body::Bytes,
) -> Response {
    let req: CreateOrders = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(format!(
                "expected {{\"count\": N, \"status\"?: \"...\", \"seed\"?: S}}: {e}"
            ));
        }
    };
    if req.count == 0 || req.count > 1000 {
        return bad_request("count must be between 1 and 1000");
    }
    let status = req.status.unwrap_or_else(|| "pending".into());
    if !app.lock().is_order_status(&status) {
        return bad_request(format!("unknown status {status:?}"));
    }
    let seed = req.seed.unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let (ids, triggers) = {
        let mut store = app.lock();
        let mut ids = Vec::new();
        let mut triggers = Vec::new();
        for _ in 0..req.count {
            let mut new = crate::chile::random_order(&store, &status, &mut rng);
            // Block checkout creates drafts; everything else starts pending.
            let initial = if status == "checkout-draft" {
                "checkout-draft"
            } else {
                "pending"
            };
            new.status = initial.into();
            let id = store.create_order(new);
            triggers.extend(store.triggers(OrderEvent::Created, id));
            // Checkout saves the order again after creating it.
            triggers.extend(store.triggers(OrderEvent::Updated, id));
            if status != initial {
                if let Some(mut order) = store.orders.remove(&id) {
                    store.apply_status(&mut order, &status);
                    store.touch_order(&mut order);
                    store.orders.insert(id, order);
                }
                triggers.extend(store.triggers(OrderEvent::Updated, id));
            }
            ids.push(id);
        }
        (ids, triggers)
    };
    crate::webhooks::enqueue(&app, triggers);
    (
        StatusCode::CREATED,
        Json(json!({ "ids": ids, "seed": seed })),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetStatus {
    status: String,
}

/// `POST /_sim/orders/{id}/status {"status": "..."}`: a save; fires order.updated even when the
/// status does not change, as a re-save does.
pub(crate) async fn set_status(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Response {
    let req: SetStatus = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("expected {{\"status\": \"...\"}}: {e}")),
    };
    if !app.lock().is_order_status(&req.status) {
        return bad_request(format!("unknown status {:?}", req.status));
    }
    let (value, triggers) = {
        let mut store = app.lock();
        let Some(mut order) = store.orders.remove(&id) else {
            return not_found();
        };
        store.apply_status(&mut order, &req.status);
        store.touch_order(&mut order);
        store.orders.insert(id, order);
        let triggers = store.triggers(OrderEvent::Updated, id);
        let value = store
            .orders
            .get(&id)
            .map(|o| wire::order_value(&store, o, &app.base_url));
        (value, triggers)
    };
    crate::webhooks::enqueue(&app, triggers);
    Json(value.unwrap_or(Value::Null)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetDateCreated {
    date_created_gmt: String,
}

/// `POST /_sim/orders/{id}/date_created {"date_created_gmt": "YYYY-MM-DDTHH:MM:SS"}`: what
/// wp-admin's order form does with its "Date created" field (the REST API cannot change it):
/// sets the creation date and saves the order, which fires order.updated.
pub(crate) async fn set_date_created(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Response {
    let req: SetDateCreated = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(format!(
                "expected {{\"date_created_gmt\": \"YYYY-MM-DDTHH:MM:SS\"}}: {e}"
            ));
        }
    };
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let Ok(at) = time::PrimitiveDateTime::parse(req.date_created_gmt.trim(), &format) else {
        return bad_request(format!(
            "date_created_gmt {:?} is not YYYY-MM-DDTHH:MM:SS (GMT)",
            req.date_created_gmt
        ));
    };
    let (value, triggers) = {
        let mut store = app.lock();
        let Some(mut order) = store.orders.remove(&id) else {
            return not_found();
        };
        order.date_created = at.assume_utc();
        store.touch_order(&mut order);
        store.orders.insert(id, order);
        let triggers = store.triggers(OrderEvent::Updated, id);
        let value = store
            .orders
            .get(&id)
            .map(|o| wire::order_value(&store, o, &app.base_url));
        (value, triggers)
    };
    crate::webhooks::enqueue(&app, triggers);
    Json(value.unwrap_or(Value::Null)).into_response()
}

/// `GET /_sim/orders/{id}`: the order as REST shows it plus its notes (newest first).
pub(crate) async fn get_order(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Response {
    let store = app.lock();
    let Some(order) = store.orders.get(&id) else {
        return not_found();
    };
    let mut value = wire::order_value(&store, order, &app.base_url);
    let notes: Vec<Value> = order
        .notes
        .iter()
        .rev()
        .map(|n| {
            json!({
                "id": n.id,
                "author": n.author,
                "date_created_gmt": wire::date(n.date_created),
                "note": n.note,
                "customer_note": n.customer_note,
            })
        })
        .collect();
    if let Value::Object(m) = &mut value {
        m.insert("notes".into(), Value::Array(notes));
    }
    Json(value).into_response()
}

/// `GET /_sim/deliveries`: every delivery and ping, oldest first.
pub(crate) async fn deliveries(State(app): State<Arc<App>>) -> Response {
    let store = app.lock();
    Json(json!(store.deliveries)).into_response()
}

/// `GET /_sim/deliveries/pending`: deliveries queued by saves and not yet logged (waiting out
/// the delivery delay, or sent and waiting for their answer). Zero means every save so far has
/// been delivered and answered, which a test waits for before it counts what the receiver did.
pub(crate) async fn pending_deliveries(State(app): State<Arc<App>>) -> Response {
    let store = app.lock();
    let (queued, in_flight) = (store.queued.len(), store.in_flight);
    Json(json!({ "queued": queued, "in_flight": in_flight, "pending": queued + in_flight }))
        .into_response()
}

/// `DELETE /_sim/deliveries`: forgets the log.
pub(crate) async fn clear_deliveries(State(app): State<Arc<App>>) -> Response {
    app.lock().deliveries.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_sim/webhooks`: webhooks with what REST does not show (secret, failure_count,
/// pending_delivery, api_version).
pub(crate) async fn webhooks(State(app): State<Arc<App>>) -> Response {
    let store = app.lock();
    let list: Vec<Value> = store
        .webhooks
        .values()
        .map(|w| {
            json!({
                "id": w.id,
                "name": w.name,
                "status": w.status,
                "topic": w.topic,
                "delivery_url": w.delivery_url,
                "secret": w.secret,
                "api_version": w.api_version,
                "user_id": w.user_id,
                "failure_count": w.failure_count,
                "pending_delivery": w.pending_delivery,
            })
        })
        .collect();
    Json(list).into_response()
}

/// `GET /_sim/keys`: REST keys as WooCommerce > Settings > Advanced > REST API lists them.
pub(crate) async fn keys(State(app): State<Arc<App>>) -> Response {
    let store = app.lock();
    let list: Vec<Value> = store
        .keys
        .iter()
        .map(|k| {
            json!({
                "key_id": k.key_id,
                "user_id": k.user_id,
                "description": k.description,
                "permissions": k.permissions,
                "truncated_key": k.truncated_key,
                "last_access": k.last_access.map(wire::date),
            })
        })
        .collect();
    Json(list).into_response()
}

/// `DELETE /_sim/keys/{key_id}`: the key list's "Revoke" — the key stops working at once.
pub(crate) async fn revoke_key(State(app): State<Arc<App>>, Path(key_id): Path<u64>) -> Response {
    let mut store = app.lock();
    if !store.keys.iter().any(|k| k.key_id == key_id) {
        return not_found();
    }
    store.delete_key(key_id);
    StatusCode::NO_CONTENT.into_response()
}

/// `PUT /_sim/faults`: replaces the fault settings (missing members = off).
pub(crate) async fn put_faults(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return bad_request(format!(
                "expected {{rest_latency_ms, rest_error_rate, webhooks_paused, strip_authorization}}: {e}"
            ));
        }
    };
    if !(0.0..=1.0).contains(&faults.rest_error_rate) {
        return bad_request("rest_error_rate must be between 0 and 1");
    }
    app.lock().faults = faults.clone();
    Json(json!(faults)).into_response()
}

/// `GET /_sim/faults`.
pub(crate) async fn get_faults(State(app): State<Arc<App>>) -> Response {
    let faults = app.lock().faults.clone();
    Json(json!(faults)).into_response()
}

/// `DELETE /_sim/faults`: back to a healthy store.
pub(crate) async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    app.lock().faults = Faults::default();
    StatusCode::NO_CONTENT.into_response()
}
