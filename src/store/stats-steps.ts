/**
 * How both stores read an endpoint's chart: in steps of whole buckets holding about `stepRows`
 * attempts, each aggregated in one statement, so no statement grows with the range, and a chart
 * whose caller left (q.signal) stops at the next step. A step's end is found on the endpoint's
 * index: its last attempt started at T, so every attempt with a later id started at
 * T - ID_TIME_SLACK_MS - 1 or later (ids.ts), and the buckets before that are whole in the step. A
 * bucket with more attempts than a step is counted on its own, step by step, per duration
 * (DurationCounts). What stays in memory is one item per bucket, never one per attempt.
 */
import { ID_PREFIX, ID_TIME_SLACK_MS, idLowerBound, idUpperBound } from '../domain/ids.ts';
import { DurationCounts } from './duration-counts.ts';
import type { StatsBucket, StatsQuery } from './store.ts';

/** The statements of one store, all over one endpoint's attempts. */
export interface StatsStepReader {
  /** The (offset + 1)-th attempt with id >= fromId (> when `after`) and id < upper, by id; null when fewer. */
  stepEnd(
    fromId: string,
    upper: string,
    offset: number,
    after: boolean,
  ): Promise<{ id: string; startedAt: number } | null>;
  /**
   * Whole buckets of attempts started in [from, until] with fromId <= id < upper and id <= lastId
   * (null: no such bound), one item per bucket that had attempts.
   */
  wholeBuckets(
    from: number,
    until: number,
    fromId: string,
    upper: string,
    lastId: string | null,
  ): Promise<StatsBucket[]>;
  /** Attempts started in [from, until] with after < id <= to, per duration. */
  durations(
    after: string,
    to: string,
    from: number,
    until: number,
  ): Promise<{ durationMs: number; n: number; succeeded: number }[]>;
  /** Called between steps (SQLite gives its thread back). */
  between(): Promise<void>;
}

/** A row of a store's whole-buckets statement (numbers as the driver returns them: numbers, or bigint and numeric as text) as a bucket. */
export function bucketOfRow(r: Record<string, unknown>, bucketMs: number): StatsBucket {
  const n = Number(r.n);
  return {
    start: Number(r.bucket) * bucketMs,
    succeeded: Number(r.succeeded),
    failed: n - Number(r.succeeded),
    avgDurationMs: Number(r.total) / n,
    p95DurationMs: Number(r.p95),
  };
}

/** A row of a store's per-duration statement: duration_ms, n, succeeded. */
export const durationsOfRow = (r: Record<string, unknown>) => ({
  durationMs: Number(r.duration_ms),
  n: Number(r.n),
  succeeded: Number(r.succeeded),
});

export async function readStatsInSteps(
  reader: StatsStepReader,
  q: StatsQuery,
  stepRows: number,
): Promise<StatsBucket[]> {
  const bucketMs = q.bucketMs;
  const out: StatsBucket[] = [];
  const upper = idUpperBound(ID_PREFIX.attempt, q.until);
  let from = q.since;
  while (from <= q.until && !q.signal?.aborted) {
    const fromId = idLowerBound(ID_PREFIX.attempt, from);
    const end = await reader.stepEnd(fromId, upper, stepRows - 1, false);
    const to = end
      ? Math.min(Math.floor((end.startedAt - ID_TIME_SLACK_MS - 1) / bucketMs) * bucketMs, q.until + 1)
      : q.until + 1;
    if (to > from) {
      out.push(
        ...(await reader.wholeBuckets(
          from,
          to - 1,
          fromId,
          idUpperBound(ID_PREFIX.attempt, to - 1),
          end?.id ?? null,
        )),
      );
      from = to;
    } else {
      const bucketEnd = Math.min(Math.floor(from / bucketMs) * bucketMs + bucketMs, q.until + 1);
      const bucket = await bucketStats(reader, from, bucketEnd - 1, stepRows, q.signal);
      if (bucket) out.push({ ...bucket, start: Math.floor(from / bucketMs) * bucketMs });
      from = bucketEnd;
    }
    if (from <= q.until) await reader.between();
  }
  return out.sort((x, y) => x.start - y.start);
}

/** One bucket's attempts started in [from, until], read `stepRows` at a time by id. Null when it had none. */
async function bucketStats(
  reader: StatsStepReader,
  from: number,
  until: number,
  stepRows: number,
  signal?: AbortSignal,
): Promise<Omit<StatsBucket, 'start'> | null> {
  const upper = idUpperBound(ID_PREFIX.attempt, until);
  const counts = new DurationCounts();
  // Below every id made at `from` or later.
  let after = idLowerBound(ID_PREFIX.attempt, from);
  for (;;) {
    const end = await reader.stepEnd(after, upper, stepRows - 1, true);
    const to = end ? end.id : upper;
    for (const r of await reader.durations(after, to, from, until))
      counts.add(r.durationMs, r.n, r.succeeded);
    if (!end || signal?.aborted) break;
    after = to;
    await reader.between();
  }
  return counts.stats();
}
