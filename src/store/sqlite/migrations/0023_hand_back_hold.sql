-- A delivery handed back unsent (its endpoint failing, its project at its cap, a stop) keeps its
-- place in the due order: next_attempt_at goes back to when it became due (due_since), and
-- held_until keeps every claim off it until the hand-back's time (due-deliveries.ts
-- releaseDeliveriesSqlite). Until 2026-12-06 the hand-back moved next_attempt_at to that time, so
-- the delivery went behind everything that had become due meanwhile and, under a steady backlog,
-- was claimed and handed back again and again while its wait grew without bound. NULL but for a
-- hand-back; a claim steps over a held row. deliveries_due holds it too, so the oldest due are
-- still picked from the index alone.
ALTER TABLE deliveries ADD COLUMN held_until INTEGER;
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, held_until) WHERE status = 'pending';
