-- Texts for people are stored as coded texts: {"code": ..., "params": {...}} as JSON, rendered
-- in the reader's language when shown (connector::text). A text written before this, of the
-- form "español | English", keeps its Spanish half as the text of a `legacy` code; the columns
-- keep their names (`activity.message`, `last_error`).
UPDATE activity
SET message = json_build_object('code', 'legacy', 'params', json_build_object('text', btrim(
    CASE WHEN strpos(message, ' | ') > 0 THEN substr(message, 1, strpos(message, ' | ') - 1)
         ELSE message END)))::text;

UPDATE orders
SET last_error = json_build_object('code', 'legacy', 'params', json_build_object('text', btrim(
    CASE WHEN strpos(last_error, ' | ') > 0 THEN substr(last_error, 1, strpos(last_error, ' | ') - 1)
         ELSE last_error END)))::text
WHERE last_error IS NOT NULL;

UPDATE connections
SET last_error = json_build_object('code', 'legacy', 'params', json_build_object('text', btrim(
    CASE WHEN strpos(last_error, ' | ') > 0 THEN substr(last_error, 1, strpos(last_error, ' | ') - 1)
         ELSE last_error END)))::text
WHERE last_error IS NOT NULL;
