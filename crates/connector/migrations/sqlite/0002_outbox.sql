-- The outbox: one row per (connection, WooCommerce order), which is also the send job.
-- `source` (the order as WooCommerce gave it) and `payload` (the exact bytes sent) are sealed
-- and wiped once the order is delivered; what stays is ids, states, tracking and statuses.
CREATE TABLE orders (
    connection_id     TEXT NOT NULL REFERENCES connections (id),
    order_id          INTEGER NOT NULL,
    order_number      TEXT NOT NULL,
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    run_at            TEXT NOT NULL,
    lease_owner       TEXT,
    lease_until       TEXT,
    source            BLOB,
    payload           BLOB,
    last_error        TEXT,
    last_error_at     TEXT,
    tt_id             TEXT,
    tracking_id       TEXT,
    tt_status         TEXT,
    tt_status_name    TEXT,
    tt_updated_at     TEXT,
    woo_status        TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    first_attempt_at  TEXT,
    sent_at           TEXT,
    PRIMARY KEY (connection_id, order_id)
);
CREATE INDEX orders_due ON orders (state, run_at);
CREATE INDEX orders_connection_state ON orders (connection_id, state);

-- Write-backs to WooCommerce (order note, meta, tracking, completed), queued with the change
-- that causes them.
CREATE TABLE writebacks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id    TEXT NOT NULL REFERENCES connections (id),
    order_id         INTEGER NOT NULL,
    body             TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    run_at           TEXT NOT NULL,
    lease_owner      TEXT,
    lease_until      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX writebacks_due ON writebacks (state, run_at);

-- Schedules (status polling, reconcile) run under a lease so one replica does each run.
CREATE TABLE leases (
    name         TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    until        TEXT NOT NULL
);

ALTER TABLE connections ADD COLUMN reconcile_cursor TEXT;
-- TrackingTech asked to wait (429 Retry-After): no send for this connection before then.
ALTER TABLE connections ADD COLUMN send_not_before TEXT;
