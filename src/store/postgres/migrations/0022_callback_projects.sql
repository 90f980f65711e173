-- The pending callback deliveries (no endpoint) by project, for the claims' turns (claims.ts
-- CALLBACK_PROJECTS_SQL): which projects have callbacks due is found by a seek per such project
-- (the next project after the last one found), so it costs the projects with callbacks pending,
-- not every project. Asked of every project it took 46-76 ms at 100,000 projects (a scan of
-- deliveries, or of projects with a seek each), every 250 ms while callbacks are due and claims
-- give turns. It holds only the pending callbacks, so it costs nothing for endpoint deliveries.
-- CREATE INDEX reads all of deliveries and holds a write lock on it while it builds: run the
-- upgrade in a quiet moment (as 0003's).
CREATE INDEX IF NOT EXISTS deliveries_callbacks_by_project ON deliveries (project_id, next_attempt_at)
  WHERE status = 'pending' AND endpoint_id IS NULL;
