-- The status of ttwc's webhook in the store as reconcile last saw it: a person may pause it in
-- WooCommerce, and ttwc must say so (orders then arrive only through reconcile) instead of
-- undoing that choice.
ALTER TABLE connections ADD COLUMN webhook_status text;
