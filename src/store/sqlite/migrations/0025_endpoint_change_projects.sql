-- Which project each of the active endpoints' last 256 changes was in (the count endpoint_changes
-- keeps, migration 0022), so that the claims' turns read again the active endpoints of the
-- projects that changed rather than every one (83 ms at 100,000, in every process on the file,
-- at each change; claims.ts activeEndpoints). A claim further behind than 256 changes reads them
-- all. Kept by the same triggers, so every writer keeps it: a row per change, the oldest dropped.
CREATE TABLE endpoint_change_projects (
  change INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL
);

DROP TRIGGER endpoints_changes_insert;
DROP TRIGGER endpoints_changes_delete;
DROP TRIGGER endpoints_changes_status;

CREATE TRIGGER endpoints_changes_insert AFTER INSERT ON endpoints
BEGIN
  UPDATE endpoint_changes SET changes = changes + 1 WHERE id = 1;
  INSERT INTO endpoint_change_projects (change, project_id) SELECT changes, NEW.project_id FROM endpoint_changes WHERE id = 1;
  DELETE FROM endpoint_change_projects WHERE change <= (SELECT changes FROM endpoint_changes WHERE id = 1) - 256;
END;

CREATE TRIGGER endpoints_changes_delete AFTER DELETE ON endpoints
BEGIN
  UPDATE endpoint_changes SET changes = changes + 1 WHERE id = 1;
  INSERT INTO endpoint_change_projects (change, project_id) SELECT changes, OLD.project_id FROM endpoint_changes WHERE id = 1;
  DELETE FROM endpoint_change_projects WHERE change <= (SELECT changes FROM endpoint_changes WHERE id = 1) - 256;
END;

CREATE TRIGGER endpoints_changes_status AFTER UPDATE OF status ON endpoints
WHEN OLD.status IS NOT NEW.status
BEGIN
  UPDATE endpoint_changes SET changes = changes + 1 WHERE id = 1;
  INSERT INTO endpoint_change_projects (change, project_id) SELECT changes, NEW.project_id FROM endpoint_changes WHERE id = 1;
  DELETE FROM endpoint_change_projects WHERE change <= (SELECT changes FROM endpoint_changes WHERE id = 1) - 256;
END;
