//! Write-backs to WooCommerce: an order note, `_trackingtech_*` meta, the tracking number where
//! the shipment-tracking ecosystem reads it, and optionally the `completed` status.
//!
//! Each write-back is queued in the same transaction as the change that causes it. Its steps
//! run idempotent-first (meta, tracking items, status) and the note — the one step that would
//! show twice if repeated — last, so a retry after a partial failure rarely duplicates anything.
//! The order saves fire `order.updated` again; the receiver finds the order already in the
//! outbox and queues nothing, so write-backs never loop.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::send::ConnectionView;
use super::tracking;
use super::{Shared, backoff, to_time};
use crate::store::{self, ConnectionRow, WritebackEnd};
use crate::text::{Code, Lang, Text};

/// Give up on a write-back after this many attempts.
const MAX_ATTEMPTS: i64 = 15;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writeback {
    /// Rendered in the store's language when it is written.
    pub note: Note,
    pub customer_note: bool,
    pub meta: Vec<(String, Value)>,
    /// Add this tracking number to the order's shipment tracking.
    pub tracking_number: Option<String>,
    /// Set the order `completed`.
    pub complete: bool,
}

fn meta(tracking_id: &str, status: &str, status_name: &str) -> Vec<(String, Value)> {
    vec![
        ("_trackingtech_tracking_id".into(), json!(tracking_id)),
        ("_trackingtech_status".into(), json!(status)),
        ("_trackingtech_status_name".into(), json!(status_name)),
    ]
}

/// A queued note: a coded text, or a finished string queued before notes were coded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Note {
    Coded(Text),
    Written(String),
}

impl Note {
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Note::Coded(text) => text.render(lang),
            Note::Written(text) => text.clone(),
        }
    }
}

/// TrackingTech's label of the status (its machine status goes in the meta).
fn note(tracking_id: &str, status_name: &str) -> Note {
    Note::Coded(
        Text::new(Code::NoteStatus)
            .with("status_name", status_name)
            .with("tracking", tracking_id),
    )
}

/// The language notes are written in: the store's, read at connect (`crate::site`); Spanish,
/// the language of the Chilean stores ttwc serves, when unknown.
pub fn store_lang(conn: &ConnectionRow) -> Lang {
    crate::site::notes_lang(conn)
}

/// The write-back after a successful send (JSON for the queue).
pub fn after_send(
    conn: &ConnectionRow,
    tracking_id: &str,
    status: &str,
    status_name: &str,
) -> String {
    let wb = Writeback {
        note: note(tracking_id, status_name),
        customer_note: conn.notify_customer,
        meta: meta(tracking_id, status, status_name),
        tracking_number: Some(tracking_id.to_owned()),
        complete: conn.mark_completed && status == "delivered",
    };
    serde_json::to_string(&wb).unwrap_or_default()
}

/// The write-back after a status change.
pub fn after_status(
    conn: &ConnectionRow,
    tracking_id: &str,
    status: &str,
    status_name: &str,
) -> String {
    let wb = Writeback {
        note: note(tracking_id, status_name),
        customer_note: false,
        meta: meta(tracking_id, status, status_name),
        tracking_number: None,
        complete: conn.mark_completed && status == "delivered",
    };
    serde_json::to_string(&wb).unwrap_or_default()
}

pub(super) async fn run(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        let jobs = match shared
            .app
            .store()
            .claim_writebacks(&shared.owner, to_time(shared.config.lease), 16)
            .await
        {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::error!(error = %e, "claiming write-backs failed");
                Vec::new()
            }
        };
        if jobs.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(shared.config.idle_poll) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        // Each connection read once per batch; the outcomes recorded together.
        let ids: Vec<&str> = jobs.iter().map(|j| j.connection_id.as_str()).collect();
        let connections = super::send::prepare(&shared, &ids).await;
        let mut tasks = Vec::new();
        for job in jobs {
            let shared = shared.clone();
            let conn = connections
                .get(&job.connection_id)
                .cloned()
                .unwrap_or(Ok(None));
            tasks.push(tokio::spawn(async move {
                let result = apply(&shared, conn, job.order_id, &job.body).await;
                let (retry_at, error, warning) = match result {
                    Ok(warning) => (None, None, warning),
                    Err((e, transient)) if transient && job.attempts < MAX_ATTEMPTS => {
                        let at = store::now() + to_time(backoff(&shared.config, job.attempts, None));
                        (Some(at), Some(e), None)
                    }
                    Err((e, _)) => {
                        tracing::warn!(connection_id = %job.connection_id, order_id = job.order_id, error = %e, "write-back failed for good");
                        let warning = Text::new(Code::WritebackFailed)
                            .with("number", job.order_id.to_string())
                            .with("detail", e.clone());
                        (None, Some(e), Some(warning))
                    }
                };
                (job.id, retry_at, error, warning)
            }));
        }
        let mut ended = Vec::with_capacity(tasks.len());
        for t in tasks {
            if let Ok(end) = t.await {
                ended.push(end);
            }
        }
        let ends: Vec<WritebackEnd<'_>> = ended
            .iter()
            .map(|(id, retry_at, error, warning)| WritebackEnd {
                id: *id,
                retry_at: *retry_at,
                error: error.as_deref(),
                warning: warning.as_ref(),
            })
            .collect();
        if let Err(e) = shared
            .app
            .store()
            .finish_writebacks(&shared.owner, &ends)
            .await
        {
            // Their leases expire and they run again: a write-back's steps are idempotent but
            // for the note, written last.
            tracing::error!(error = %e, write_backs = ends.len(), "recording write-backs failed");
        }
    }
}

