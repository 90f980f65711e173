-- Claims that leave saturated endpoints out probe the others one endpoint at a time, oldest due
-- first (claims.ts): with next_attempt_at in the index that probe walks it in order and stops at
-- its limit, instead of sorting every pending delivery of the endpoint (21 → 8 ms per claim of
-- 256 behind 20,000 deliveries of a hanging endpoint). Parking, recovery and listings use the same
-- leading columns as before.
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_endpoint ON deliveries (project_id, endpoint_id, status, next_attempt_at);

