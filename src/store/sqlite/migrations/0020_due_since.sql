-- When a pending delivery became due for the attempt it waits for: set with next_attempt_at when
-- it is created, scheduled for a retry, put off by its endpoint's rate limit, resumed, recovered,
-- replayed or retried by hand, and left alone when a claim leases it (which moves next_attempt_at
-- to the lease's end), when a lease runs out, and when a claim is handed back unsent (a stop, a
-- proxy or file-descriptor failure). herald_oldest_pending_age_seconds is measured from it: from
-- next_attempt_at, a delivery claimed again and again without being sent (a dispatcher that stops
-- before sending, a restart loop, a proxy down) never looked late. Claims do not write it, so its
-- index costs them nothing; an insert writes one more index entry.
ALTER TABLE deliveries ADD COLUMN due_since INTEGER;
UPDATE deliveries SET due_since = next_attempt_at WHERE status = 'pending';
CREATE INDEX deliveries_due_since ON deliveries (due_since) WHERE status = 'pending';
