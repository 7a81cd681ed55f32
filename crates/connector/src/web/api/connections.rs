//! The dashboard's actions on a connection: list, settings, disconnect, resend, backfill.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::connection::{self};
use crate::site::{self, StoreZone};
use crate::store::{self, ConnectionRow, ConnectionState};
use crate::text::{Code, Text};
use crate::web::i18n::{self, Lang};
use crate::web::session::{self, Session};
use crate::web::{ApiError, WebState};

use super::{Body, body, guarded, req_lang, step_error};

// ---- Connections ----

/// A connection as the dashboard's script reads it, its texts rendered in `lang`.
pub async fn summary(app: &App, row: &ConnectionRow, lang: Lang) -> Result<Value, ApiError> {
    let activity = app.store().activity(&row.id, 10).await?;
    let zone = StoreZone::of(row);
    let fmt = |t: Option<time::OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    Ok(json!({
        "id": row.id,
        "store_url": row.store_url,
        "state": row.state.as_str(),
        "tenant_code": row.tenant_code,
        "tenant_name": row.tenant_name,
        "tt_store_id": serde_json::from_str::<Value>(&row.tt_store_id).unwrap_or(Value::Null),
        "tt_store_name": row.tt_store_name,
        "timezone": zone.label(),
        "connected_at": fmt(row.connected_at),
        "disconnected_at": fmt(row.disconnected_at),
        "last_sent_at": fmt(row.last_sent_at),
        "last_error": row.last_error.as_ref().map(|t| t.shown(lang)),
        "last_error_code": row.last_error.as_ref().map(|t| t.code.as_str()),
        "last_error_params": row.last_error.as_ref().map(Text::params_json),
        "last_error_at": fmt(row.last_error_at),
        "queue_depth": app.store().queue_depth(&row.id).await?,
        "webhook_status": app.store().webhook_status(&row.id).await?,
        "webhook_notice": crate::web::pages::webhook_notice(app, lang, row).await?,
        "trigger_status": row.trigger_status,
        "mark_completed": row.mark_completed,
        "notify_customer": row.notify_customer,
        "activity": activity.iter().map(|a| {
            let mut entry = a.message.json(lang);
            entry["at"] = json!(fmt(Some(a.at)));
            entry["at_shown"] = json!(zone.show(a.at));
            entry["kind"] = json!(a.kind);
            entry
        }).collect::<Vec<_>>(),
    }))
}

pub async fn list_connections(
    State(st): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let owner = session::load(&st.app, &headers)
        .await?
        .and_then(|s| s.owner())
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, lang.t().session_expired))?;
    let mut out = Vec::new();
    for row in st.app.store().connections(Some(&owner)).await? {
        out.push(summary(&st.app, &row, lang).await?);
    }
    Ok(Json(json!({"connections": out})).into_response())
}

/// The connection, if the session's user owns it; 404 otherwise (never 403: another merchant's
/// connection ids are not confirmed to exist).
pub(crate) async fn owned(
    app: &App,
    session: &Session,
    id: &str,
    lang: Lang,
) -> Result<ConnectionRow, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            i18n::actions::connection_not_found(lang),
        )
    };
    let owner = session.owner().ok_or_else(not_found)?;
    match app.store().connection(id).await? {
        Some(row) if row.owner == owner => Ok(row),
        _ => Err(not_found()),
    }
}

#[derive(Deserialize)]
pub struct SettingsBody {
    trigger_status: Option<String>,
    mark_completed: Option<bool>,
    notify_customer: Option<bool>,
}

pub async fn update_settings(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<SettingsBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let mut row = owned(&st.app, &session, &id, lang).await?;
    if let Some(status) = b.trigger_status {
        let slug = connection::parse_trigger_status(&status).ok_or_else(|| {
            let msg = if lang == Lang::Es {
                format!("\"{}\" no es un estado de WooCommerce válido (letras, números, - y _; por ejemplo processing o wc-listo-para-envio).", status.chars().take(60).collect::<String>())
            } else {
                format!("\"{}\" is not a valid WooCommerce status (letters, digits, - and _; e.g. processing or wc-ready-to-ship).", status.chars().take(60).collect::<String>())
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg).field("trigger_status")
        })?;
        // Only a status the store has: one it does not would silently stop every order.
        match site::order_statuses(&st.app, &row).await {
            Ok(statuses) if site::has_status(&statuses, &slug) => row.trigger_status = slug,
            Ok(_) => {
                let why = Text::new(Code::TriggerStatusUnknown).with("slug", slug);
                return Err(
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why.render(lang))
                        .field("trigger_status"),
                );
            }
            // Unchanged: the other settings can be saved while the store does not answer.
            Err(_) if slug == row.trigger_status => {}
            Err(why) => {
                return Err(ApiError::new(StatusCode::BAD_GATEWAY, why.render(lang))
                    .field("trigger_status"));
            }
        }
    }
    if let Some(v) = b.mark_completed {
        row.mark_completed = v;
    }
    if let Some(v) = b.notify_customer {
        row.notify_customer = v;
    }
    row.updated_at = store::now();
    st.app.update_connection(&row).await?;
    st.app
        .store()
        .add_activity(
            &row.id,
            "settings",
            &Text::new(Code::SettingsChanged)
                .with("trigger_status", &row.trigger_status)
                .with("mark_completed", row.mark_completed)
                .with("notify_customer", row.notify_customer),
        )
        .await?;
    Ok(Json(json!({"connection": summary(&st.app, &row, lang).await?})).into_response())
}

