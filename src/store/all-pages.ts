/** Every item of a paginated store list, page after page (`page(cursor)` reads one). */
export async function* allPages<T>(
  page: (cursor: string | null) => Promise<{ data: T[]; nextCursor: string | null }>,
): AsyncGenerator<T> {
  let cursor: string | null = null;
  do {
    const current = await page(cursor);
    yield* current.data;
    cursor = current.nextCursor;
  } while (cursor !== null);
}
