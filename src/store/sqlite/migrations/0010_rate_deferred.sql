-- A pending delivery put back because its endpoint's rate limit had no token for it (the
-- dispatcher's releaseDeliveries with `rateLimited`) is marked, so that removing or raising the limit
-- makes it due at once; a delivery waiting out a retry delay is not marked and keeps its time. Every
-- release sets or clears the mark; an attempt record, and the limit change that makes it due, clear
-- it. Not indexed: claims never read it.
ALTER TABLE deliveries ADD COLUMN rate_deferred INTEGER NOT NULL DEFAULT 0;
