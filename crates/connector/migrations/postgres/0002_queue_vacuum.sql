-- The outbox and the write-back queue change every row several times (queued → sending →
-- queued … → sent), each change a new row version with new index entries: a drain of 10,000
-- orders left 61,756 dead versions beside the 10,000 live rows, and every claim walks the due
-- index through them until a vacuum runs. With the default threshold (20 % of the table) that
-- is late on a large outbox, so vacuum and analyze these two tables once 1 % of their rows
-- (plus 1,000) changed, without throttling. (Only where autovacuum is on, as it is by default.)
ALTER TABLE orders SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);
ALTER TABLE writebacks SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);
