-- How many deliveries an event was accepted with (`deliveryCount`): fixed at ingest, since an event's
-- deliveries are only ever deleted with it, so lists can say how many without reading them. NULL:
-- unknown, for events accepted before this column (not counted here: that would read every
-- delivery on upgrade). Adding a nullable column without a default does not rewrite the table.
ALTER TABLE events ADD COLUMN delivery_count INTEGER;
