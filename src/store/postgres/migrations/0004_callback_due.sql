-- Deliveries to an event's callback URL have no endpoint, so the per-endpoint probes of a claim that
-- leaves saturated endpoints out never see them; behind a hanging endpoint's backlog (older than
-- every other due row) they would wait for as long as it hangs. This index holds only them, due
-- order first, for a probe of their own; it costs nothing for endpoint deliveries.
CREATE INDEX deliveries_callbacks_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND endpoint_id IS NULL;
