//! One send attempt: build the payload (first attempt only), send it, record the outcome.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use tracing::Instrument;
use trackingtech::{ErrorClass, OrderPayload};

use super::{Shared, backoff, to_time};
use crate::connection::Secrets;
use crate::mapping::{self, Context, Outcome};
use crate::store::{self, ConnectionRow, ConnectionState, Finished, OrderRow, SendOutcome};
use crate::text::{Code, Text};

/// A failure of ttwc's own (its database, a lost lease): named for operators, not translated.
fn internal(detail: String) -> Text {
    Text::new(Code::Internal).with("detail", detail)
}

/// WooCommerce statuses after which an order must not be shipped any more.
const NOT_SHIPPABLE: [&str; 5] = ["cancelled", "refunded", "failed", "trash", "checkout-draft"];

/// A connection as the sends of one claimed batch see it: read and opened once per batch.
pub(super) struct Prepared {
    pub row: ConnectionRow,
    pub secrets: Secrets,
}

/// What a send needs of its connection: prepared, gone, or unreadable (the error).
pub(super) type ConnectionView = Result<Option<Arc<Prepared>>, String>;

/// Reads (in one query) and opens each connection of a claimed batch (of sends or write-backs)
/// once.
pub(super) async fn prepare(
    shared: &Shared,
    connection_ids: &[&str],
) -> HashMap<String, ConnectionView> {
    let mut ids = connection_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let rows = match shared.app.store().connections_by_id(&ids).await {
        Ok(rows) => rows,
        Err(e) => {
            let e = e.to_string();
            return ids
                .into_iter()
                .map(|id| (id.to_owned(), Err(e.clone())))
                .collect();
        }
    };
    // A connection not found is gone (deleted since the claim).
    let mut views: HashMap<String, ConnectionView> = ids
        .into_iter()
        .map(|id| (id.to_owned(), Ok(None)))
        .collect();
    for row in rows {
        let secrets = Secrets::open(&shared.app, &row);
        views.insert(
            row.id.clone(),
            Ok(Some(Arc::new(Prepared { row, secrets }))),
        );
    }
    views
}

/// A write waiting for its batch, and where to say whether it took (false: the lease was
/// lost) or why the batch failed.
pub(super) struct Queued<T> {
    item: T,
    done: oneshot::Sender<Result<bool, String>>,
}

/// Hands `item` to the batching task behind `queue` (named `what` in errors) and waits for its
/// answer.
async fn submit<T>(queue: &mpsc::Sender<Queued<T>>, item: T, what: &str) -> Result<bool, String> {
    let (done, answer) = oneshot::channel();
    let stopped = || format!("the {what} stopped");
    queue
        .send(Queued { item, done })
        .await
        .map_err(|_| stopped())?;
    answer.await.unwrap_or_else(|_| Err(stopped()))
}

/// The most writes one transaction takes.
const BATCH: usize = 64;

/// Waits for the next batch: its items, and where each one's answer goes. None once every
/// sender is gone.
async fn next_batch<T>(
    rx: &mut mpsc::Receiver<Queued<T>>,
) -> Option<(Vec<T>, Vec<oneshot::Sender<Result<bool, String>>>)> {
    let mut batch = Vec::with_capacity(BATCH);
    if rx.recv_many(&mut batch, BATCH).await == 0 {
        return None;
    }
    Some(batch.into_iter().map(|q| (q.item, q.done)).unzip())
}

/// Answers each write of a batch: its own flag, or the batch's error.
fn answer(answers: Vec<oneshot::Sender<Result<bool, String>>>, result: Result<Vec<bool>, String>) {
    match result {
        Ok(flags) => {
            for (done, flag) in answers.into_iter().zip(flags) {
                let _ = done.send(Ok(flag));
            }
        }
        Err(message) => {
            for done in answers {
                let _ = done.send(Err(message.clone()));
            }
        }
    }
}

