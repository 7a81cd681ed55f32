-- Texts for people are stored as coded texts: {"code": ..., "params": {...}} as JSON, rendered
-- in the reader's language when shown (connector::text). A text written before this, of the
-- form "español | English", keeps its Spanish half as the text of a `legacy` code; the columns
-- keep their names (`activity.message`, `last_error`).
UPDATE activity
SET message = json_object('code', 'legacy', 'params', json_object('text', trim(
    CASE WHEN instr(message, ' | ') > 0 THEN substr(message, 1, instr(message, ' | ') - 1)
         ELSE message END)));

UPDATE orders
SET last_error = json_object('code', 'legacy', 'params', json_object('text', trim(
    CASE WHEN instr(last_error, ' | ') > 0 THEN substr(last_error, 1, instr(last_error, ' | ') - 1)
         ELSE last_error END)))
WHERE last_error IS NOT NULL;

UPDATE connections
SET last_error = json_object('code', 'legacy', 'params', json_object('text', trim(
    CASE WHEN instr(last_error, ' | ') > 0 THEN substr(last_error, 1, instr(last_error, ' | ') - 1)
         ELSE last_error END)))
WHERE last_error IS NOT NULL;
