/**
 * Store.takeRateTokens for PostgreSQL: per endpoint, one INSERT … ON CONFLICT DO UPDATE … RETURNING
 * computes the GCRA step (src/domain/gcra.ts) from the row's current TAT under its row lock, so
 * any number of workers share one limit without a read-modify-write race. The SET expressions all
 * read the old TAT; `granted` keeps what this step took, so RETURNING can report it.
 */
import type pg from 'pg';
import { GCRA_EPSILON, gcraParams } from '../../domain/gcra.ts';
import { leaseJudgedAt } from '../lease-clock.ts';
import type { RateTokenGrant, RateTokenRequest } from '../store.ts';

type Queryable = Pick<pg.Pool, 'query'>;

// $1 project, $2 endpoint, $3 now, $4 interval ms, $5 tolerance ms, $6 tokens wanted.
const grant = (base: string) =>
  `greatest(0, least($6::float8, floor(($5::float8 - (${base} - $3::float8)) / $4::float8 + 1 + ${GCRA_EPSILON})))`;
/**
 * Where the row's TAT stands. Only when the limit changed is a TAT further ahead than one full
 * bucket (left by a stricter limit) clamped: under an unchanged limit a clamp would hand out extra
 * tokens to a worker whose `now` lags a little behind the others'.
 */
const BASE = `greatest($3::float8, CASE WHEN s.interval_ms = $4::float8 AND s.tolerance_ms = $5::float8 THEN s.tat
  ELSE least(s.tat, $3::float8 + $5::float8 + $4::float8) END)`;
const TAKE_SQL = `
  INSERT INTO endpoint_rate_limits AS s (project_id, endpoint_id, tat, granted, interval_ms, tolerance_ms)
  VALUES ($1, $2, $3::float8 + ${grant('$3::float8')} * $4::float8, ${grant('$3::float8')}::int, $4, $5)
  ON CONFLICT (project_id, endpoint_id) DO UPDATE SET
    tat = ${BASE} + ${grant(BASE)} * $4::float8,
    granted = ${grant(BASE)}::int,
    interval_ms = $4,
    tolerance_ms = $5
  RETURNING tat, granted`;

export async function takeRateTokensPostgres(
  db: Queryable,
  requests: RateTokenRequest[],
  clock: number | (() => number),
  offsetMs = 0,
): Promise<Map<string, RateTokenGrant>> {
  const out = new Map<string, RateTokenGrant>();
  // Statements run at once on the pool's connections, without a write lock to wait for: the clock
  // is read here, and moved into the database's time (leaseJudgedAt).
  const now = leaseJudgedAt(typeof clock === 'function' ? clock() : clock, offsetMs);
  // One statement each (a few rate-limited endpoints per claimed batch): every one is atomic on its
  // own row, and no statement holds two rows' locks, so workers cannot deadlock on each other.
  const results = await Promise.all(
    requests.map(async (r) => {
      const p = gcraParams(r);
      const { rows } = await db.query<{ tat: number | string; granted: number | string }>(TAKE_SQL, [
        r.projectId,
        r.endpointId,
        now,
        p.intervalMs,
        p.toleranceMs,
        Math.max(0, Math.floor(r.want)),
      ]);
      const row = rows[0]!;
      // Back in this process's time: the caller waits for it on its own clock.
      return { r, granted: Number(row.granted), nextAt: Number(row.tat) - p.toleranceMs + offsetMs };
    }),
  );
  for (const { r, granted, nextAt } of results) out.set(r.endpointId, { granted, nextAt });
  return out;
}
