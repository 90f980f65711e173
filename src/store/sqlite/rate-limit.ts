/**
 * Store.takeRateTokens for SQLite: one process owns the database, so the GCRA step is computed in
 * TypeScript (src/domain/gcra.ts) between a read and an upsert inside the caller's transaction (a
 * savepoint of the store's group commit). The state
 * is in the database all the same, so a restart does not hand out a fresh burst.
 */
import type { DatabaseSync } from 'node:sqlite';
import { gcraParams, gcraTake } from '../../domain/gcra.ts';
import type { RateTokenGrant, RateTokenRequest } from '../store.ts';
import { get, run } from './db-helpers.ts';

export function takeRateTokensSqlite(
  db: DatabaseSync,
  requests: RateTokenRequest[],
  now: number,
): Map<string, RateTokenGrant> {
  const out = new Map<string, RateTokenGrant>();
  if (requests.length === 0) return out;
  for (const r of requests) {
    const row = get(
      db,
      'SELECT tat, interval_ms, tolerance_ms FROM endpoint_rate_limits WHERE project_id = ? AND endpoint_id = ?',
      r.projectId,
      r.endpointId,
    );
    const p = gcraParams(r);
    const step = gcraTake(
      row ? Number(row.tat) : null,
      now,
      Math.max(0, Math.floor(r.want)),
      p,
      row ? { intervalMs: Number(row.interval_ms), toleranceMs: Number(row.tolerance_ms) } : null,
    );
    run(
      db,
      `INSERT INTO endpoint_rate_limits (project_id, endpoint_id, tat, granted, interval_ms, tolerance_ms)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (project_id, endpoint_id) DO UPDATE SET tat = excluded.tat, granted = excluded.granted,
         interval_ms = excluded.interval_ms, tolerance_ms = excluded.tolerance_ms`,
      r.projectId,
      r.endpointId,
      step.tat,
      step.granted,
      p.intervalMs,
      p.toleranceMs,
    );
    out.set(r.endpointId, { granted: step.granted, nextAt: step.nextAt });
  }
  return out;
}
