-- An event's deliveries in id order (GET …/events/:event/deliveries, a page at a time): with id
-- as the index's third column a page is a walk of the index from the cursor, where the index
-- without it held the event's rows in rowid order and every page read and sorted all of them
-- (~4 ms at 10,000 deliveries, ~38 ms at 100,000). Still one index per delivery, the event key
-- first for ON DELETE CASCADE (0007); only its entries are wider. Rebuilding it reads every
-- delivery once, at upgrade.
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id, project_id, id);
