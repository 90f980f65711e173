-- attempts_started (project_id, endpoint_id, started_at) served an endpoint's charts; they now
-- bound the id as well (an attempt's id is never older than its started_at) and read
-- attempts_endpoint (project_id, endpoint_id, id) from `since` on. One index write less per attempt.
DROP INDEX IF EXISTS attempts_started;
