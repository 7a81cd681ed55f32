-- Times that sort. Every time is now stored as UTC text of one width,
-- `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (nine digits of fraction, always `Z`; see
-- `src/store/sqlite/times.rs`), which compares as text exactly as the instants compare.
-- Until now they were RFC 3339 as the `time` crate writes it (sqlx's binding of an
-- `OffsetDateTime`, and the writer thread's own formatting): the fraction trimmed of trailing
-- zeros, none at all on a whole second, `Z` in UTC and `+HH:MM` / `-HH:MM` in any other offset.
-- So `…:05Z` sorted after `…:05.3Z` ('.' < 'Z') and `…:05.12Z` after `…:05.123Z`.
--
-- This rewrites every time column of every table into the new form: the date and time of day
-- moved to UTC by SQLite (whole minutes, so the fraction is untouched), the fraction padded to
-- nine digits. A value that is not such a time (NULL, the readiness probe's empty lease, damage)
-- is left as it is. `orders.tt_updated_at` is not among them: it is TrackingTech's own text,
-- kept as it came (as PostgreSQL keeps it) and never compared.

-- Each distinct old value once, with its new form.
CREATE TEMP TABLE sortable_times (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID;

WITH stored (v) AS (
              SELECT created_at FROM installation
    UNION     SELECT created_at FROM sessions
    UNION     SELECT last_seen_at FROM sessions
    UNION     SELECT created_at FROM connections
    UNION     SELECT connected_at FROM connections
    UNION     SELECT disconnected_at FROM connections
    UNION     SELECT updated_at FROM connections
    UNION     SELECT last_sent_at FROM connections
    UNION     SELECT last_error_at FROM connections
    UNION     SELECT reconcile_cursor FROM connections
    UNION     SELECT send_not_before FROM connections
    UNION     SELECT at FROM activity
    UNION     SELECT created_at FROM granted_keys
    UNION     SELECT run_at FROM orders
    UNION     SELECT lease_until FROM orders
    UNION     SELECT last_error_at FROM orders
    UNION     SELECT created_at FROM orders
    UNION     SELECT first_attempt_at FROM orders
    UNION     SELECT sent_at FROM orders
    UNION     SELECT run_at FROM writebacks
    UNION     SELECT lease_until FROM writebacks
    UNION     SELECT created_at FROM writebacks
    UNION     SELECT until FROM leases
),
-- `YYYY-MM-DDTHH:MM:SS[.f…]` and its offset (`Z` or `±HH:MM`).
split (v, body, tz) AS (
    SELECT v,
           CASE WHEN v GLOB '*Z' THEN substr(v, 1, length(v) - 1)
                ELSE substr(v, 1, length(v) - 6) END,
           CASE WHEN v GLOB '*Z' THEN 'Z' ELSE substr(v, -6) END
    FROM stored
    WHERE v GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*'
      AND (v GLOB '*Z' OR v GLOB '*[+-][0-9][0-9]:[0-9][0-9]')
),
-- The whole seconds in UTC, and the fraction's digits ('' on a whole second).
parts (v, seconds, fraction) AS (
    SELECT v,
           strftime('%Y-%m-%dT%H:%M:%S', substr(body, 1, 19) || tz),
           CASE WHEN length(body) = 19 THEN ''
                WHEN substr(body, 20, 1) = '.' AND length(body) BETWEEN 21 AND 29
                     AND substr(body, 21) NOT GLOB '*[^0-9]*' THEN substr(body, 21)
           END
    FROM split
)
INSERT INTO sortable_times (old, new)
SELECT v, seconds || '.' || substr(fraction || '000000000', 1, 9) || 'Z'
FROM parts
WHERE seconds IS NOT NULL AND fraction IS NOT NULL
  AND v <> seconds || '.' || substr(fraction || '000000000', 1, 9) || 'Z';

UPDATE installation SET created_at = (SELECT new FROM sortable_times WHERE old = created_at)
    WHERE created_at IN (SELECT old FROM sortable_times);

UPDATE sessions SET created_at = (SELECT new FROM sortable_times WHERE old = created_at)
    WHERE created_at IN (SELECT old FROM sortable_times);
UPDATE sessions SET last_seen_at = (SELECT new FROM sortable_times WHERE old = last_seen_at)
    WHERE last_seen_at IN (SELECT old FROM sortable_times);

UPDATE connections SET created_at = (SELECT new FROM sortable_times WHERE old = created_at)
    WHERE created_at IN (SELECT old FROM sortable_times);
UPDATE connections SET connected_at = (SELECT new FROM sortable_times WHERE old = connected_at)
    WHERE connected_at IN (SELECT old FROM sortable_times);
UPDATE connections SET disconnected_at = (SELECT new FROM sortable_times WHERE old = disconnected_at)
    WHERE disconnected_at IN (SELECT old FROM sortable_times);
UPDATE connections SET updated_at = (SELECT new FROM sortable_times WHERE old = updated_at)
    WHERE updated_at IN (SELECT old FROM sortable_times);
UPDATE connections SET last_sent_at = (SELECT new FROM sortable_times WHERE old = last_sent_at)
    WHERE last_sent_at IN (SELECT old FROM sortable_times);
UPDATE connections SET last_error_at = (SELECT new FROM sortable_times WHERE old = last_error_at)
    WHERE last_error_at IN (SELECT old FROM sortable_times);
UPDATE connections SET reconcile_cursor = (SELECT new FROM sortable_times WHERE old = reconcile_cursor)
    WHERE reconcile_cursor IN (SELECT old FROM sortable_times);
UPDATE connections SET send_not_before = (SELECT new FROM sortable_times WHERE old = send_not_before)
    WHERE send_not_before IN (SELECT old FROM sortable_times);

UPDATE activity SET at = (SELECT new FROM sortable_times WHERE old = at)
    WHERE at IN (SELECT old FROM sortable_times);

UPDATE granted_keys SET created_at = (SELECT new FROM sortable_times WHERE old = created_at)
    WHERE created_at IN (SELECT old FROM sortable_times);

UPDATE orders SET run_at = (SELECT new FROM sortable_times WHERE old = run_at)
    WHERE run_at IN (SELECT old FROM sortable_times);
UPDATE orders SET lease_until = (SELECT new FROM sortable_times WHERE old = lease_until)
    WHERE lease_until IN (SELECT old FROM sortable_times);
UPDATE orders SET last_error_at = (SELECT new FROM sortable_times WHERE old = last_error_at)
    WHERE last_error_at IN (SELECT old FROM sortable_times);
UPDATE orders SET created_at = (SELECT new FROM sortable_times WHERE old = created_at)
    WHERE created_at IN (SELECT old FROM sortable_times);
UPDATE orders SET first_attempt_at = (SELECT new FROM sortable_times WHERE old = first_attempt_at)
    WHERE first_attempt_at IN (SELECT old FROM sortable_times);
UPDATE orders SET sent_at = (SELECT new FROM sortable_times WHERE old = sent_at)
    WHERE sent_at IN (SELECT old FROM sortable_times);

UPDATE writebacks SET run_at = (SELECT new FROM sortable_times WHERE old = run_at)
    WHERE run_at IN (SELECT old FROM sortable_times);
UPDATE writebacks SET lease_until = (SELECT new FROM sortable_times WHERE old = lease_until)
    WHERE lease_until IN (SELECT old FROM sortable_times);
UPDATE writebacks SET created_at = (SELECT new FROM sortable_times WHERE old = created_at)
    WHERE created_at IN (SELECT old FROM sortable_times);

UPDATE leases SET until = (SELECT new FROM sortable_times WHERE old = until)
    WHERE until IN (SELECT old FROM sortable_times);

DROP TABLE sortable_times;
