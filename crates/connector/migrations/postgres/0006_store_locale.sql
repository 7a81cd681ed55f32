-- What the store says about itself, kept with its connection: its time zone (WordPress's
-- `timezone_string`, an IANA name, or else `gmt_offset` in minutes) and its language
-- (`system_status` → `environment.language`, e.g. `es_CL`). NULL until read: connections made
-- before this read their zone at the next reconcile; their language stays unknown (Spanish).
ALTER TABLE connections ADD COLUMN store_timezone text;
ALTER TABLE connections ADD COLUMN store_utc_offset integer;
ALTER TABLE connections ADD COLUMN store_language text;
