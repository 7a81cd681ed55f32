-- When WooCommerce last modified an order, as the delivery (or the read) that set its
-- `woo_status` said (`date_modified_gmt`): a replayed or late delivery of an older
-- modification must not set its status over a newer one. NULL for rows older than this
-- column: any status replaces theirs.
ALTER TABLE orders ADD COLUMN woo_modified_at timestamptz;