/// An attempt's outcome on its way to the recorder.
pub(super) struct ToRecord {
    connection_id: String,
    order_id: i64,
    outcome: SendOutcome,
    activity: Option<(&'static str, Text)>,
}

/// A first attempt's sealed payload on its way to the saver.
pub(super) struct ToSave {
    connection_id: String,
    order_id: i64,
    payload: Vec<u8>,
}

/// Saves first attempts' payloads in batches, one transaction each: one commit per first
/// attempt was the end-to-end benchmark's limit (each waits for the disk with
/// `synchronous=FULL`). Each send still goes only after its own payload is committed.
pub(super) async fn saver(shared: Arc<Shared>, mut rx: mpsc::Receiver<Queued<ToSave>>) {
    while let Some((batch, answers)) = next_batch(&mut rx).await {
        let items: Vec<store::PayloadToSave<'_>> = batch
            .iter()
            .map(|s| store::PayloadToSave {
                connection_id: &s.connection_id,
                order_id: s.order_id,
                payload: &s.payload,
            })
            .collect();
        let result = shared
            .app
            .store()
            .save_payloads(&shared.owner, &items)
            .await;
        answer(answers, result.map_err(|e| e.to_string()));
    }
}

/// Where an attempt hands its writes: payloads to the saver, outcomes to the recorder.
pub(super) struct Writers {
    pub record: mpsc::Sender<Queued<ToRecord>>,
    pub save: mpsc::Sender<Queued<ToSave>>,
}

/// Records outcomes in batches, one transaction each: with many sends finishing together
/// (a drain after an outage) one commit per send would be the engine's limit.
pub(super) async fn recorder(shared: Arc<Shared>, mut rx: mpsc::Receiver<Queued<ToRecord>>) {
    while let Some((batch, answers)) = next_batch(&mut rx).await {
        answer(answers, record_batch(&shared, &batch).await);
    }
}

/// Records one batch. An outcome is known once TrackingTech has answered, so a failing
/// database (full disk, gone) is retried for as long as the orders' leases last rather than
/// the outcomes dropped: dropped, each order would wait out its lease and be sent again.
async fn record_batch(shared: &Shared, batch: &[ToRecord]) -> Result<Vec<bool>, String> {
    let items: Vec<Finished<'_>> = batch
        .iter()
        .map(|r| Finished {
            connection_id: &r.connection_id,
            order_id: r.order_id,
            outcome: &r.outcome,
            activity: r.activity.as_ref().map(|(k, m)| (*k, m)),
        })
        .collect();
    let give_up = tokio::time::Instant::now() + shared.config.lease;
    let mut wait = Duration::from_millis(100);
    loop {
        match shared.app.store().finish_sends(&shared.owner, &items).await {
            Ok(flags) => return Ok(flags),
            Err(e) if tokio::time::Instant::now() + wait < give_up => {
                tracing::warn!(error = %e, outcomes = items.len(), retry_in_ms = wait.as_millis() as u64, "recording send outcomes failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

pub(super) async fn attempt(
    shared: &Shared,
    job: OrderRow,
    conn: ConnectionView,
    writers: &Writers,
) {
    let span = tracing::info_span!("send", connection_id = %job.connection_id, order_id = job.order_id, attempt = job.attempts);
    let started = std::time::Instant::now();
    let outcome = decide(shared, &job, conn.clone(), &writers.save)
        .instrument(span)
        .await;
    let order = |code: Code| Text::new(code).with("number", &job.order_number);
    let activity = match &outcome {
        SendOutcome::Sent { tracking_id, .. } => {
            Some(("sent", order(Code::OrderSent).with("tracking", tracking_id)))
        }
        SendOutcome::Rejected { error } => Some((
            "rejected",
            order(Code::OrderRejected).with("reason", error.clone()),
        )),
        SendOutcome::Skipped { reason } => Some((
            "skipped",
            order(Code::OrderSkipped).with("reason", reason.clone()),
        )),
        SendOutcome::Failed { error } => Some((
            "failed",
            order(Code::OrderFailed).with("error", error.clone()),
        )),
        SendOutcome::NeedsRelogin { .. } => Some(("needs_relogin", Text::new(Code::NeedsRelogin))),
        SendOutcome::Retry { .. } => None,
    };
    let kind = kind_of(&outcome);
    let recorded = submit(
        &writers.record,
        ToRecord {
            connection_id: job.connection_id.clone(),
            order_id: job.order_id,
            outcome,
            activity,
        },
        "recorder",
    )
    .await;
    let recorded = match recorded {
        Ok(recorded) => recorded,
        Err(e) => {
            // The lease will expire and the order be tried again; nothing is lost.
            tracing::error!(connection_id = %job.connection_id, order_id = job.order_id, error = %e, "recording a send failed");
            return;
        }
    };
    let metrics = shared.app.metrics();
    metrics
        .send_seconds
        .observe(started.elapsed().as_secs_f64());
    metrics.send(kind);
    if !recorded {
        tracing::warn!(connection_id = %job.connection_id, order_id = job.order_id, "lost the lease; another worker owns this order");
        return;
    }
    if kind == "sent"
        && let Ok(Some(conn)) = &conn
    {
        shared.trackingtech_answered(&conn.row.api_base_url).await;
    }
    match kind {
        "sent" => {
            tracing::info!(connection_id = %job.connection_id, order_id = job.order_id, "order sent")
        }
        "retry" => {
            tracing::warn!(connection_id = %job.connection_id, order_id = job.order_id, "send will be retried")
        }
        other => {
            tracing::warn!(connection_id = %job.connection_id, order_id = job.order_id, outcome = other, "order not sent")
        }
    }
}

fn kind_of(o: &SendOutcome) -> &'static str {
    match o {
        SendOutcome::Sent { .. } => "sent",
        SendOutcome::Retry { .. } => "retry",
        SendOutcome::NeedsRelogin { .. } => "needs_relogin",
        SendOutcome::Failed { .. } => "failed",
        SendOutcome::Rejected { .. } => "rejected",
        SendOutcome::Skipped { .. } => "skipped",
    }
}

async fn decide(
    shared: &Shared,
    job: &OrderRow,
    conn: ConnectionView,
    save: &mpsc::Sender<Queued<ToSave>>,
) -> SendOutcome {
    let app = &shared.app;
    let retry = |error: Text, floor: Option<Duration>, hold: bool| -> SendOutcome {
        let now = store::now();
        if now - job.created_at > to_time(shared.config.max_age) {
            return SendOutcome::Failed {
                error: Text::new(Code::GaveUp)
                    .with("hours", shared.config.max_age.as_secs() / 3600)
                    .with("error", error),
            };
        }
        let wait = backoff(&shared.config, job.attempts, floor);
        SendOutcome::Retry {
            run_at: now + to_time(wait),
            error,
            hold_connection_until: if hold {
                floor.map(|f| now + to_time(f))
            } else {
                None
            },
        }
    };
    let conn = match conn {
        Ok(Some(c)) => c,
        Ok(None) => {
            return SendOutcome::Failed {
                error: Text::new(Code::ConnectionGone),
            };
        }
        Err(e) => return retry(internal(format!("database: {e}")), None, false),
    };
    let Prepared { row: conn, secrets } = conn.as_ref();
    if conn.state != ConnectionState::Connected {
        return SendOutcome::NeedsRelogin {
            error: Text::new(Code::ConnectionNotConnected).with("state", conn.state.as_str()),
        };
    }
    let (Some(token), Some(customer_id)) =
        (secrets.integration_token.clone(), conn.customer_id.clone())
    else {
        return SendOutcome::NeedsRelogin {
            error: Text::new(Code::NoToken),
        };
    };

    let payload = match &job.payload {
        Some(sealed) => match app.key().open(&payload_context(job), sealed) {
            Ok(bytes) => OrderPayload::from_stored(bytes),
            Err(e) => {
                return SendOutcome::Failed {
                    error: Text::new(Code::PayloadUnreadable).with("detail", e.to_string()),
                };
            }
        },
        None => match build(shared, job, conn, secrets, &customer_id).await {
            Ok(payload) => {
                let sealed = app.key().seal(&payload_context(job), payload.as_bytes());
                let saved = submit(
                    save,
                    ToSave {
                        connection_id: job.connection_id.clone(),
                        order_id: job.order_id,
                        payload: sealed,
                    },
                    "payload saver",
                )
                .await;
                match saved {
                    Ok(true) => payload,
                    Ok(false) => return retry(internal("lost the lease".into()), None, false),
                    Err(e) => return retry(internal(format!("database: {e}")), None, false),
                }
            }
            Err(outcome) => return outcome,
        },
    };

    let tt = match app.trackingtech_at(&conn.api_base_url) {
        Ok(tt) => tt,
        Err(e) => {
            return SendOutcome::Failed {
                error: Text::new(Code::TrackingTechError).with("detail", e.to_string()),
            };
        }
    };
    let key = format!("{}:{}", conn.device_id, job.order_id);
    match tt.send_order(&token, &key, &payload).await {
        Ok(sent) => SendOutcome::Sent {
            writeback: super::writeback::after_send(
                conn,
                &sent.tracking_id,
                sent.status.as_str(),
                &sent.status_name,
            ),
            tt_id: sent.id.to_string(),
            tracking_id: sent.tracking_id,
            status: sent.status.as_str().to_owned(),
            status_name: sent.status_name,
        },
        Err(e) => {
            let class = e.class();
            app.metrics().trackingtech_error(match class {
                ErrorClass::Transient { .. } => "transient",
                ErrorClass::Auth => "auth",
                ErrorClass::Rejected => "rejected",
            });
            match class {
                ErrorClass::Transient { retry_after } => {
                    let throttled = e.status() == Some(429);
                    if !throttled {
                        shared.trackingtech_failed(&conn.api_base_url).await;
                    }
                    retry(
                        Text::new(Code::TrackingTechError).with("detail", e.to_string()),
                        retry_after,
                        throttled,
                    )
                }
                ErrorClass::Auth => SendOutcome::NeedsRelogin {
                    error: Text::new(Code::TrackingTechError).with("detail", e.to_string()),
                },
                ErrorClass::Rejected => {
                    let mut message = e.message().unwrap_or("rejected").to_owned();
                    if let Some(fields) = e.field_errors().filter(|f| !f.is_empty()) {
                        let details: Vec<String> = fields
                            .iter()
                            .map(|(k, v)| format!("{k}: {}", v.join(", ")))
                            .collect();
                        message = format!("{message} ({})", details.join("; "));
                    }
                    SendOutcome::Rejected {
                        error: Text::new(Code::TrackingTechRefused)
                            .with("status", i64::from(e.status().unwrap_or(0)))
                            .with("message", message),
                    }
                }
            }
        }
    }
}

fn payload_context(job: &OrderRow) -> String {
    format!("order/{}/{}/payload", job.connection_id, job.order_id)
}

pub fn source_context(connection_id: &str, order_id: i64) -> String {
    format!("order/{connection_id}/{order_id}/source")
}

/// The first attempt: the order (as delivered, or fetched), its products, the mapping.
async fn build(
    shared: &Shared,
    job: &OrderRow,
    conn: &ConnectionRow,
    secrets: &Secrets,
    customer_id: &str,
) -> Result<OrderPayload, SendOutcome> {
    let app = &shared.app;
    let retry_woo = |e: woocommerce::Error| -> SendOutcome {
        let now = store::now();
        let floor = match e.class() {
            woocommerce::ErrorClass::Transient { retry_after } => retry_after,
            _ => None,
        };
        let wait = backoff(&shared.config, job.attempts, floor);
        SendOutcome::Retry {
            run_at: now + to_time(wait),
            error: Text::new(Code::WooCommerceError).with("detail", e.to_string()),
            hold_connection_until: None,
        }
    };
    let Some(credentials) = secrets.woo.clone() else {
        return Err(SendOutcome::NeedsRelogin {
            error: Text::new(Code::NoKeys),
        });
    };
    let Some(woo) = app.woo_client(&conn.store_url, credentials) else {
        return Err(SendOutcome::Failed {
            error: Text::new(Code::BadStoreUrl),
        });
    };
    let order = match job.source.as_ref().and_then(|s| {
        app.key()
            .open(&source_context(&job.connection_id, job.order_id), s)
            .ok()
    }) {
        Some(json) => match woocommerce::webhook::parse_order(&json) {
            Ok(order) => order,
            Err(_) => fetch(&woo, job.order_id)
                .await
                .map_err(|e| skip_or_retry(e, &retry_woo))?,
        },
        None => fetch(&woo, job.order_id)
            .await
            .map_err(|e| skip_or_retry(e, &retry_woo))?,
    };
    if NOT_SHIPPABLE.contains(&order.status.as_str()) {
        let status = order.status.as_str();
        return Err(SendOutcome::Skipped {
            reason: Text::new(Code::NotShippable).with("status", status),
        });
    }
    let products = mapping::load_products(&woo, &[&order])
        .await
        .map_err(&retry_woo)?;
    let weight_unit = weight_unit(shared, conn, &woo).await.map_err(&retry_woo)?;
    let ctx = Context {
        customer_id,
        store_url: &conn.store_url,
        weight_unit: &weight_unit,
        products: &products,
    };
    match mapping::map_order(&order, &ctx) {
        Outcome::Send(body) => Ok(OrderPayload::new(&body)),
        Outcome::Skip(reason) => Err(SendOutcome::Skipped { reason }),
        Outcome::Refuse(reason) => Err(SendOutcome::Rejected { error: reason }),
    }
}

async fn fetch(
    woo: &woocommerce::Client,
    order_id: i64,
) -> Result<woocommerce::Order, woocommerce::Error> {
    woo.get_order(u64::try_from(order_id).unwrap_or(0)).await
}

fn skip_or_retry(
    e: woocommerce::Error,
    retry: &impl Fn(woocommerce::Error) -> SendOutcome,
) -> SendOutcome {
    if e.is_not_found() {
        SendOutcome::Skipped {
            reason: Text::new(Code::OrderGone),
        }
    } else {
        retry(e)
    }
}

async fn weight_unit(
    shared: &Shared,
    conn: &ConnectionRow,
    woo: &woocommerce::Client,
) -> Result<String, woocommerce::Error> {
    if let Some(unit) = shared.weight_units.lock().await.get(&conn.id) {
        return Ok(unit.clone());
    }
    let unit = woo.weight_unit().await?.as_str().to_owned();
    shared
        .weight_units
        .lock()
        .await
        .insert(conn.id.clone(), unit.clone());
    Ok(unit)
}
