-- An endpoint's history filtered to failed attempts (the dashboard's History tab, `?status=failed`)
-- otherwise walks attempts_endpoint past every successful attempt. This partial index holds only
-- failed attempts; a successful attempt, the common case on the hot path, does not touch it.
CREATE INDEX attempts_endpoint_failed ON attempts (project_id, endpoint_id, id) WHERE outcome = 'failed';
