-- The PostgreSQL schema: the SQLite migrations (0001_init, 0002_outbox) combined, in native
-- types. Times are timestamptz, sealed secrets and payloads bytea, flags boolean.

-- The installation: one row, its deviceId salt and the id of the key that seals its secrets.
CREATE TABLE installation (
    id          integer PRIMARY KEY CHECK (id = 1),
    salt        text NOT NULL,
    key_id      text NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Server-side sessions of the web app; `id_hash` is SHA-256 of the cookie value, so a copy of
-- the database does not let anyone sign in.
CREATE TABLE sessions (
    id_hash       text PRIMARY KEY,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    owner         text,
    user_json     text,
    tt_token      bytea,
    wizard        bytea
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- A store connected, or once connected, to TrackingTech: one row per store URL for its whole
-- life, so reconnecting replaces credentials and webhook in place and keeps the history.
CREATE TABLE connections (
    id                  text PRIMARY KEY,
    owner               text NOT NULL,
    owner_email         text NOT NULL,
    tenant_code         text NOT NULL,
    tenant_name         text NOT NULL,
    api_base_url        text NOT NULL,
    store_url           text NOT NULL UNIQUE,
    device_id           text NOT NULL,
    tt_store_id         text NOT NULL,
    tt_store_name       text NOT NULL,
    customer_id         text,
    integration_token   bytea,
    woo_consumer_key    bytea,
    woo_consumer_secret bytea,
    woo_permissions     text NOT NULL DEFAULT '',
    webhook_id          bigint,
    webhook_secret      bytea,
    state               text NOT NULL,
    trigger_status      text NOT NULL DEFAULT 'processing',
    mark_completed      boolean NOT NULL DEFAULT false,
    notify_customer     boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    connected_at        timestamptz,
    disconnected_at     timestamptz,
    updated_at          timestamptz NOT NULL,
    last_sent_at        timestamptz,
    last_error          text,
    last_error_at       timestamptz,
    reconcile_cursor    timestamptz,
    -- TrackingTech asked to wait (429 Retry-After): no send for this connection before then.
    send_not_before     timestamptz
);
CREATE INDEX connections_owner ON connections (owner);

-- What happened to a connection, for the dashboard: order numbers and reasons, no personal data.
CREATE TABLE activity (
    id             bigserial PRIMARY KEY,
    connection_id  text NOT NULL REFERENCES connections (id),
    at             timestamptz NOT NULL,
    kind           text NOT NULL,
    message        text NOT NULL
);
CREATE INDEX activity_connection ON activity (connection_id, id);

-- Keys WooCommerce POSTed to the wc-auth callback, waiting for the wizard that asked for them
-- (matched by the SHA-256 of the attempt's unguessable user_id). Sealed; taken once.
CREATE TABLE granted_keys (
    grant_hash  text PRIMARY KEY,
    sealed      bytea NOT NULL,
    created_at  timestamptz NOT NULL
);

-- The outbox: one row per (connection, WooCommerce order), which is also the send job.
-- `source` (the order as WooCommerce gave it) and `payload` (the exact bytes sent) are sealed
-- and wiped once the order is delivered; what stays is ids, states, tracking and statuses.
CREATE TABLE orders (
    connection_id     text NOT NULL REFERENCES connections (id),
    order_id          bigint NOT NULL,
    order_number      text NOT NULL,
    state             text NOT NULL,
    attempts          bigint NOT NULL DEFAULT 0,
    run_at            timestamptz NOT NULL,
    lease_owner       text,
    lease_until       timestamptz,
    source            bytea,
    payload           bytea,
    last_error        text,
    last_error_at     timestamptz,
    tt_id             text,
    tracking_id       text,
    tt_status         text,
    tt_status_name    text,
    tt_updated_at     text,
    woo_status        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    first_attempt_at  timestamptz,
    sent_at           timestamptz,
    PRIMARY KEY (connection_id, order_id)
);
CREATE INDEX orders_due ON orders (state, run_at);
CREATE INDEX orders_connection_state ON orders (connection_id, state);

-- Write-backs to WooCommerce (order note, meta, tracking, completed), queued with the change
-- that causes them.
CREATE TABLE writebacks (
    id               bigserial PRIMARY KEY,
    connection_id    text NOT NULL REFERENCES connections (id),
    order_id         bigint NOT NULL,
    body             text NOT NULL,
    state            text NOT NULL,
    attempts         bigint NOT NULL DEFAULT 0,
    run_at           timestamptz NOT NULL,
    lease_owner      text,
    lease_until      timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL
);
CREATE INDEX writebacks_due ON writebacks (state, run_at);

-- Schedules (status polling, reconcile) run under a lease so one replica does each run.
CREATE TABLE leases (
    name         text PRIMARY KEY,
    owner        text NOT NULL,
    until        timestamptz NOT NULL
);
