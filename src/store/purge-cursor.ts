/** The cursor of Store.purgeBefore: the (created_at, id) of the last event a batch looked at. */

export function encodePurgeCursor(createdAt: number, id: string): string {
  return `${createdAt}/${id}`;
}

/** The position to continue after; the very beginning for null or anything malformed. */
export function decodePurgeCursor(after: string | null | undefined): { createdAt: number; id: string } {
  const slash = after ? after.indexOf('/') : -1;
  const createdAt = slash > 0 ? Number(after!.slice(0, slash)) : Number.NaN;
  if (!Number.isSafeInteger(createdAt)) return { createdAt: Number.MIN_SAFE_INTEGER, id: '' };
  return { createdAt, id: after!.slice(slash + 1) };
}
