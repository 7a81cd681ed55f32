-- "New since the connection" is decided by what a merchant cannot back-date: the highest order
-- id the store had when it was connected (WooCommerce ids only grow). NULL until read: for
-- connections made before this column, at their first reconcile.
ALTER TABLE connections ADD COLUMN order_id_at_connect INTEGER;

-- Orders the rule left out (older than the connection, at the trigger status), each recorded
-- once in the activity with how to send it: one row per order, so "once" holds across restarts
-- and replicas. Never sent from here: this is not the outbox.
CREATE TABLE left_out_orders (
    connection_id  TEXT NOT NULL REFERENCES connections (id),
    order_id       INTEGER NOT NULL,
    noted_at       TEXT NOT NULL,
    PRIMARY KEY (connection_id, order_id)
) WITHOUT ROWID;
