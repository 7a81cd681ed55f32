//! The engine's writes — claims, payloads, outcomes, write-backs — as jobs for the writer
//! thread (see `writer`): plain functions of its connection, each one transaction.
//!
//! Each order is a cached single-row statement: on the writer's own connection a statement
//! costs SQLite's work alone, so there is no need to fold a batch into one statement of many
//! rows of values, as there was through sqlx.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use super::times;
use crate::store::{OrderRow, OrderState, Recording, Result, SendOutcome, WritebackRow};

/// Column `name` of an `orders` row, a time, or NULL.
fn time_or_none(row: &Row<'_>, name: &str) -> Result<Option<OffsetDateTime>> {
    let value: Option<String> = row.get(name)?;
    times::decode_or_none("orders", name, value.as_deref())
}

/// Column `name` of an `orders` row, a time that is never NULL.
fn time_at(row: &Row<'_>, name: &str) -> Result<OffsetDateTime> {
    let value: Option<String> = row.get(name)?;
    times::decode_required("orders", name, value.as_deref())
}

fn order_from_row(row: &Row<'_>) -> Result<OrderRow> {
    let state: String = row.get("state")?;
    Ok(OrderRow {
        connection_id: row.get("connection_id")?,
        order_id: row.get("order_id")?,
        order_number: row.get("order_number")?,
        state: OrderState::stored(&state)?,
        attempts: row.get("attempts")?,
        run_at: time_at(row, "run_at")?,
        lease_owner: row.get("lease_owner")?,
        lease_until: time_or_none(row, "lease_until")?,
        source: row.get("source")?,
        payload: row.get("payload")?,
        last_error: row.get("last_error")?,
        last_error_at: time_or_none(row, "last_error_at")?,
        tt_id: row.get("tt_id")?,
        tracking_id: row.get("tracking_id")?,
        tt_status: row.get("tt_status")?,
        tt_status_name: row.get("tt_status_name")?,
        tt_updated_at: row.get("tt_updated_at")?,
        woo_status: row.get("woo_status")?,
        created_at: time_at(row, "created_at")?,
        first_attempt_at: time_or_none(row, "first_attempt_at")?,
        sent_at: time_or_none(row, "sent_at")?,
    })
}

/// What [`claim_sends`] is asked for.
pub(super) struct Claim {
    pub owner: String,
    pub now: OffsetDateTime,
    pub lease_until: OffsetDateTime,
    pub limit: u32,
    pub per_connection: u32,
}

/// Leases up to `limit` due orders of connected connections not told to wait, at most
/// `per_connection` in flight per connection; see `Store::claim_sends`.
pub(super) fn claim_sends(c: &mut Connection, claim: &Claim) -> Result<Vec<OrderRow>> {
    let mut claiming = c.prepare_cached(concat!(
        // A bounded window of due rows ranked per connection; a connection's rank plus what it
        // already has in flight must stay within the limit. Expired leases (a crashed worker)
        // count as due. Two index walks that stop at their LIMIT, not one OR: with an OR SQLite
        // gathered every due row and sorted them all (a backlog of 100,000 orders made each
        // claim read 100,000 rows).
        "WITH busy AS (",
        // In flight per connection, counted once (not once per candidate row).
        "  SELECT connection_id, COUNT(*) AS n FROM orders",
        "  WHERE state = 'sending' AND lease_until > ?1 GROUP BY connection_id",
        "), due AS (",
        "  SELECT * FROM (",
        "    SELECT o.rowid AS rid, o.connection_id, o.run_at, o.order_id FROM orders o",
        "    JOIN connections c ON c.id = o.connection_id AND c.state = 'connected'",
        "      AND (c.send_not_before IS NULL OR c.send_not_before <= ?1)",
        "    WHERE o.state = 'queued' AND o.run_at <= ?1",
        "    ORDER BY o.run_at LIMIT ?2 * 4)",
        "  UNION ALL",
        "  SELECT * FROM (",
        "    SELECT o.rowid AS rid, o.connection_id, o.run_at, o.order_id FROM orders o",
        "    JOIN connections c ON c.id = o.connection_id AND c.state = 'connected'",
        "      AND (c.send_not_before IS NULL OR c.send_not_before <= ?1)",
        "    WHERE o.state = 'sending' AND o.lease_until <= ?1",
        "    LIMIT ?2 * 4)",
        "), ranked AS (",
        "  SELECT rid, COALESCE(busy.n, 0)",
        "    + ROW_NUMBER() OVER (PARTITION BY due.connection_id ORDER BY due.run_at, due.order_id) AS rank",
        "  FROM due LEFT JOIN busy ON busy.connection_id = due.connection_id",
        ")",
        "UPDATE orders SET state = 'sending', lease_owner = ?3, lease_until = ?4, attempts = attempts + 1,",
        "  first_attempt_at = COALESCE(first_attempt_at, ?1)",
        " WHERE rowid IN (SELECT rid FROM ranked WHERE rank <= ?5 LIMIT ?2)",
        " RETURNING ",
        order_columns!()
    ))?;
    let mut rows = claiming.query(params![
        times::encode(claim.now)?,
        claim.limit,
        claim.owner,
        times::encode(claim.lease_until)?,
        claim.per_connection,
    ])?;
    let mut claimed = Vec::new();
    while let Some(row) = rows.next()? {
        claimed.push(order_from_row(row)?);
    }
    Ok(claimed)
}

