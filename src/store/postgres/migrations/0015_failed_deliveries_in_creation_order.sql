-- An endpoint's failed deliveries in creation order (POST …/endpoints/:endpoint/recover): a recover
-- walks them from a cursor in batches and, out of time, answers the creation time it got to
-- (nextSince), which means something only if it went in creation order. deliveries_endpoint holds
-- them by due time, then in heap order: a recover read and sorted them all. Partial: only failed
-- deliveries have an entry, so accepting and delivering (pending, succeeded) write nothing more; a
-- delivery that fails for good, or is recovered, writes one entry. Building it reads every delivery
-- once and blocks writes to deliveries meanwhile (CREATE INDEX CONCURRENTLY cannot run inside the
-- migration's transaction): on a large table, upgrade in a quiet moment (docs/deployment.md).
CREATE INDEX deliveries_failed ON deliveries (project_id, endpoint_id, created_at, id) WHERE status = 'failed';
