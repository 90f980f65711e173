-- When a pending delivery became due for the attempt it waits for: set with next_attempt_at when
-- it is created, scheduled for a retry, put off by its endpoint's rate limit, resumed, recovered,
-- replayed or retried by hand, and left alone when a claim leases it, when a lease runs out, and
-- when a claim is handed back unsent (a stop, a proxy or file-descriptor failure), which move
-- next_attempt_at. herald_oldest_pending_age_seconds is measured from it: from next_attempt_at, a
-- delivery handed back again and again without being sent (a restart loop, a proxy down) never
-- looked late. Claims do not write it, so they stay HOT updates; an insert writes one more index
-- entry. Rows written by a process of an older version meanwhile have none (NULL): the backlog read
-- also looks at next_attempt_at, as before.
ALTER TABLE deliveries ADD COLUMN due_since BIGINT;
UPDATE deliveries SET due_since = next_attempt_at WHERE status = 'pending';
CREATE INDEX deliveries_due_since ON deliveries (due_since) WHERE status = 'pending';
