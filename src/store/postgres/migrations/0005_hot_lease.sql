-- A claim's lease used to move next_attempt_at (to now + lease) and set leased_by: both indexed, so
-- every leased row got a new entry in every index of deliveries (not a HOT update), 65-78 µs per
-- claimed row in a closed loop. The lease is now lease_until and leased_by, neither indexed: a
-- claim leaves the indexes alone and PostgreSQL can update the row in place (HOT) when its page
-- has room, which the lower fillfactor leaves on pages written from now on. Claims skip rows whose
-- lease has not run out (sqlite keeps moving the due time: no HOT there to gain).
ALTER TABLE deliveries ADD COLUMN lease_until BIGINT;
-- Leases taken before the upgrade keep their expiry, which was the moved due time.
UPDATE deliveries SET lease_until = next_attempt_at WHERE leased_by IS NOT NULL;
DROP INDEX deliveries_leased;
ALTER TABLE deliveries SET (fillfactor = 50);
