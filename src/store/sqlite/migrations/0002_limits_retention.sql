-- Shared per-endpoint rate limits, and delivery of operational events to the operator webhook.
-- One row per rate-limited endpoint: its GCRA "theoretical arrival time" (epoch ms, fractional),
-- the tokens the last take granted, and the limit it was computed under (src/domain/gcra.ts).
CREATE TABLE endpoint_rate_limits (
  project_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  tat REAL NOT NULL,
  granted INTEGER NOT NULL DEFAULT 0,
  -- The limit the TAT was computed under: when it changes, a TAT far ahead is clamped.
  interval_ms REAL NOT NULL DEFAULT 0,
  tolerance_ms REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, endpoint_id)
);

-- An outbox: operational events not yet handed to the operator webhook have forwarded_at NULL.
-- Those recorded before this migration count as handled (they are not sent after an upgrade).
ALTER TABLE operational_events ADD COLUMN forwarded_at INTEGER;
UPDATE operational_events SET forwarded_at = created_at;
CREATE INDEX operational_events_unforwarded ON operational_events (created_at) WHERE forwarded_at IS NULL;

-- Retention walks each project's events by age (purgeBefore); old operational events go by age too.
CREATE INDEX events_created ON events (project_id, created_at, id);
CREATE INDEX operational_events_created ON operational_events (project_id, created_at);
