//! The schedules: status polling (TrackingTech → WooCommerce), reconcile (WooCommerce →
//! ttwc), the job tables' planner statistics and the purge of idle sessions and old wc-auth
//! grants. Each run takes a named lease first, so among replicas one does it.

use crate::text::{Code, Text};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;
use trackingtech::ErrorClass;

use super::{Shared, to_time};
use crate::connection::{Secrets, WEBHOOK_NAME, secret_context};
use crate::store::{ConnectionRow, ConnectionState, NewOrder};

pub(super) async fn status_loop(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    every(
        shared,
        shutdown,
        "status",
        |s| s.config.status_interval,
        |shared| async move {
            for conn in connected(&shared).await {
                if let Err(e) = poll_statuses(&shared, &conn).await {
                    tracing::warn!(connection_id = %conn.id, error = %e, "status polling failed");
                }
            }
        },
    )
    .await
}

pub(super) async fn reconcile_loop(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    every(
        shared,
        shutdown,
        "reconcile",
        |s| s.config.reconcile_interval,
        |shared| async move {
            for conn in connected(&shared).await {
                if let Err(e) = reconcile(&shared, &conn).await {
                    tracing::warn!(connection_id = %conn.id, error = %e, "reconcile failed");
                }
            }
        },
    )
    .await
}

/// How often the job tables' planner statistics are checked (`Store::refresh_statistics`).
const STATISTICS_INTERVAL: Duration = Duration::from_secs(10);

pub(super) async fn statistics_loop(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    every(
        shared,
        shutdown,
        "statistics",
        |_| STATISTICS_INTERVAL,
        |shared| async move {
            match shared.app.store().refresh_statistics().await {
                Ok(true) => tracing::debug!("job tables' statistics gathered again"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "gathering statistics failed"),
            }
        },
    )
    .await
}

pub(super) async fn purge_loop(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    every(
        shared,
        shutdown,
        "purge",
        |s| s.config.purge_interval,
        |shared| async move { purge(&shared.app).await },
    )
    .await
}

/// Deletes sessions idle past `TTWC_SESSION_IDLE` (which no request can use any more) and
/// wc-auth grants older than their hour (their keys, taken or not, and the marks that refuse a
/// second callback, which the grant's own time refuses from then on).
pub(crate) async fn purge(app: &crate::App) {
    let now = crate::store::now();
    let idle =
        time::Duration::try_from(app.settings().session_idle).unwrap_or(time::Duration::hours(2));
    match app.store().purge_sessions(now - idle).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "idle sessions deleted"),
        Err(e) => tracing::warn!(error = %e, "deleting idle sessions failed"),
    }
    match app
        .store()
        .purge_granted_keys(now - crate::web::GRANT_TTL)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(grants = n, "old wc-auth grants deleted"),
        Err(e) => tracing::warn!(error = %e, "deleting old wc-auth grants failed"),
    }
}

/// Runs `work` every `interval`, when this process holds the lease named `name`.
async fn every<F, Fut>(
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    name: &'static str,
    interval: impl Fn(&Shared) -> Duration,
    work: F,
) where
    F: Fn(Arc<Shared>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        let period = interval(&shared);
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
        // The lease outlives one period a little, so the holder keeps it run after run.
        match shared
            .app
            .store()
            .try_lease(name, &shared.owner, to_time(period + period / 2))
            .await
        {
            Ok(true) => work(shared.clone()).await,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(schedule = name, error = %e, "cannot take the schedule's lease")
            }
        }
    }
}

async fn connected(shared: &Shared) -> Vec<ConnectionRow> {
    match shared.app.store().connections(None).await {
        Ok(all) => all
            .into_iter()
            .filter(|c| c.state == ConnectionState::Connected)
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "listing connections failed");
            Vec::new()
        }
    }
}

