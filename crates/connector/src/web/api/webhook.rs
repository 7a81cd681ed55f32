//! The webhook receiver.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::connection::{self};
use crate::store::ConnectionState;
use crate::text::{Code, Text};
use crate::web::{ApiError, WebState};

// ---- Webhooks ----

/// `POST /webhooks/woocommerce/{connection}`.
///
/// The ping WooCommerce sends inside the very call that creates the webhook is answered 200
/// whatever the connection's state. A delivery must name a live connection (404 otherwise,
/// which WooCommerce counts as a failure), carry a valid signature (401), be an order topic
/// (400) with an order body: a JSON object (400) whose head reads (400). An order at the trigger status, new since the store was
/// connected (`connection::NewSince`), is committed to the outbox *before* the 2xx; a database failure answers 503, so
/// the delivery counts as failed and reconcile finds the order later. Duplicates, ttwc's own
/// write-backs and `checkout-draft` orders queue nothing new; an order at the trigger status
/// older than the connection is recorded once in the activity, with how to send it.
pub async fn webhook(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let metrics = st.app.metrics();
    match receive(&st, &id, &headers, &raw).await {
        Ok((outcome, response)) => {
            metrics.delivery(outcome);
            response
        }
        Err((reason, error)) => {
            metrics.refused(reason);
            error.into_response()
        }
    }
}

/// A delivery refused: the metric's reason and the answer.
type Refusal = (&'static str, ApiError);

#[tracing::instrument(name = "delivery", skip_all, fields(connection_id = %id, order_id = tracing::field::Empty))]
async fn receive(
    st: &WebState,
    id: &str,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Result<(&'static str, Response), Refusal> {
    let unavailable = |e: crate::store::StoreError| {
        tracing::error!(connection_id = %id, error = %e, "cannot record a delivery");
        (
            "storage",
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Storage unavailable; try again.",
            ),
        )
    };
    let incoming = woocommerce::webhook::classify(headers, raw).map_err(|e| {
        (
            "bad_request",
            ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
        )
    })?;
    let delivery = match incoming {
        woocommerce::webhook::Incoming::Ping { .. } => {
            return Ok(("ping", (StatusCode::OK, "pong").into_response()));
        }
        woocommerce::webhook::Incoming::Delivery(d) => d,
    };
    let live = |t: Option<Arc<crate::targets::Target>>| {
        t.filter(|t| t.state != ConnectionState::Disconnected)
            .ok_or_else(|| {
                let e = ApiError::new(StatusCode::NOT_FOUND, "Unknown connection.");
                ("unknown_connection", e)
            })
    };
    let bad_signature = |message: String| {
        (
            "bad_signature",
            ApiError::new(StatusCode::UNAUTHORIZED, message),
        )
    };
    let check = |row: &crate::targets::Target| match &row.webhook_secret {
        Some(secret) => delivery
            .verify(secret.as_bytes(), raw)
            .map_err(|e| bad_signature(e.to_string())),
        None => Err(bad_signature("No webhook secret.".into())),
    };
    let mut row = live(st.app.delivery_target(id).await.map_err(unavailable)?)?;
    if let Err(refused) = check(&row) {
        // The secret may have changed since it was cached (a reconnect, maybe on another
        // replica): refuse only what a fresh read refuses too.
        row = live(
            st.app
                .fresh_delivery_target(id)
                .await
                .map_err(unavailable)?,
        )?;
        if check(&row).is_err() {
            return Err(refused);
        }
    }
    if delivery.resource != "order" || !matches!(delivery.event.as_str(), "created" | "updated") {
        let message = format!(
            "Unexpected topic {:?}: ttwc takes order.created and order.updated.",
            delivery.topic
        );
        return Err((
            "wrong_topic",
            ApiError::new(StatusCode::BAD_REQUEST, message),
        ));
    }
    // WooCommerce delivers an order as a JSON object. serde reads a struct from an array too
    // (its fields in order), so `[7, "7", "processing"]` would read as an order's head: anything
    // but an object is refused before the head is read.
    if raw.trim_ascii_start().first() != Some(&b'{') {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "Not an order: the delivery body is not a JSON object.",
        );
        return Err(("bad_request", e));
    }
    // Only the head: the body is stored as it came, and the engine reads the rest when it maps
    // the order (fetching it again from the store if the stored body does not read).
    let order = woocommerce::webhook::parse_order_head(raw).map_err(|e| {
        let e = ApiError::new(StatusCode::BAD_REQUEST, format!("Not an order: {e}"));
        ("bad_request", e)
    })?;
    let status = order.status.as_str();
    let order_id = i64::try_from(order.id).unwrap_or(i64::MAX);
    tracing::Span::current().record("order_id", order_id);
    let at_trigger =
        status == row.trigger_status && status != woocommerce::OrderStatus::CHECKOUT_DRAFT;
    let is_new = row
        .new_since()
        .is_new(order.id, order.date_created_gmt, order.date_paid_gmt);
    let eligible = at_trigger && is_new;
    let store = st.app.store();
    if eligible {
        let source = st
            .app
            .key()
            .seal(&crate::engine::source_context(&row.id, order_id), raw);
        let queued = store
            .enqueue_order(crate::store::NewOrder {
                connection_id: row.id.clone(),
                order_id,
                order_number: order.number_or_id(),
                woo_status: status.to_owned(),
                woo_modified_at: order.date_modified_gmt,
                source: Some(source),
            })
            .await
            .map_err(unavailable)?;
        if queued {
            st.app.wakeup().notify_one();
            tracing::info!(connection_id = %row.id, order_id, "order queued");
            return Ok(("queued", queued_answer(true)));
        }
    }
    // A known order changing status: warn when one already sent is cancelled, refunded or
    // trashed (the contract has no cancel call, so a person must tell the courier). A delivery
    // older than the status the order holds (late, or replayed) changes nothing.
    let noted = store
        .note_woo_status(&row.id, order_id, status, order.date_modified_gmt)
        .await
        .map_err(unavailable)?;
    if noted.is_none() && at_trigger && !is_new {
        // An order older than the connection at the trigger status: said once, with how to
        // send it (the store keeps it from being said at every later save).
        let text = connection::left_out_text(
            &order.number_or_id(),
            order.date_created_gmt,
            row.connected_at,
        );
        if store
            .note_left_out(&row.id, order_id, &text)
            .await
            .map_err(unavailable)?
        {
            tracing::info!(connection_id = %row.id, order_id, "order older than the connection left out");
        }
    }
    if let Some(noted) = &noted
        && noted.kept
        && noted.previous != status
        && matches!(status, "cancelled" | "refunded" | "trash")
        && let Ok(Some(o)) = store.order(&row.id, order_id).await
        && o.state == crate::store::OrderState::Sent
    {
        let _ = store
            .add_activity(
                &row.id,
                "warning",
                &Text::new(Code::SentThenCancelled)
                    .with("number", &o.order_number)
                    .with("status", status)
                    .with("tracking", o.tracking_id.unwrap_or_default()),
            )
            .await;
    }
    let outcome = if noted.is_some() { "known" } else { "ignored" };
    Ok((outcome, queued_answer(false)))
}

/// `{"queued": true|false}`, written out: the answer to every delivery, not worth building a
/// JSON value for.
fn queued_answer(queued: bool) -> Response {
    let body = if queued {
        r#"{"queued":true}"#
    } else {
        r#"{"queued":false}"#
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
