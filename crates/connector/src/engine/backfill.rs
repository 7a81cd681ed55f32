//! Backfill: queue every trigger-status order created since a date that was never sent —
//! the only way orders older than the connection reach TrackingTech.

use futures_util::StreamExt;
use time::OffsetDateTime;

use crate::app::App;
use crate::connection::Secrets;
use crate::store::{ConnectionState, NewOrder};
use crate::text::{Code, Text};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Orders the store listed so far.
    pub seen: u64,
    /// Of those, orders newly queued (the rest were already known to ttwc).
    pub queued: u64,
    /// How many orders the store said match, when it said (`X-WP-Total`); orders paid during
    /// the backfill can make `seen` pass it.
    pub total: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("there is no connection {0:?}")]
    UnknownConnection(String),
    #[error("the connection is {0}; reconnect it first")]
    NotConnected(&'static str),
    #[error("the connection has no usable WooCommerce keys; reconnect it")]
    NoKeys,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("WooCommerce: {0}")]
    WooCommerce(#[from] woocommerce::Error),
}

/// Lists the store's orders at the trigger status created after `since` and queues the ones ttwc
/// never had; `progress` is called after each order.
pub async fn run(
    app: &App,
    connection_id: &str,
    since: OffsetDateTime,
    mut progress: impl FnMut(Progress),
) -> Result<Progress, BackfillError> {
    let conn = app
        .store()
        .connection(connection_id)
        .await?
        .ok_or_else(|| BackfillError::UnknownConnection(connection_id.to_owned()))?;
    if conn.state != ConnectionState::Connected {
        return Err(BackfillError::NotConnected(conn.state.as_str()));
    }
    let credentials = Secrets::open(app, &conn).woo.ok_or(BackfillError::NoKeys)?;
    let woo = app
        .woo_client(&conn.store_url, credentials)
        .ok_or(BackfillError::NoKeys)?;
    let query = woocommerce::OrderQuery {
        status: vec![conn.trigger_status.clone()],
        created_after: Some(since),
        ..woocommerce::OrderQuery::default()
    };
    // The count only feeds the progress shown; if asking for it fails, the listing below
    // meets the same failure and reports it.
    let total = woo.count_orders(&query).await.ok().flatten();
    let mut done = Progress {
        total,
        ..Progress::default()
    };
    progress(done);
    let mut orders = std::pin::pin!(woo.list_orders(&query));
    while let Some(order) = orders.next().await {
        let order = order?;
        done.seen += 1;
        let queued = app
            .store()
            .enqueue_order(NewOrder::found(&conn.id, &order))
            .await?;
        if queued {
            done.queued += 1;
            app.wakeup().notify_one();
        }
        progress(done);
    }
    app.store()
        .add_activity(
            &conn.id,
            "backfill",
            &Text::new(Code::BackfillDone)
                .with("seen", done.seen)
                .with("queued", done.queued),
        )
        .await?;
    Ok(done)
}