/// Asks TrackingTech for the status of sent, non-final orders, 100 per call, and queues a
/// write-back for each change.
pub(crate) async fn poll_statuses(
    shared: &Shared,
    conn: &ConnectionRow,
) -> anyhow_like::Result<()> {
    let app = &shared.app;
    let Some(token) = Secrets::open(app, conn).integration_token else {
        return Ok(());
    };
    let tt = app.trackingtech_at(&conn.api_base_url)?;
    let mut after = 0;
    loop {
        let batch = app
            .store()
            .tracked_orders(
                &conn.id,
                after,
                trackingtech::contract::MAX_STATUS_BATCH as u32,
            )
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.order_id;
        let ids: Vec<u64> = batch
            .iter()
            .filter_map(|o| u64::try_from(o.order_id).ok())
            .collect();
        let statuses = match tt.order_status(&token, &ids).await {
            Ok(s) => s,
            Err(e) if e.class() == ErrorClass::Auth => {
                // Only this change, and only on a connected row: writing back the row read
                // before the call would undo a disconnect made meanwhile (its state, and the
                // secrets it wiped).
                let error = Text::new(Code::TrackingTechError).with("detail", e.to_string());
                if app.mark_needs_relogin(&conn.id, &error).await? {
                    app.store()
                        .add_activity(&conn.id, "needs_relogin", &Text::new(Code::NeedsRelogin))
                        .await?;
                }
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        for s in statuses {
            let Some(row) = batch.iter().find(|o| o.order_id as u64 == s.order_id) else {
                continue;
            };
            if row.tt_status.as_deref() == Some(s.status.as_str()) {
                continue;
            }
            let tracking = if s.tracking_id.is_empty() {
                row.tracking_id.clone().unwrap_or_default()
            } else {
                s.tracking_id.clone()
            };
            let wb =
                super::writeback::after_status(conn, &tracking, s.status.as_str(), &s.status_name);
            app.store()
                .update_tracking(
                    &conn.id,
                    row.order_id,
                    s.status.as_str(),
                    &s.status_name,
                    &s.updated_at,
                    &wb,
                )
                .await?;
            app.store()
                .add_activity(
                    &conn.id,
                    "status",
                    // TrackingTech's label for the merchant; its machine status stays in the
                    // order's meta and the JSON.
                    &Text::new(Code::OrderStatus)
                        .with("number", &row.order_number)
                        .with("status_name", &s.status_name),
                )
                .await?;
        }
        if batch.len() < trackingtech::contract::MAX_STATUS_BATCH {
            break;
        }
    }
    Ok(())
}

/// Finds trigger-status orders the webhooks missed, and re-enables a webhook WooCommerce
/// disabled (or re-creates one the merchant deleted).
pub(crate) async fn reconcile(shared: &Shared, conn: &ConnectionRow) -> anyhow_like::Result<()> {
    let app = &shared.app;
    let secrets = Secrets::open(app, conn);
    let Some(credentials) = secrets.woo.clone() else {
        return Ok(());
    };
    let Some(woo) = app.woo_client(&conn.store_url, credentials) else {
        return Ok(());
    };
    let connected_at = conn.connected_at.unwrap_or(conn.created_at);
    let mut new_since = crate::connection::NewSince::from(conn);
    if new_since.order_id_at_connect.is_none() {
        // A connection made before the highest id was kept, or whose store did not say when
        // connected: read it now. Orders created since the connection and not yet paid may
        // fall under it; payment dates after the connection still count them as new.
        let highest = woo
            .highest_order_id()
            .await?
            .map_or(0, |id| i64::try_from(id).unwrap_or(i64::MAX));
        app.set_order_id_at_connect(&conn.id, highest).await?;
        new_since.order_id_at_connect = app
            .store()
            .connection(&conn.id)
            .await?
            .and_then(|c| c.order_id_at_connect)
            .or(Some(highest));
    }
    let cursor = app
        .store()
        .reconcile_cursor(&conn.id)
        .await?
        .unwrap_or(connected_at);
    // A small overlap: orders modified in the same second as the cursor are not missed.
    let query = woocommerce::OrderQuery {
        status: vec![conn.trigger_status.clone()],
        modified_after: Some(cursor - time::Duration::seconds(60)),
        ..woocommerce::OrderQuery::default()
    };
    let mut newest = cursor;
    let mut found = 0u64;
    let mut listed = 0u64;
    let mut orders = std::pin::pin!(woo.list_orders(&query));
    while let Some(order) = orders.next().await {
        let order = order?;
        listed += 1;
        if let Some(modified) = order.date_modified_gmt {
            newest = newest.max(modified);
        }
        if !new_since.is_new(order.id, order.date_created_gmt, order.date_paid_gmt) {
            let order_id = i64::try_from(order.id).unwrap_or(i64::MAX);
            let text = crate::connection::left_out_text(
                &order.number_or_id(),
                order.date_created_gmt,
                connected_at,
            );
            app.store().note_left_out(&conn.id, order_id, &text).await?;
            continue;
        }
        let queued = app
            .store()
            .enqueue_order(NewOrder::found(&conn.id, &order))
            .await?;
        if queued {
            found += 1;
        }
    }
    tracing::debug!(connection_id = %conn.id, listed, found, %cursor, "reconcile run");
    app.store().set_reconcile_cursor(&conn.id, newest).await?;
    if found > 0 {
        app.wakeup().notify_one();
        app.store()
            .add_activity(
                &conn.id,
                "reconcile",
                &Text::new(Code::ReconcileFound).with("count", found),
            )
            .await?;
    }
    // The webhook first: re-creating it rewrites the whole row, zone included.
    let webhook = check_webhook(shared, conn, &woo, &secrets).await;
    refresh_zone(shared, conn, &woo).await?;
    webhook
}

/// Reads the store's time zone again (connections made before ttwc kept it have none; a
/// merchant may change it), recording it only when it changed. An index that does not answer
/// leaves the recorded zone as it was.
async fn refresh_zone(
    shared: &Shared,
    conn: &ConnectionRow,
    woo: &woocommerce::Client,
) -> anyhow_like::Result<()> {
    let Ok(index) = woo.rest_index().await else {
        return Ok(());
    };
    let (timezone, offset) = crate::site::StoreZone::columns_from_index(&index);
    if timezone.is_none() && offset.is_none() {
        return Ok(());
    }
    if (timezone.as_ref(), offset) != (conn.store_timezone.as_ref(), conn.store_utc_offset) {
        shared
            .app
            .store()
            .set_store_zone(&conn.id, timezone.as_deref(), offset)
            .await?;
    }
    Ok(())
}

async fn check_webhook(
    shared: &Shared,
    conn: &ConnectionRow,
    woo: &woocommerce::Client,
    _secrets: &Secrets,
) -> anyhow_like::Result<()> {
    let app = &shared.app;
    let Some(webhook_id) = conn.webhook_id else {
        return Ok(());
    };
    match woo.get_webhook(webhook_id as u64).await {
        // WooCommerce sets `disabled` itself, after failed deliveries: ttwc turns it back on.
        Ok(hook) if hook.status.as_str() == "disabled" => {
            woo.update_webhook_status(
                webhook_id as u64,
                &woocommerce::WebhookStatus::new("active"),
            )
            .await?;
            app.store().set_webhook_status(&conn.id, "active").await?;
            app.store()
                .add_activity(
                    &conn.id,
                    "webhook",
                    &Text::new(Code::WebhookReenabled).with("status", "disabled"),
                )
                .await?;
            Ok(())
        }
        // `active`, or a person's choice (`paused`): left as it is. A pause is said once, when
        // first seen; orders then arrive only through this reconcile.
        Ok(hook) => {
            let status = hook.status.as_str();
            let before = app.store().set_webhook_status(&conn.id, status).await?;
            if status != "active" && before.as_deref() != Some(status) {
                app.store()
                    .add_activity(
                        &conn.id,
                        "webhook",
                        &Text::new(Code::WebhookPaused)
                            .with("status", status)
                            .with("minutes", reconcile_minutes(shared)),
                    )
                    .await?;
            }
            Ok(())
        }
        Err(e) if e.is_not_found() => {
            // Deleted in the store: make a new one, with a new secret.
            let secret = woocommerce::WebhookSecret::generate();
            let hook = woo
                .create_webhook(&woocommerce::WebhookCreate {
                    name: WEBHOOK_NAME.to_owned(),
                    topic: "order.updated".to_owned(),
                    delivery_url: app
                        .settings()
                        .public(&format!("/webhooks/woocommerce/{}", conn.id)),
                    secret: secret.clone(),
                })
                .await?;
            // Only these two columns: the row read before the calls may be stale (a setting
            // saved, or a disconnect, meanwhile).
            let sealed = app
                .key()
                .seal_str(&secret_context(&conn.id, "webhook_secret"), secret.expose());
            if app.set_webhook(&conn.id, hook.id as i64, &sealed).await? {
                app.store()
                    .add_activity(&conn.id, "webhook", &Text::new(Code::WebhookRecreated))
                    .await?;
            } else if let Err(e) = woo.delete_webhook(hook.id).await {
                // Disconnected meanwhile: the webhook just made belongs to no connection.
                tracing::warn!(connection_id = %conn.id, error = %e, "deleting a webhook made after a disconnect failed");
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// How often reconcile runs, in whole minutes (at least one), as merchants are told.
pub(crate) fn reconcile_minutes(shared: &Shared) -> u64 {
    shared
        .config
        .reconcile_interval
        .as_secs()
        .div_ceil(60)
        .max(1)
}

/// A small error type for the schedules: any cause, logged by the loop.
pub(crate) mod anyhow_like {
    pub type Result<T> = std::result::Result<T, Error>;

    #[derive(Debug, thiserror::Error)]
    pub enum Error {
        #[error(transparent)]
        Store(#[from] crate::store::StoreError),
        #[error(transparent)]
        TrackingTech(#[from] trackingtech::Error),
        #[error(transparent)]
        WooCommerce(#[from] woocommerce::Error),
    }
}
