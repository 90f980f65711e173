/**
 * A project's pending deliveries, counted for intake backpressure (src/api/backlog-gate.ts): one
 * statement, endpoint by endpoint on `deliveries_endpoint` (project, endpoint, 'pending' is one
 * range of it; the project alone would walk its whole history), then its callbacks, each range
 * walked at most `atMost` entries. A deleted endpoint's deliveries are never pending
 * (endpoint-writes.ts), so the endpoints table names every range there is to count.
 */
import type pg from 'pg';
import { num, type Row } from './rows.ts';

export const COUNT_PENDING_SQL = `SELECT
    (SELECT count(*) FROM (SELECT 1 FROM deliveries
       WHERE project_id = $1 AND endpoint_id IS NULL AND status = 'pending' LIMIT $2) c)
  + (SELECT coalesce(sum(n), 0) FROM endpoints e CROSS JOIN LATERAL
       (SELECT count(*) AS n FROM (SELECT 1 FROM deliveries d
          WHERE d.project_id = e.project_id AND d.endpoint_id = e.id AND d.status = 'pending' LIMIT $2) x) y
     WHERE e.project_id = $1) AS pending`;

export async function countPendingPostgres(
  db: Pick<pg.Pool, 'query'>,
  projectId: string,
  atMost: number,
): Promise<number> {
  const row = (await db.query(COUNT_PENDING_SQL, [projectId, atMost])).rows[0] as Row | undefined;
  return Math.min(num(row?.pending ?? 0), atMost);
}
