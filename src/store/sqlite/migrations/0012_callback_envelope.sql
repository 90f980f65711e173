-- The envelope of an event's one-off callbackUrl delivery (`callbackEnvelope`: standard, event-data
-- or raw), as the event was accepted with it. NULL: standard (every event before this column, and
-- events without a callbackUrl). Adding a nullable column is instant.
ALTER TABLE events ADD COLUMN callback_envelope TEXT;
