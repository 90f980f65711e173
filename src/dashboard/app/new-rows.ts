/**
 * The rows of a page that a list does not show yet. Lists in id order never repeat a row across
 * pages, but an endpoint's waiting deliveries are in due order, which a retry moves a delivery
 * along: the next page may hold one already shown (docs/api.md says a walk may see one twice), and
 * "Show more" put it in the table a second time, under the same Preact key.
 */
export function newRows<T>(shown: readonly T[], page: readonly T[], keyOf: (row: T) => string): T[] {
  const seen = new Set(shown.map(keyOf));
  return page.filter((row) => {
    const key = keyOf(row);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
