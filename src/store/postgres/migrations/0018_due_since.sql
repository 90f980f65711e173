-- When a pending delivery became due for the attempt it waits for: set with next_attempt_at when
-- it is created, scheduled for a retry, put off by its endpoint's rate limit, resumed, recovered,
-- replayed or retried by hand, and left alone when a claim leases it, when a lease runs out, and
-- when a claim is handed back unsent (a stop, a proxy or file-descriptor failure), which move
-- next_attempt_at. herald_oldest_pending_age_seconds is measured from it: from next_attempt_at, a
-- delivery handed back again and again without being sent (a restart loop, a proxy down) never
-- looked late. Claims do not write it, so they stay HOT updates; an insert writes one more index
-- entry. Rows written before this migration, or by a process of an older version meanwhile, have
-- none (NULL): the backlog read also looks at next_attempt_at, as before. They are not filled in
-- here: ADD COLUMN holds the table against reads and writes until this commits, and writing every
-- pending row took 2.3-2.7 s of that at 1,000,000 pending (0.26 s without), for a value the read
-- does without.
ALTER TABLE deliveries ADD COLUMN due_since BIGINT;
CREATE INDEX deliveries_due_since ON deliveries (due_since) WHERE status = 'pending';
