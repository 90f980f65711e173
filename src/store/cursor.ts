/**
 * Opaque list cursors shared by every store: base64url of the last key returned (an id, which
 * sorts by creation time, or an event-type name). Callers must treat them as opaque strings.
 */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

/** The key a cursor stands for, or null for a missing or malformed cursor (the API answers 400: parse.ts pageOf). */
export function decodeCursor(cursor: string | null | undefined): string | null {
  if (!cursor || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  // A cursor we did not make does not survive the round trip; no key of ours holds a NUL (which
  // PostgreSQL text refuses).
  return key !== '' && !key.includes('\0') && encodeCursor(key) === cursor ? key : null;
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only says there is more. `cutShort`:
 * the rows stop early although more follow (a page's byte budget, page-budget.ts), so the page is
 * all of them and continues after the last. `scannedTo`: the rows were looked for only down to
 * this key (SCAN_ROWS): a page that neither filled up nor was cut continues after it,
 * even with no rows at all.
 */
export function toPage<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => string,
  cutShort = false,
  scannedTo: string | null = null,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  const more = rows.length > limit || (cutShort && rows.length > 0);
  if (more && last) return { data, nextCursor: encodeCursor(keyOf(last)) };
  return { data, nextCursor: scannedTo === null ? null : encodeCursor(scannedTo) };
}
