/**
 * Bounds of a claim that leaves saturated endpoints out, the same in every store: how much of the
 * due order it reads, how many endpoints it probes one by one, and how long it skips a window that
 * held only left-out work.
 */

/** Oldest due rows a claim that leaves endpoints out looks at before probing endpoint by endpoint. */
export const CLAIM_WINDOW = 2_048;

/** Endpoints one such probe visits at most. */
export const CLAIM_PROBES = 256;

/**
 * How long a claim that leaves endpoints out goes straight to the per-endpoint probes after finding
 * the window of oldest due rows fuller than it could use (say, a hanging endpoint's backlog at the
 * head of the due order), instead of reading those 2,048 rows again on every claim. The SQLite
 * store also keeps its list of active endpoints this long.
 */
export const WINDOW_SKIP_MS = 250;

/**
 * The longest the claims' turns keep the active endpoints without reading them again, whatever
 * says they are unchanged (SQLite: a count kept by triggers; PostgreSQL: notices on a listening
 * connection). A listening connection can die without a word (no notice, nor an error, until TCP
 * keep-alive gives up: ~11 minutes on Linux's defaults), and a later migration that rebuilt the
 * endpoints table would drop the triggers: the turns would have planned over a stale list as long.
 * Read every 30 s: 190 ms at 100,000 endpoints on PostgreSQL, 50 ms on SQLite.
 */
export const ACTIVE_ENDPOINTS_MAX_AGE_MS = 30_000;

/**
 * Claims of at least this many rows keep a quarter of themselves for endpoints in turn (FAIR_SHARE);
 * smaller ones (a process with few slots free, claims sized by large payloads) give one row in turn
 * for every FAIR_SHARE rows they claim (fairPart, claim-turns.ts). It was 64, and claims of fewer
 * than 64 rows are those of a HERALD_CLAIM_BATCH set below 64, or of a process with few slots free
 * (HERALD_DELIVERY_CONCURRENCY of 100: claims of 13 and up): with a claim batch of 32, another
 * tenant's event waited for a backlog of 200,000 deliveries to 10 endpoints to drain (scratch run,
 * SQLite: p50 19.5 s, p99 29.4 s). Claims below it took strictly the oldest due until 2026-12-06.
 */
export const FAIR_CLAIM_MIN = 8;

/**
 * The part of such a claim, when more is due than it takes, that goes to endpoints visited in turn
 * (the per-endpoint probes, resuming where the last stopped) instead of the oldest due: a quarter.
 * Without it, claims took strictly the oldest due across the installation, and one tenant's burst
 * (2.4 million deliveries queued in a minute, in a tester's run) held every other tenant's new
 * deliveries and retries back until it drained: 11 minutes, p50 up to 499 s, and retries so late
 * that endpoints failing now and then were disabled. Whatever the endpoints in turn do not use goes
 * back to the oldest due, so one endpoint's backlog is claimed as fast as before.
 */
export const FAIR_SHARE = 4;
