-- The active endpoints by project, for the claims' turns (claims.ts activeEndpoints): read every
-- 250 ms while claims give turns, covering (project_id and id are in the index, status is its
-- condition), so no row of endpoints is read. The read walked the primary key's index in id order
-- and read each endpoint's row for its status and project: 100-300 ms at 100,000 endpoints, on the
-- dispatcher's thread. Endpoints are written rarely; the index costs their writes little.
CREATE INDEX endpoints_active ON endpoints (project_id, id) WHERE status = 'active';