#[derive(Deserialize)]
pub struct DisconnectBody {
    #[serde(default)]
    confirm: bool,
}

pub async fn disconnect(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<DisconnectBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    if !b.confirm {
        return Err(
            ApiError::new(StatusCode::BAD_REQUEST, lang.t().disconnect_confirm).field("confirm"),
        );
    }
    let report = connection::disconnect(&st.app, &row.id)
        .await
        .map_err(|e| step_error(lang, e))?;
    let row = st.app.store().connection(&row.id).await?.unwrap_or(row);
    // The key WooCommerce keeps, worded for the page to show.
    let key_left = report.key_left.as_ref().map(|k| k.text().shown(lang));
    Ok(Json(json!({
        "report": report,
        "key_left": key_left,
        "connection": summary(&st.app, &row, lang).await?,
    }))
    .into_response())
}

// ---- Resend and backfill ----

#[derive(Deserialize)]
pub struct ResendBody {
    order_id: Option<i64>,
    #[serde(default)]
    all: bool,
}

/// `POST /api/connections/{id}/resend`: `{"order_id": N}` puts that order back in the queue
/// (when failed, rejected, skipped or cancelled); `{"all": true}` puts back every failed and
/// rejected order of the connection — not the skipped or cancelled ones, which were left alone
/// on purpose. Both answer `{"queued": n}`.
pub async fn resend(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<ResendBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    if row.state == ConnectionState::Disconnected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            i18n::actions::disconnected(lang),
        ));
    }
    let store = st.app.store();
    let queued = match (b.order_id, b.all) {
        (Some(order_id), false) => {
            let n = store.resend(&row.id, Some(order_id)).await?;
            if n == 0 {
                return Err(match store.order(&row.id, order_id).await? {
                    None => ApiError::new(
                        StatusCode::NOT_FOUND,
                        i18n::actions::order_not_found(lang, order_id),
                    ),
                    Some(o) => ApiError::new(
                        StatusCode::CONFLICT,
                        i18n::actions::not_resendable(
                            lang,
                            &o.order_number,
                            &lang.t().order_state(o.state).to_lowercase(),
                        ),
                    ),
                });
            }
            n
        }
        // The store takes every failed and rejected order in one statement.
        (None, true) => store.resend(&row.id, None).await?,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                i18n::actions::resend_body(lang),
            ));
        }
    };
    if queued > 0 {
        st.app.wakeup().notify_one();
        store
            .add_activity(
                &row.id,
                "resend",
                &Text::new(Code::ResendQueued).with("count", queued),
            )
            .await?;
    }
    Ok(Json(json!({"queued": queued})).into_response())
}

#[derive(Deserialize)]
pub struct BackfillBody {
    since: String,
}

/// `POST /api/connections/{id}/backfill {"since": "YYYY-MM-DD"}`: starts queueing the store's
/// orders at the trigger status created since that day (00:00 UTC) that ttwc never had; 202, and
/// the page polls the GET for progress.
pub async fn start_backfill(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body<BackfillBody>,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let session = guarded(&st.app, &headers, lang).await?;
    let b = body(b)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    let since = parse_since(lang, &b.since)?;
    if row.state != ConnectionState::Connected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            i18n::actions::needs_connected(lang),
        ));
    }
    if !st.backfills.start(&st.app, &row.id, since) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            i18n::actions::backfill_running(lang),
        ));
    }
    tracing::info!(connection_id = %row.id, %since, "backfill started");
    Ok((StatusCode::ACCEPTED, Json(json!({"started": true}))).into_response())
}

/// A day as `YYYY-MM-DD`, not in the future, as the start of that day in UTC.
fn parse_since(lang: Lang, value: &str) -> Result<time::OffsetDateTime, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let value = value.trim();
    let date = time::Date::parse(value, &format).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::actions::bad_date(lang, value),
        )
        .field("since")
    })?;
    if date > store::now().date() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::actions::future_date(lang, value),
        )
        .field("since"));
    }
    Ok(date.midnight().assume_utc())
}

/// `GET /api/connections/{id}/backfill`: the latest backfill's progress; 404 when none was
/// started in this process.
pub async fn backfill_status(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = req_lang(&headers);
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            i18n::actions::connection_not_found(lang),
        )
    };
    let session = session::load(&st.app, &headers)
        .await?
        .ok_or_else(not_found)?;
    let row = owned(&st.app, &session, &id, lang).await?;
    let status = st
        .backfills
        .get(&row.id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, i18n::actions::no_backfill(lang)))?;
    Ok(Json(backfill_view(lang, &status)).into_response())
}

pub(crate) fn backfill_view(lang: Lang, s: &crate::web::backfills::BackfillStatus) -> Value {
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    json!({
        "running": s.running,
        "seen": s.seen,
        "queued": s.queued,
        "counts": crate::web::pages::backfill_counts(lang, s),
        "error": s.error.as_ref().map(|e| e.shown(lang)),
        "error_code": s.error.as_ref().map(|e| e.code.as_str()),
        "since": s.since.date().to_string(),
        "started_at": fmt(s.started_at),
        "finished_at": s.finished_at.and_then(fmt),
    })
}
