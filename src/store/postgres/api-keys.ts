/** API key rows for the PostgreSQL store. */
import type pg from 'pg';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { ApiKey } from '../../domain/types.ts';
import type { NewApiKey } from '../store.ts';
import { type Row, toApiKey } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

export async function createApiKeyPostgres(db: Queryable, input: NewApiKey, now: number): Promise<ApiKey> {
  const { rows } = await db.query(
    `INSERT INTO api_keys (project_id, id, name, scope, prefix, key_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      input.projectId,
      newId(ID_PREFIX.apiKey, now),
      input.name,
      input.scope ?? 'full',
      input.prefix,
      input.keyHash,
      now,
    ],
  );
  return toApiKey(rows[0] as Row);
}

export async function apiKeyByHashPostgres(db: Queryable, keyHash: string): Promise<ApiKey | null> {
  // The one lookup before the project is known: the hash is what identifies it.
  const row = (await db.query('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash])).rows[0] as
    | Row
    | undefined;
  return row ? toApiKey(row) : null;
}

export async function listApiKeysPostgres(db: Queryable, projectId: string): Promise<ApiKey[]> {
  const { rows } = await db.query('SELECT * FROM api_keys WHERE project_id = $1 ORDER BY id DESC', [
    projectId,
  ]);
  return (rows as Row[]).map(toApiKey);
}

export async function apiKeyByIdPostgres(
  db: Queryable,
  projectId: string,
  keyId: string,
): Promise<ApiKey | null> {
  const row = (await db.query('SELECT * FROM api_keys WHERE project_id = $1 AND id = $2', [projectId, keyId]))
    .rows[0] as Row | undefined;
  return row ? toApiKey(row) : null;
}

export async function deleteApiKeyPostgres(
  db: Queryable,
  projectId: string,
  keyId: string,
): Promise<boolean> {
  return (
    ((await db.query('DELETE FROM api_keys WHERE project_id = $1 AND id = $2', [projectId, keyId]))
      .rowCount ?? 0) > 0
  );
}

export async function touchApiKeyPostgres(
  db: Queryable,
  projectId: string,
  keyId: string,
  at: number,
  coarseMs: number,
): Promise<void> {
  await db.query(
    'UPDATE api_keys SET last_used_at = $3 WHERE project_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $4)',
    [projectId, keyId, at, at - coarseMs],
  );
}
