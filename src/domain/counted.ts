/**
 * A count and its noun, singular when the count is 1: `1 event`, `2 events`, `1 pending delivery`,
 * `1 consecutive failed attempt`. `plural` is the noun as it reads for any other count; only its
 * last word changes, by dropping its final s (events, attempts, rows) or turning its final ies into
 * y (deliveries, entries). Pure.
 */
export function counted(n: number, plural: string): string {
  return `${n} ${n === 1 ? plural.replace(/ies$/, 'y').replace(/s$/, '') : plural}`;
}
