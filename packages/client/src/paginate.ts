import type { Page } from './types.ts';

/**
 * Every item of a paginated list, page after page:
 * `for await (const ep of paginate((q) => client.listEndpoints(p, q))) …`.
 */
export async function* paginate<T>(
  list: (query: { cursor?: string | undefined; limit?: number | undefined }) => Promise<Page<T>>,
  limit?: number,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await list(limit === undefined ? (cursor ? { cursor } : {}) : { cursor, limit });
    yield* page.data;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
