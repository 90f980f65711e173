-- A project's fan-out list (its endpoints' id, url, status, dev and event filter) changes only when
-- this counter does. Accepts keep the list in memory and read only the counter, inside the same
-- write transaction, instead of every endpoint row (10,000 rows were ~20-35 ms per accept). Triggers
-- keep it, so every writer (the API, the dispatcher's auto-disable, another process) bumps it.
ALTER TABLE projects ADD COLUMN fan_out_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER endpoints_fan_out_insert AFTER INSERT ON endpoints
BEGIN
  UPDATE projects SET fan_out_version = fan_out_version + 1 WHERE id = NEW.project_id;
END;

CREATE TRIGGER endpoints_fan_out_update AFTER UPDATE OF project_id, url, status, dev, event_types ON endpoints
BEGIN
  UPDATE projects SET fan_out_version = fan_out_version + 1 WHERE id IN (OLD.project_id, NEW.project_id);
END;

CREATE TRIGGER endpoints_fan_out_delete AFTER DELETE ON endpoints
BEGIN
  UPDATE projects SET fan_out_version = fan_out_version + 1 WHERE id = OLD.project_id;
END;
