-- The installation: one row, its deviceId salt and the id of the key that seals its secrets.
CREATE TABLE installation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    salt        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Server-side sessions of the web app; `id_hash` is SHA-256 of the cookie value, so a copy of
-- the database does not let anyone sign in.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    owner         TEXT,
    user_json     TEXT,
    tt_token      BLOB,
    wizard        BLOB
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- A store connected, or once connected, to TrackingTech: one row per store URL for its whole
-- life, so reconnecting replaces credentials and webhook in place and keeps the history.
CREATE TABLE connections (
    id                 TEXT PRIMARY KEY,
    owner              TEXT NOT NULL,
    owner_email        TEXT NOT NULL,
    tenant_code        TEXT NOT NULL,
    tenant_name        TEXT NOT NULL,
    api_base_url       TEXT NOT NULL,
    store_url          TEXT NOT NULL UNIQUE,
    device_id          TEXT NOT NULL,
    tt_store_id        TEXT NOT NULL,
    tt_store_name      TEXT NOT NULL,
    customer_id        TEXT,
    integration_token  BLOB,
    woo_consumer_key   BLOB,
    woo_consumer_secret BLOB,
    woo_permissions    TEXT NOT NULL DEFAULT '',
    webhook_id         INTEGER,
    webhook_secret     BLOB,
    state              TEXT NOT NULL,
    trigger_status     TEXT NOT NULL DEFAULT 'processing',
    mark_completed     INTEGER NOT NULL DEFAULT 0,
    notify_customer    INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    connected_at       TEXT,
    disconnected_at    TEXT,
    updated_at         TEXT NOT NULL,
    last_sent_at       TEXT,
    last_error         TEXT,
    last_error_at      TEXT
);
CREATE INDEX connections_owner ON connections (owner);

-- What happened to a connection, for the dashboard: order numbers and reasons, no personal data.
CREATE TABLE activity (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id  TEXT NOT NULL REFERENCES connections (id),
    at             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX activity_connection ON activity (connection_id, id);

-- Keys WooCommerce POSTed to the wc-auth callback, waiting for the wizard that asked for them
-- (matched by the SHA-256 of the attempt's unguessable user_id). Sealed; taken once.
CREATE TABLE granted_keys (
    grant_hash  TEXT PRIMARY KEY,
    sealed      BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
