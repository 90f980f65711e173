-- Herald schema, PostgreSQL. Every table but the global catalog carries project_id and is keyed by
-- (project_id, id), so every lookup filters by project. Times are epoch ms in BIGINT; JSON is kept
-- as `json` (text preserved byte for byte: payload key order is what the receiver gets).
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL, -- = id, so every table has the distribution key
  uid TEXT UNIQUE,
  name TEXT NOT NULL,
  retry_schedule JSON,
  enforce_catalog BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  PRIMARY KEY (project_id, id)
);

CREATE TABLE event_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  schema JSON,
  example JSON,
  deprecated BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE endpoints (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  event_types JSON NOT NULL,
  method TEXT NOT NULL DEFAULT 'POST',
  headers JSON NOT NULL,
  dev BOOLEAN NOT NULL DEFAULT FALSE,
  timeout_ms INTEGER NOT NULL,
  envelope TEXT NOT NULL DEFAULT 'standard',
  signature JSON NOT NULL,
  rate_limit JSON,
  retry_schedule JSON,
  status TEXT NOT NULL DEFAULT 'active',
  disabled_reason TEXT,
  disabled_at BIGINT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, id)
);

CREATE TABLE endpoint_secrets (
  project_id TEXT NOT NULL,
  id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets (project_id, endpoint_id);

-- No foreign key on the hot-path tables (events, deliveries, attempts): deleteProject and
-- deleteEndpoint clean up explicitly, and each insert skips a referential check.
CREATE TABLE events (
  project_id TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  payload JSON NOT NULL,
  test BOOLEAN NOT NULL DEFAULT FALSE,
  idempotency_key TEXT,
  callback_url TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX events_type ON events (project_id, type, id);

-- One row per key; a key whose expires_at has passed is taken over by the next event (ON CONFLICT).
CREATE TABLE idempotency_keys (
  project_id TEXT NOT NULL,
  key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, key)
);

CREATE TABLE deliveries (
  project_id TEXT NOT NULL,
  id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT,
  url TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  leased_by TEXT,
  last_attempt_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, id)
);
-- Claims walk this partial index in due order (FOR UPDATE SKIP LOCKED): O(batch), whatever the backlog.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (project_id, event_id);
CREATE INDEX deliveries_endpoint ON deliveries (project_id, endpoint_id, status);
CREATE INDEX deliveries_leased ON deliveries (leased_by) WHERE leased_by IS NOT NULL;

CREATE TABLE attempts (
  project_id TEXT NOT NULL,
  id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT,
  event_type TEXT NOT NULL,
  number INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  request JSON NOT NULL,
  response JSON,
  error JSON,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX attempts_endpoint ON attempts (project_id, endpoint_id, id);
CREATE INDEX attempts_event ON attempts (project_id, event_id, id);
CREATE INDEX attempts_delivery ON attempts (project_id, delivery_id, id);
CREATE INDEX attempts_started ON attempts (project_id, endpoint_id, started_at);

CREATE TABLE operational_events (
  project_id TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  data JSON NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, id)
);
