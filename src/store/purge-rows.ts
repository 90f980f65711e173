/**
 * The first events of a purge batch whose rows (deliveries and attempts) fit in `bound` together,
 * the first one whatever its rows: an event past the bound waits for the next batch, which it
 * starts, alone if it is past it alone. `cut` says the bound stopped it (more events follow). Stops
 * pulling from `events` at that event, so a lazy iterator (SQLite `iterate()`) counts no further.
 * Both stores bound a purge transaction so (sqlite/retention.ts, postgres/retention.ts): an event
 * fanned out to 1,000 endpoints with 5 attempts each is 6,000 rows, and bounded by events alone a
 * transaction held millions of them.
 */
export function takeWithinRows<T>(
  events: Iterable<T>,
  bound: number,
  rowsOf: (event: T) => number,
): { rows: T[]; cut: boolean } {
  const taken: T[] = [];
  let rows = 0;
  for (const e of events) {
    rows += rowsOf(e);
    if (taken.length > 0 && rows > bound) return { rows: taken, cut: true };
    taken.push(e);
  }
  return { rows: taken, cut: false };
}
