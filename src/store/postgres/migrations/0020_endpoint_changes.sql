-- A notice on the channel herald_endpoints once a transaction that created or deleted endpoints, or
-- wrote their status, commits (NOTIFY is transactional), from every writer: the API, the
-- auto-disable, a project's delete, another process. The claims' turns keep the active endpoints
-- and read them again only after one (claims.ts activeEndpoints) while their process listens
-- (notify.ts): read every 250 ms, changed or not, they took 190 ms a claim at 100,000 endpoints.
-- Once per statement, not per row. No row is written, so no endpoint write waits for another's.
-- OR REPLACE: the function outlives the table; Herald's tables dropped to start a copy over
-- (cli.md, copy-to-postgres) leave it, and this migration runs again.
CREATE OR REPLACE FUNCTION herald_endpoints_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_endpoints', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF status ON endpoints
FOR EACH STATEMENT EXECUTE FUNCTION herald_endpoints_changed();
