-- An event's deliveries in id order (GET …/events/:event/deliveries, a page at a time): with id
-- as the index's third column a page is a walk of the index from the cursor, where the index
-- without it held the event's rows in heap order and every page read and sorted all of them.
-- Still one index per delivery; only its entries are wider. Rebuilding it reads every delivery
-- once and blocks writes to deliveries meanwhile (CREATE INDEX CONCURRENTLY cannot run inside the
-- migration's transaction): on a large table, upgrade in a quiet moment (docs/operations.md).
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (project_id, event_id, id);