/// A first attempt's sealed payload, owned for the writer thread.
pub(super) struct Payload {
    pub connection_id: String,
    pub order_id: i64,
    pub payload: Vec<u8>,
}

/// Stores payloads of orders still leased to `owner` (the source goes: the payload is what is
/// sent from now on); per item, whether it was stored.
pub(super) fn save_payloads(
    c: &mut Connection,
    owner: &str,
    items: &[Payload],
) -> Result<Vec<bool>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut saved = Vec::with_capacity(items.len());
    {
        let mut save = tx.prepare_cached(
            "UPDATE orders SET payload = ?1, source = NULL \
             WHERE connection_id = ?2 AND order_id = ?3 AND state = 'sending' AND lease_owner = ?4",
        )?;
        for item in items {
            let n = save.execute(params![
                item.payload,
                item.connection_id,
                item.order_id,
                owner
            ])?;
            saved.push(n == 1);
        }
    }
    tx.commit()?;
    Ok(saved)
}

/// One attempt's end, owned for the writer thread.
pub(super) struct Outcome {
    pub connection_id: String,
    pub order_id: i64,
    pub outcome: SendOutcome,
    /// The activity entry (kind, message) to add with it.
    pub activity: Option<(String, crate::text::Text)>,
}

/// Records the outcomes of orders still leased to `owner`, with what comes with each (a
/// write-back, the connection's last send or error, an activity entry), in one transaction;
/// per item, whether it was recorded. See `Store::finish_sends`.
pub(super) fn finish_sends(
    c: &mut Connection,
    owner: &str,
    now: OffsetDateTime,
    items: &[Outcome],
) -> Result<Vec<bool>> {
    let now = times::encode(now)?;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut recorded = Vec::with_capacity(items.len());
    let mut sent_by = BTreeSet::new();
    for item in items {
        let (cid, oid) = (item.connection_id.as_str(), item.order_id);
        let done = match item.outcome.recording() {
            Recording::Sent {
                tt_id,
                tracking_id,
                status,
                status_name,
                writeback,
            } => {
                let n = tx
                    .prepare_cached(
                        "UPDATE orders SET state = 'sent', lease_owner = NULL, lease_until = NULL, \
                         source = NULL, payload = NULL, tt_id = ?1, tracking_id = ?2, tt_status = ?3, \
                         tt_status_name = ?4, last_error = NULL, sent_at = ?5 \
                         WHERE connection_id = ?6 AND order_id = ?7 AND state = 'sending' AND lease_owner = ?8",
                    )?
                    .execute(params![
                        tt_id,
                        tracking_id,
                        status,
                        status_name,
                        now,
                        cid,
                        oid,
                        owner
                    ])?;
                if n == 1 {
                    tx.prepare_cached(
                        "INSERT INTO writebacks (connection_id, order_id, body, state, run_at, created_at) \
                         VALUES (?1, ?2, ?3, 'queued', ?4, ?4)",
                    )?
                    .execute(params![cid, oid, writeback, now])?;
                    sent_by.insert(cid);
                }
                n == 1
            }
            Recording::Retried {
                run_at,
                error,
                hold_connection_until,
            } => {
                if let Some(until) = hold_connection_until {
                    // Told to wait (429): the whole connection holds.
                    tx.prepare_cached(
                        "UPDATE connections SET send_not_before = MAX(COALESCE(send_not_before, ''), ?1) \
                         WHERE id = ?2",
                    )?
                    .execute(params![times::encode(until)?, cid])?;
                }
                tx.prepare_cached(
                    "UPDATE orders SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
                     run_at = ?1, last_error = ?2, last_error_at = ?3 \
                     WHERE connection_id = ?4 AND order_id = ?5 AND state = 'sending' AND lease_owner = ?6",
                )?
                .execute(params![times::encode(run_at)?, error, now, cid, oid, owner])?
                    == 1
            }
            Recording::Relogin { error } => {
                // Back to the queue, the attempt not counted; the connection waits for a login.
                let n = tx
                    .prepare_cached(
                        "UPDATE orders SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
                         run_at = ?1, attempts = MAX(attempts - 1, 0), last_error = ?2, last_error_at = ?1 \
                         WHERE connection_id = ?3 AND order_id = ?4 AND state = 'sending' AND lease_owner = ?5",
                    )?
                    .execute(params![now, error, cid, oid, owner])?;
                tx.prepare_cached(
                    "UPDATE connections SET state = 'needs_relogin', last_error = ?1, last_error_at = ?2, \
                     updated_at = ?2 WHERE id = ?3 AND state = 'connected'",
                )?
                .execute(params![error, now, cid])?;
                n == 1
            }
            Recording::Final { state, error } => {
                // Ended for good; a failure or rejection is noted on the connection.
                let n = tx
                    .prepare_cached(
                        "UPDATE orders SET state = ?1, lease_owner = NULL, lease_until = NULL, source = NULL, \
                         payload = NULL, last_error = ?2, last_error_at = ?3 \
                         WHERE connection_id = ?4 AND order_id = ?5 AND state = 'sending' AND lease_owner = ?6",
                    )?
                    .execute(params![state, error, now, cid, oid, owner])?;
                if state != "skipped" && n == 1 {
                    tx.prepare_cached(
                        "UPDATE connections SET last_error = ?1, last_error_at = ?2 WHERE id = ?3",
                    )?
                    .execute(params![error, now, cid])?;
                }
                n == 1
            }
        };
        recorded.push(done);
    }
    for cid in sent_by {
        tx.prepare_cached("UPDATE connections SET last_sent_at = ?1 WHERE id = ?2")?
            .execute(params![now, cid])?;
    }
    for (item, _) in items.iter().zip(&recorded).filter(|(_, r)| **r) {
        if let Some((kind, message)) = &item.activity {
            add_activity(&tx, &item.connection_id, &now, kind, message)?;
        }
    }
    tx.commit()?;
    Ok(recorded)
}

