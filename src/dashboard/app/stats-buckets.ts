/** Shaping of …/stats answers for the charts (pure, tested in node). */
import type { StatsBucket } from './api/types.ts';

/**
 * Every bucket of [since, until) in order, taking the server's where it has one: the server leaves
 * out buckets without attempts, and a chart needs the gaps to show time truthfully. `until` is
 * inclusive on the server (docs/api.md): attempts that started exactly at an `until` that is a
 * bucket's start come in a bucket of their own, which is kept (and only then: no empty bar after
 * the range).
 */
export function fillBuckets(
  buckets: StatsBucket[],
  since: number,
  until: number,
  bucketMs: number,
): StatsBucket[] {
  const byStart = new Map(buckets.map((bucket) => [new Date(bucket.start).getTime(), bucket]));
  const filled: StatsBucket[] = [];
  for (let start = Math.floor(since / bucketMs) * bucketMs; start < until; start += bucketMs) {
    filled.push(
      byStart.get(start) ?? {
        start: new Date(start).toISOString(),
        succeeded: 0,
        failed: 0,
        avgDurationMs: null,
        p95DurationMs: null,
      },
    );
  }
  const atUntil = until % bucketMs === 0 ? byStart.get(until) : undefined;
  if (atUntil) filled.push(atUntil);
  return filled;
}

/** A "nice" upper bound for an axis (1, 2, 5 × 10^n). */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * The values an axis from 0 to `max` (a niceMax) labels: 0, the middle and `max`, without a middle
 * that is no whole number (a count of 1 or 5 has none), so that no two labels read the same when
 * rounded to whole attempts or milliseconds.
 */
export function axisTicks(max: number): number[] {
  return [...new Set([0, max / 2, max])].filter((value) => Number.isInteger(value));
}
