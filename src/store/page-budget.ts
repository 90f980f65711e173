/**
 * A byte budget for one page of a listing whose items carry payloads or bodies: events, attempts,
 * endpoints (custom headers: 50 of 4 KiB, ~200 KB an endpoint) and event types (a schema and an
 * example of up to the body limit each). `?limit` goes up to 1,000 and one event's payload up to
 * the request body limit (1 MiB by default), so without it one page could be a gigabyte of JSON,
 * built in memory on the thread that serves the API (200 events of 1 MB: a 191 MiB response,
 * 4.5 s, 1.17 GiB resident).
 *
 * A page stops before the first item that would start past the budget, so it always holds at
 * least one item and overshoots by at most one; its `nextCursor` continues from there. A page may
 * therefore hold fewer than `limit` items while more follow, which every client that follows
 * `nextCursor` already handles.
 *
 * What is counted is what the stores can size without reading it (SQLite `octet_length`,
 * PostgreSQL's stored length): an event's payload; an endpoint's texts, headers and settings; an
 * event type's schema and example; an attempt's request, response and error, plus the payload of
 * its event, which a request stored by reference is rebuilt from (attempt-bodies.ts).
 * An attempt whose body was stored as sent is counted twice over; the budget errs towards
 * smaller pages.
 */
export const PAGE_BUDGET_BYTES = 4 * 1024 * 1024;

/**
 * The budget both stores cut pages at, read at each listing: PAGE_BUDGET_BYTES. An object, so a test
 * can make it small (page-budget-suite.ts: items of a few tens of KiB show what items of 2 MiB did).
 */
export const pageBudget = { bytes: PAGE_BUDGET_BYTES };

/**
 * How many attempts a page looks at when it is filtered by what no index serves: an event type, or
 * the succeeded outcome (indexes for them would cost every attempt writes on the delivery path:
 * −2.6 % closed loop for event types). Such a page reads the attempts that match the other
 * filters, newest first, and keeps those that match: without a bound a rare type (or an endpoint
 * that has failed for long, filtered to successes) read the whole history, 230 ms per 1,000,000
 * attempts on SQLite, holding the thread that accepts events. After this many the page ends, with
 * fewer items or none, and its `nextCursor` goes on from the last attempt looked at.
 */
export const SCAN_ROWS = 10_000;

/**
 * Rows in order, at most `max`, stopping before the first row whose predecessors already hold
 * `budget` bytes. `cut` says the budget stopped it (more rows follow). Stops pulling from `rows`
 * as soon as it is done, so a lazy iterator (SQLite `iterate()`) reads no row it does not keep.
 */
export function takeWithinBudget<T>(
  rows: Iterable<T>,
  max: number,
  bytesOf: (row: T) => number,
  budget = pageBudget.bytes,
): { rows: T[]; cut: boolean } {
  const taken: T[] = [];
  if (max <= 0) return { rows: taken, cut: false };
  let bytes = 0;
  for (const row of rows) {
    if (taken.length > 0 && bytes >= budget) return { rows: taken, cut: true };
    taken.push(row);
    bytes += bytesOf(row);
    if (taken.length >= max) break;
  }
  return { rows: taken, cut: false };
}