fn add_activity(
    tx: &rusqlite::Transaction<'_>,
    connection_id: &str,
    now: &str,
    kind: &str,
    message: &crate::text::Text,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO activity (connection_id, at, kind, message) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![connection_id, now, kind, message])?;
    Ok(())
}

/// Leases up to `limit` due write-backs of connected connections; see
/// `Store::claim_writebacks`.
pub(super) fn claim_writebacks(
    c: &mut Connection,
    owner: &str,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: u32,
) -> Result<Vec<WritebackRow>> {
    let mut claiming = c.prepare_cached(
        // As for orders: two index walks that stop at their LIMIT. With one OR, SQLite read
        // and sorted every write-back ever queued at each claim (100,000 after a drain).
        "UPDATE writebacks SET state = 'running', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM ( \
             SELECT * FROM (SELECT w.id, w.run_at FROM writebacks w \
               JOIN connections c ON c.id = w.connection_id AND c.state = 'connected' \
               WHERE w.state = 'queued' AND w.run_at <= ?3 ORDER BY w.run_at LIMIT ?4) \
             UNION ALL \
             SELECT * FROM (SELECT w.id, w.run_at FROM writebacks w \
               JOIN connections c ON c.id = w.connection_id AND c.state = 'connected' \
               WHERE w.state = 'running' AND w.lease_until <= ?3 LIMIT ?4) \
           ) ORDER BY run_at, id LIMIT ?4) \
         RETURNING id, connection_id, order_id, body, attempts",
    )?;
    let claimed = claiming
        .query_map(
            params![
                owner,
                times::encode(lease_until)?,
                times::encode(now)?,
                limit
            ],
            |r| {
                Ok(WritebackRow {
                    id: r.get("id")?,
                    connection_id: r.get("connection_id")?,
                    order_id: r.get("order_id")?,
                    body: r.get("body")?,
                    attempts: r.get("attempts")?,
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(claimed)
}

/// A write-back's end, owned for the writer thread.
pub(super) struct WritebackDone {
    pub id: i64,
    pub state: &'static str,
    pub retry_at: Option<OffsetDateTime>,
    pub error: Option<String>,
    pub warning: Option<crate::text::Text>,
}

/// Records the ends of write-backs still leased to `owner`, with their warnings, in one
/// transaction; see `Store::finish_writebacks`.
pub(super) fn finish_writebacks(
    c: &mut Connection,
    owner: &str,
    now: OffsetDateTime,
    ends: &[WritebackDone],
) -> Result<()> {
    let now = times::encode(now)?;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for end in ends {
        let retry_at = end.retry_at.map(times::encode).transpose()?;
        let connection_id: Option<String> = tx
            .prepare_cached(
                "UPDATE writebacks SET state = ?1, run_at = COALESCE(?2, run_at), last_error = ?3, \
                 lease_owner = NULL, lease_until = NULL WHERE id = ?4 AND lease_owner = ?5 \
                 RETURNING connection_id",
            )?
            .query_row(
                params![end.state, retry_at, end.error, end.id, owner],
                |r| r.get(0),
            )
            .optional()?;
        if let (Some(connection_id), Some(warning)) = (connection_id, &end.warning) {
            add_activity(&tx, &connection_id, &now, "warning", warning)?;
        }
    }
    tx.commit()?;
    Ok(())
}
