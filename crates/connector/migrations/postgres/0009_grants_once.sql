-- A wc-auth attempt delivers its keys once. The callback's row now outlives the wizard taking
-- the keys: taking empties `sealed` (NULL) and keeps the row, so a second callback for the same
-- attempt finds it and is refused. Rows older than an hour are purged on a schedule (an attempt
-- is refused at the callback after an hour anyway).
ALTER TABLE granted_keys ALTER COLUMN sealed DROP NOT NULL;
