/** Reads of one endpoint for the PostgreSQL store. */
import type pg from 'pg';
import type { Endpoint } from '../../domain/types.ts';
import { type Row, toEndpoint } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** `forUpdate`: the row stays locked until the transaction of `db` ends. */
export async function endpointRowPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  forUpdate = false,
): Promise<Row | undefined> {
  const sql = forUpdate
    ? 'SELECT * FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE'
    : 'SELECT * FROM endpoints WHERE project_id = $1 AND id = $2';
  return ((await db.query(sql, [projectId, endpointId])).rows as Row[])[0];
}

export async function endpointPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
): Promise<Endpoint | null> {
  const row = await endpointRowPostgres(db, projectId, endpointId);
  return row ? toEndpoint(row) : null;
}
