-- What the dispatcher reads before sending (an endpoint's settings and valid secrets) changes only
-- when this counter does. The dispatcher keeps those reads in memory and checks only the counter of
-- the claimed deliveries' projects (dispatch-endpoints.ts), instead of reading and decrypting every
-- endpoint and secret per claim. Triggers keep it, so every writer bumps it: the API, the
-- dispatcher's auto-disable and failure counts, key rotation, another process.
ALTER TABLE projects ADD COLUMN dispatch_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER endpoints_dispatch_update AFTER UPDATE ON endpoints
BEGIN
  UPDATE projects SET dispatch_version = dispatch_version + 1 WHERE id IN (OLD.project_id, NEW.project_id);
END;

CREATE TRIGGER endpoints_dispatch_delete AFTER DELETE ON endpoints
BEGIN
  UPDATE projects SET dispatch_version = dispatch_version + 1 WHERE id = OLD.project_id;
END;

CREATE TRIGGER endpoint_secrets_dispatch_insert AFTER INSERT ON endpoint_secrets
BEGIN
  UPDATE projects SET dispatch_version = dispatch_version + 1 WHERE id = NEW.project_id;
END;

CREATE TRIGGER endpoint_secrets_dispatch_update AFTER UPDATE ON endpoint_secrets
BEGIN
  UPDATE projects SET dispatch_version = dispatch_version + 1 WHERE id IN (OLD.project_id, NEW.project_id);
END;

CREATE TRIGGER endpoint_secrets_dispatch_delete AFTER DELETE ON endpoint_secrets
BEGIN
  UPDATE projects SET dispatch_version = dispatch_version + 1 WHERE id = OLD.project_id;
END;
