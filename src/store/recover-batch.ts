/**
 * Store.recoverDeliveries works in batches of at most `rows` deliveries, each its own short write
 * transaction, other writers and the event loop getting their turn between two: one statement over
 * 49,584 failed deliveries held SQLite's write lock for 3.3 s, stalling every accept meanwhile.
 * An object, so a test can make batches small.
 */
export const recoverBatch = { rows: 1_000 };
