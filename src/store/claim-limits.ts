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
