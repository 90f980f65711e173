-- How many times the active endpoints have changed (an endpoint created or deleted, or its status
-- changed), for the claims' turns (claims.ts activeEndpoints): they keep the active endpoints and
-- read them again only when this count has moved since, one row looked at every 250 ms instead of
-- every active endpoint (50-120 ms at 100,000). Triggers keep it, so every writer bumps it: the
-- API, the dispatcher's auto-disable, a project's delete, another process. One row, not one per
-- project: the global catalog's kind of table (event_types), written as rarely as endpoints are.
CREATE TABLE endpoint_changes (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  changes INTEGER NOT NULL
);
INSERT INTO endpoint_changes (id, changes) VALUES (1, 0);

CREATE TRIGGER endpoints_changes_insert AFTER INSERT ON endpoints
BEGIN
  UPDATE endpoint_changes SET changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER endpoints_changes_delete AFTER DELETE ON endpoints
BEGIN
  UPDATE endpoint_changes SET changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER endpoints_changes_status AFTER UPDATE OF status ON endpoints
WHEN OLD.status IS NOT NEW.status
BEGIN
  UPDATE endpoint_changes SET changes = changes + 1 WHERE id = 1;
END;
