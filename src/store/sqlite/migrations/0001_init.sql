-- Herald schema, SQLite. Every table but the global catalog carries project_id; times are epoch ms.
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL, -- = id, so every table has the distribution key
  uid TEXT UNIQUE,
  name TEXT NOT NULL,
  retry_schedule TEXT,
  enforce_catalog INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX api_keys_project ON api_keys (project_id, id);

CREATE TABLE event_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  schema TEXT,
  example TEXT,
  deprecated INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE endpoints (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT NOT NULL DEFAULT '[]',
  method TEXT NOT NULL DEFAULT 'POST',
  headers TEXT NOT NULL DEFAULT '{}',
  dev INTEGER NOT NULL DEFAULT 0,
  timeout_ms INTEGER NOT NULL,
  envelope TEXT NOT NULL DEFAULT 'standard',
  signature TEXT NOT NULL,
  rate_limit TEXT,
  retry_schedule TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  disabled_reason TEXT,
  disabled_at INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX endpoints_project ON endpoints (project_id, id);

CREATE TABLE endpoint_secrets (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets (project_id, endpoint_id);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  test INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  callback_url TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_project ON events (project_id, id);

CREATE TABLE idempotency_keys (
  project_id TEXT NOT NULL,
  key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, key)
);

CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  endpoint_id TEXT,
  url TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  leased_by TEXT,
  last_attempt_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Claims walk this partial index in due order: O(batch), whatever the backlog.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (project_id, event_id);
CREATE INDEX deliveries_endpoint ON deliveries (project_id, endpoint_id, status);

CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT,
  event_type TEXT NOT NULL,
  number INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  request TEXT NOT NULL,
  response TEXT,
  error TEXT
);
CREATE INDEX attempts_project ON attempts (project_id, id);
CREATE INDEX attempts_endpoint ON attempts (project_id, endpoint_id, id);
CREATE INDEX attempts_event ON attempts (project_id, event_id, id);
CREATE INDEX attempts_delivery ON attempts (project_id, delivery_id, id);

CREATE TABLE operational_events (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX operational_events_project ON operational_events (project_id, id);
