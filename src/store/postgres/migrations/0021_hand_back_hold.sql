-- A delivery handed back unsent (its endpoint failing, its project at its cap, a stop) keeps its
-- place in the due order: next_attempt_at, which a claim leaves alone (migration 0005), stays, and
-- held_until keeps every claim off it until the hand-back's time (due-deliveries.ts
-- releaseDeliveriesPostgres). Until 2026-12-06 the hand-back moved next_attempt_at to that time, so
-- the delivery went behind everything that had become due meanwhile and, under a steady backlog,
-- was claimed and handed back again and again while its wait grew without bound. NULL but for a
-- hand-back; not indexed (a claim checks it with the lease, on the row), so a hand-back that keeps
-- next_attempt_at can be a HOT update. A process of an older version ignores it: it may claim a
-- held delivery early, as it would have claimed it at its moved time.
ALTER TABLE deliveries ADD COLUMN held_until BIGINT;
