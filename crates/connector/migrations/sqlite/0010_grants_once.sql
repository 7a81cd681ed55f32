-- A wc-auth attempt delivers its keys once. The callback's row now outlives the wizard taking
-- the keys: taking empties `sealed` (NULL) and keeps the row, so a second callback for the same
-- attempt finds it and is refused. Rows older than an hour are purged on a schedule (an attempt
-- is refused at the callback after an hour anyway). SQLite cannot drop a NOT NULL in place, so
-- the table is made again; it only holds the last hour's attempts.
CREATE TABLE granted_keys_once (
    grant_hash  TEXT PRIMARY KEY,
    sealed      BLOB,
    created_at  TEXT NOT NULL
);
INSERT INTO granted_keys_once (grant_hash, sealed, created_at)
    SELECT grant_hash, sealed, created_at FROM granted_keys;
DROP TABLE granted_keys;
ALTER TABLE granted_keys_once RENAME TO granted_keys;
