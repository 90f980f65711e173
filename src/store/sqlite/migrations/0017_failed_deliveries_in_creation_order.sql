-- An endpoint's failed deliveries in creation order (POST …/endpoints/:endpoint/recover): a recover
-- walks them from a cursor in batches and, out of time, answers the creation time it got to
-- (nextSince), which means something only if it went in creation order. deliveries_endpoint holds
-- them by due time, then rowid (insertion order, not created_at's). Partial: only failed deliveries
-- have an entry, so accepting and delivering (pending, succeeded) write nothing more; a delivery
-- that fails for good, or is recovered, writes one entry. Building it reads every delivery once, at
-- upgrade.
CREATE INDEX deliveries_failed ON deliveries (project_id, endpoint_id, created_at, id) WHERE status = 'failed';
