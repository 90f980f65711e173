-- The notices on herald_endpoints (migration 0020) name the project whose endpoints changed, so
-- that the claims' turns read that project's active endpoints again rather than every one (63-82
-- ms at 100,000 endpoints, in every listening process, at each change; claims.ts activeEndpoints).
-- A created or deleted endpoint: once per statement, one notice per project it touched, or one
-- with no project (read them all) past 64 projects or for an id too long for a payload. A status
-- changed: once per row whose status did change, its project (PostgreSQL sends a transaction's
-- notices of one payload once). No row is written, so no endpoint write waits for another's.
-- Transition tables allow neither a trigger for two events nor a column list: three triggers.
-- A status changed costs a call per row: 10,000 endpoints disabled in one statement took 328 ms
-- against 174 ms (Herald writes one endpoint's status at a time; scratch run, medians of 5).
-- OR REPLACE: the function outlives the table (0020); IF EXISTS: so does nothing else here.
CREATE OR REPLACE FUNCTION herald_endpoints_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  projects text[];
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    projects := ARRAY[NEW.project_id];
  ELSE
    projects := ARRAY(SELECT DISTINCT project_id FROM changed LIMIT 65);
  END IF;
  IF cardinality(projects) > 64 OR EXISTS (SELECT 1 FROM unnest(projects) p WHERE octet_length(p) > 1000) THEN
    PERFORM pg_notify('herald_endpoints', '');
  ELSE
    PERFORM pg_notify('herald_endpoints', p) FROM unnest(projects) p;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS endpoints_changed ON endpoints;

CREATE TRIGGER endpoints_created AFTER INSERT ON endpoints REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION herald_endpoints_changed();

CREATE TRIGGER endpoints_deleted AFTER DELETE ON endpoints REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION herald_endpoints_changed();

CREATE TRIGGER endpoints_status_changed AFTER UPDATE OF status ON endpoints
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION herald_endpoints_changed();
