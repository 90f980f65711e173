-- The end of the delivery's last lease, kept once the lease is over (handed back, recorded, run
-- out), as PostgreSQL's lease_until is (its migration 0005): a hand-back names its claim by that
-- end (ReleaseItem.leasedUntil) and changes the row only while it is still the last one
-- (due-deliveries.ts releaseDeliveriesSqlite). A lease moves next_attempt_at to its end, and a
-- hand-back moves it back, so once another worker had claimed the delivery (the first one paused
-- past its lease) and handed it back put off by its rate limit or held while its endpoint was
-- paused, the first worker's late hand-back of its older claim found the row leased to nobody with
-- its attempts unchanged, and made it due at its own, earlier time. Not indexed: a lease writes it
-- in the row it already rewrites. NULL for a delivery never leased since.
ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;
-- Leases taken before the upgrade: their end is the moved due time.
UPDATE deliveries SET lease_until = next_attempt_at WHERE leased_by IS NOT NULL;
