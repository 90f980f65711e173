-- The pending callback deliveries (no endpoint) by project, for the claims' turns (claims.ts
-- CALLBACK_PROJECTS_SQL): which projects have callbacks due is found by a seek per such project
-- (the next project after the last one found), so it costs the projects with callbacks pending,
-- not every project. Asked of every project (a seek each in deliveries_endpoint) it took 42-74 ms
-- at 100,000 projects, every 250 ms while callbacks are due and claims give turns. It holds only the
-- pending callbacks, so it costs nothing for endpoint deliveries.
CREATE INDEX IF NOT EXISTS deliveries_callbacks_by_project ON deliveries (project_id, next_attempt_at)
  WHERE status = 'pending' AND endpoint_id IS NULL;