/// Ok(a warning for the connection's activity), or Err((message, transient)).
async fn apply(
    shared: &Shared,
    conn: ConnectionView,
    order_id: i64,
    body: &str,
) -> Result<Option<Text>, (String, bool)> {
    let app = &shared.app;
    let wb: Writeback =
        serde_json::from_str(body).map_err(|e| (format!("unreadable write-back: {e}"), false))?;
    let prepared = conn
        .map_err(|e| (e, true))?
        .ok_or_else(|| ("the connection no longer exists".to_owned(), false))?;
    let conn = &prepared.row;
    let credentials = prepared
        .secrets
        .woo
        .clone()
        .ok_or_else(|| ("no usable WooCommerce keys".to_owned(), false))?;
    let woo = app
        .woo_client(&conn.store_url, credentials)
        .ok_or_else(|| ("invalid store URL".to_owned(), false))?;
    let id = u64::try_from(order_id).unwrap_or(0);
    let woo_err = |e: woocommerce::Error| {
        let transient = matches!(e.class(), woocommerce::ErrorClass::Transient { .. });
        (format!("WooCommerce: {e}"), transient)
    };

    let mut meta = wb.meta.clone();
    let mut warning = None;
    if let Some(number) = &wb.tracking_number {
        // The order as it is now: its items (someone else's included) and the id ttwc kept.
        let order = woo.get_order(id).await.map_err(woo_err)?;
        if tracking_api(shared, conn, &woo).await {
            let saved = order.meta_str(tracking::ITEM_ID_META);
            let item_id = tracking::through_api(&woo, id, number, saved)
                .await
                .map_err(woo_err)?;
            meta.push((tracking::ITEM_ID_META.into(), json!(item_id)));
        } else {
            // Without the extension's REST API, write the items where its templates read them,
            // so the number shows in the customer's emails and account page.
            let entries: Vec<&Value> = order
                .meta_data
                .iter()
                .filter(|m| m.key == tracking::ITEMS_META)
                .map(|m| &m.value)
                .collect();
            let shipped = time::OffsetDateTime::now_utc().unix_timestamp();
            let own_id = tracking::own_item_id(order_id);
            match tracking::merge_meta(&entries, &own_id, number, shipped) {
                tracking::Merge::Write(items) => meta.push((tracking::ITEMS_META.into(), items)),
                tracking::Merge::Unchanged => {}
                tracking::Merge::Kept => {
                    warning = Some(
                        Text::new(Code::TrackingItemsKept)
                            .with("number", order.number.clone())
                            .with("tracking", number.clone()),
                    );
                }
            }
        }
    }
    woo.update_order_meta(id, &meta).await.map_err(woo_err)?;
    if wb.complete {
        woo.update_order_status(id, &woocommerce::OrderStatus::new("completed"))
            .await
            .map_err(woo_err)?;
    }
    woo.add_order_note(id, &wb.note.render(store_lang(conn)), wb.customer_note)
        .await
        .map_err(woo_err)?;
    Ok(warning)
}

async fn tracking_api(shared: &Shared, conn: &ConnectionRow, woo: &woocommerce::Client) -> bool {
    if let Some(known) = shared.tracking_api.lock().await.get(&conn.id) {
        return *known;
    }
    match woo.rest_index().await {
        Ok(index) => {
            let has = index.has_namespace(woocommerce::RestIndex::SHIPMENT_TRACKING);
            shared
                .tracking_api
                .lock()
                .await
                .insert(conn.id.clone(), has);
            has
        }
        // Unknown this time: fall back to the meta, and ask again next time.
        Err(_) => false,
    }
}
