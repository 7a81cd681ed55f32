-- One index fewer for every new order to write. An index whose key begins with the connection
-- puts each order's entry on a page of its own connection, so a commit of N orders from N stores
-- rewrites N pages of it in the WAL; `orders_connection_state` was the second such index beside
-- the primary key, and the costliest part of a commit. What it served is read through
-- `orders_due` instead, now carrying the connection: the queue depth of a connection and the
-- cancelling of its queue look through the orders still to send (a covering scan of every
-- connection's, small unless TrackingTech has been away), not through all of its orders.
DROP INDEX orders_connection_state;
DROP INDEX orders_due;
CREATE INDEX orders_due ON orders (state, run_at, connection_id);
