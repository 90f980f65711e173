/** Lists the dashboard reads page by page up to a cap: what such a read holds, and the read. */
import type { Page } from './types.ts';

/**
 * A list read page by page up to a cap: `nextCursor` is null when it holds the whole list, else
 * where the rest starts (the screen says it stopped, and may go on from there).
 */
export interface Capped<T> {
  data: T[];
  nextCursor: string | null;
}

/** Follows `nextCursor` from `cursor` until the list ends or `cap` items are read. */
export async function readCapped<T>(
  page: (cursor: string | null) => Promise<Page<T>>,
  cap: number,
  cursor: string | null = null,
): Promise<Capped<T>> {
  const data: T[] = [];
  let next = cursor;
  do {
    const answer = await page(next);
    data.push(...answer.data);
    next = answer.nextCursor ?? null;
  } while (next !== null && data.length < cap);
  return { data, nextCursor: next };
}
