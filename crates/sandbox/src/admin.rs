//! The admin API under `/_sandbox/`: lets tests and demos look inside and steer the sandbox.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::faults::Faults;
use crate::state::App;
use crate::validate::{Empty, integer, object, optional_string, string};
use crate::web::{self, ApiError, Errors, bearer, reply};
use crate::{clock, status};

type Result<T, E = ApiError> = std::result::Result<T, E>;

fn check_admin(app: &App, headers: &HeaderMap) -> Result<()> {
    let given = bearer(headers).unwrap_or_default();
    // Constant-time, like a real secret check, so the habit carries over.
    if bool::from(given.as_bytes().ct_eq(app.admin_token.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::unauthenticated())
    }
}

/// `GET /_sandbox/orders`
pub(crate) async fn orders(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response> {
    check_admin(&app, &headers)?;
    let data = app
        .update(|data, _| {
            data.orders
                .iter()
                .map(|o| {
                    json!({
                        "id": o.id,
                        "tracking_id": o.tracking_id,
                        "status": o.status,
                        "status_name": status::name(&o.status),
                        "customer_id": o.customer_id,
                        "idempotency_key": o.idempotency_key,
                        "requests": data.key_requests(&o.customer_id, &o.idempotency_key),
                        "order": o.body,
                    })
                })
                .collect::<Vec<_>>()
        })
        .await;
    Ok(reply(StatusCode::OK, json!({"data": data})))
}

/// `GET /_sandbox/customers`: each linked store's customer and how many integration tokens of
/// it still work (an uninstall revokes them all), so a test can tell which integrations a
/// client left installed.
pub(crate) async fn customers(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response> {
    check_admin(&app, &headers)?;
    let data = app
        .update(|data, _| {
            data.customers
                .values()
                .map(|c| {
                    let tokens = data
                        .integration_tokens
                        .values()
                        .filter(|id| **id == c.id)
                        .count();
                    json!({
                        "customer_id": c.id,
                        "account_email": c.account_email,
                        "store_id": c.store_id,
                        "store_url": c.store_url,
                        "integration_tokens": tokens,
                    })
                })
                .collect::<Vec<_>>()
        })
        .await;
    Ok(reply(StatusCode::OK, json!({"data": data})))
}

/// `GET /_sandbox/requests`: each contract request as it arrived, oldest first. `time` is Chile
/// time to the second, as the contract writes times; `unix_ms` is the same instant in
/// milliseconds since the Unix epoch, for tests that measure waits shorter than a second or
/// close to one (a `Retry-After` honoured in full or not).
pub(crate) async fn requests(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response> {
    check_admin(&app, &headers)?;
    let data: Vec<Value> = app
        .runtime()
        .requests
        .iter()
        .map(|r| {
            json!({
                "method": r.method,
                "path": r.path,
                "time": clock::rfc3339(r.at_ms),
                "unix_ms": r.at_ms,
            })
        })
        .collect();
    Ok(reply(StatusCode::OK, json!({"data": data})))
}

/// `POST /_sandbox/advance`
pub(crate) async fn advance(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_admin(&app, &headers)?;
    let value = web::read_json(body).await?;
    let mut errors = Errors::default();
    let steps = integer(object(&value), "steps", "steps", 1, &mut errors);
    let Some(steps) = steps else {
        return Err(errors.into_error());
    };
    let advanced = app
        .update(|data, now| {
            let mut changed = 0u64;
            for order in &mut data.orders {
                let mut moved = false;
                // Bounded by the length of the progression, whatever `steps` says.
                for _ in 0..steps {
                    let Some(next) = status::next(&order.status) else {
                        break;
                    };
                    order.status = next.to_owned();
                    moved = true;
                }
                if moved {
                    order.updated_at_ms = now;
                    changed += 1;
                }
            }
            if changed > 0 {
                data.touch();
            }
            changed
        })
        .await;
    Ok(reply(StatusCode::OK, json!({"advanced": advanced})))
}

/// `POST /_sandbox/orders/{id}/status`
pub(crate) async fn set_status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response> {
    check_admin(&app, &headers)?;
    // Read from the path by hand: axum's `Path` extractor answers a bad segment with plain text.
    let id = uri.path().split('/').nth(3).unwrap_or_default().to_owned();
    let value = web::read_json(body).await?;
    let mut errors = Errors::default();
    let new_status = string(
        object(&value),
        "status",
        "status",
        Empty::Refused,
        &mut errors,
    );
    let Some(new_status) = new_status else {
        return Err(errors.into_error());
    };
    let new_status = new_status.to_owned();
    let not_found = || ApiError::not_found("Order not found.");
    let id: u64 = id.parse().map_err(|_| not_found())?;
    app.update(move |data, now| {
        let order = data
            .orders
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(not_found)?;
        order.status = new_status;
        order.updated_at_ms = now;
        let answer = order.status_json();
        data.touch();
        Ok(reply(StatusCode::OK, answer))
    })
    .await
}

/// `POST /_sandbox/revoke`
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_admin(&app, &headers)?;
    let value = web::read_json(body).await?;
    let mut errors = Errors::default();
    let customer_id = optional_string(object(&value), "customer_id", "customer_id", &mut errors);
    let Some(customer_id) = customer_id else {
        return Err(errors.into_error());
    };
    // An empty customer id is taken as "none given": revoke everything.
    let customer_id = customer_id.filter(|c| !c.is_empty()).map(str::to_owned);
    let revoked = app
        .update(move |data, _| data.revoke(customer_id.as_deref()))
        .await;
    Ok(reply(StatusCode::OK, json!({"revoked": revoked})))
}

/// `GET /_sandbox/faults`
pub(crate) async fn get_faults(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response> {
    check_admin(&app, &headers)?;
    let faults = app.runtime().faults.clone();
    Ok(reply(StatusCode::OK, faults_json(&faults)))
}

/// `PUT /_sandbox/faults`: replaces the faults in force (fields left out are turned off).
pub(crate) async fn put_faults(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_admin(&app, &headers)?;
    let value = web::read_json(body).await?;
    let faults = Faults::parse(object(&value))?;
    {
        let mut runtime = app.runtime();
        let now = std::time::Instant::now();
        // A huge `down_for_secs` cannot be represented as an instant; a century is as good.
        runtime.down_until = (faults.down_for_secs > 0)
            .then(|| {
                now.checked_add(Duration::from_secs(faults.down_for_secs))
                    .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
            })
            .flatten();
        runtime.faults = faults.clone();
    }
    tracing::info!(?faults, "faults set");
    Ok(reply(StatusCode::OK, faults_json(&faults)))
}

/// `DELETE /_sandbox/faults`
pub(crate) async fn delete_faults(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response> {
    check_admin(&app, &headers)?;
    let faults = Faults::default();
    {
        let mut runtime = app.runtime();
        runtime.down_until = None;
        runtime.faults = faults.clone();
    }
    Ok(reply(StatusCode::OK, faults_json(&faults)))
}

fn faults_json(faults: &Faults) -> Value {
    serde_json::to_value(faults).unwrap_or_else(|_| json!({}))
}
