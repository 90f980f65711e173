/**
 * The operational-event outbox for PostgreSQL (operational_events.forwarded_at, migration 0002) and
 * the `delivery.exhausted` records written in the group commit that fails deliveries for good.
 */
import type pg from 'pg';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { OperationalEvent } from '../../domain/types.ts';
import { exhaustedData } from '../exhausted.ts';
import type { AttemptRecord, RecordOptions } from '../store.ts';
import { type Row, toOperationalEvent } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

export async function listUnforwardedPostgres(db: Queryable, limit: number): Promise<OperationalEvent[]> {
  const { rows } = await db.query(
    'SELECT * FROM operational_events WHERE forwarded_at IS NULL ORDER BY created_at, id LIMIT $1',
    [Math.max(1, Math.floor(limit))],
  );
  return (rows as Row[]).map(toOperationalEvent);
}

export async function markForwardedPostgres(
  db: Queryable,
  refs: { projectId: string; id: string }[],
  now: number,
): Promise<void> {
  if (refs.length === 0) return;
  await db.query(
    `UPDATE operational_events o SET forwarded_at = $3
     FROM unnest($1::text[], $2::text[]) AS v(project_id, id)
     WHERE o.project_id = v.project_id AND o.id = v.id`,
    [refs.map((r) => r.projectId), refs.map((r) => r.id), now],
  );
}

/**
 * Called by the record batch, in its transaction, after the deliveries are updated: one
 * `delivery.exhausted` per record whose next state is `failed` and whose endpoint still exists (a
 * delivery closed because its endpoint was deleted is not news). Same transaction as the state
 * change, so the two cannot part. Stored at `writtenAt(now)`, the job's now as the write stores the
 * delivery's updatedAt (in the database's time, lease-clock.ts databaseDueTime): until 2026-12-08
 * at the worker's now, on its clock, 20 s on from a worker 20 s ahead, while the write's
 * endpoint.disabled and the API's operational events are in the database's time.
 */
export async function recordExhaustedPostgres(
  db: Queryable,
  records: { rec: AttemptRecord; options: RecordOptions }[],
  endpointExists: (projectId: string, endpointId: string) => boolean,
  writtenAt: (now: number) => number,
): Promise<void> {
  const cols: unknown[][] = [[], [], [], []];
  for (const { rec, options } of records) {
    const a = rec.attempt;
    if (rec.next.status !== 'failed') continue;
    if (a.endpointId && !endpointExists(a.projectId, a.endpointId)) continue;
    cols[0]!.push(a.projectId);
    const at = writtenAt(options.now);
    cols[1]!.push(newId(ID_PREFIX.operationalEvent, at));
    cols[2]!.push(JSON.stringify(exhaustedData(rec)));
    cols[3]!.push(at);
  }
  if (cols[0]!.length === 0) return;
  await db.query(
    `INSERT INTO operational_events (project_id, id, type, data, created_at)
     SELECT p, i, 'delivery.exhausted', d::json, t FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(p, i, d, t)`,
    cols,
  );
}
