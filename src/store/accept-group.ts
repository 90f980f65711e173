/**
 * How many accepts one group transaction takes, and how long an accept may wait for one, in both
 * stores' group commits (postgres/accept-batch.ts and group-commit.ts; sqlite/group-commit.ts).
 */

/**
 * New deliveries one group transaction writes at most, past its first accept (which is taken
 * whatever its size, up to its own HERALD_MAX_DELIVERIES_PER_REQUEST); the accepts past it wait
 * for the next transaction (DEFERRED). Everything a group creates is in memory at once until it
 * commits: its deliveries (~300 bytes each, kept until each request is answered) and the
 * statements' arrays of them. Sixteen concurrent batches of 1,000 events to 60 endpoints queued
 * while one was written made one group of 900,000 deliveries, and a server under
 * --max-old-space-size=160 ran out of heap in it. The default HERALD_MAX_DELIVERIES_PER_REQUEST:
 * ~30 MB, and still hundreds of ordinary requests per commit. On SQLite a group is also written
 * synchronously on the API's thread: 12 clients sending such batches to 100 endpoints made one of
 * 800,000 that held it 20 s (sqlite/group-commit.ts).
 */
export const GROUP_DELIVERIES = 100_000;

/**
 * How long an accept may wait in the group-commit queue for a transaction to take it; past it, it
 * leaves the queue and its request is answered 503 HERALD_ERR_BUSY (nothing of it was stored). An
 * accepted request waits first for the transaction before its own (which, once begun, is bounded
 * by the pool's connect, lock and query timeouts: pool.ts; on SQLite by its one group's size and
 * the 5 s busy_timeout), and the API closes a connection with no
 * traffic for 60 s (docs/api.md Limits): 32 clients sending batches of 1,000 events to 60
 * endpoints each queued more than 60 s of transactions, and their clients saw their connections
 * closed unanswered while their events were stored afterwards. As the body budget's wait
 * (src/api/body-budget.ts): a client told to retry after a second costs no throughput, the store
 * writing all the while.
 */
export const ACCEPT_WAIT_MS = 10_000;
