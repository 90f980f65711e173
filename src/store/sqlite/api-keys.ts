/** API key rows for the SQLite store; writes run inside one of the store's group commits. */
import type { DatabaseSync } from 'node:sqlite';
import type { ApiKey } from '../../domain/types.ts';
import type { NewApiKey } from '../store.ts';
import { all, get, run } from './db-helpers.ts';
import { toApiKey } from './rows.ts';

export function insertApiKeySqlite(db: DatabaseSync, id: string, input: NewApiKey, now: number): number {
  return run(
    db,
    'INSERT INTO api_keys (id, project_id, name, scope, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    id,
    input.projectId,
    input.name,
    input.scope ?? 'full',
    input.prefix,
    input.keyHash,
    now,
  );
}

/** The key just inserted (insertApiKeySqlite). */
export function insertedApiKeySqlite(db: DatabaseSync, id: string): ApiKey {
  return toApiKey(get(db, 'SELECT * FROM api_keys WHERE id = ?', id)!);
}

export function apiKeyByHashSqlite(db: DatabaseSync, keyHash: string): ApiKey | null {
  const row = get(db, 'SELECT * FROM api_keys WHERE key_hash = ?', keyHash);
  return row ? toApiKey(row) : null;
}

export function listApiKeysSqlite(db: DatabaseSync, projectId: string): ApiKey[] {
  return all(db, 'SELECT * FROM api_keys WHERE project_id = ? ORDER BY id DESC', projectId).map(toApiKey);
}

export function apiKeyByIdSqlite(db: DatabaseSync, projectId: string, keyId: string): ApiKey | null {
  const row = get(db, 'SELECT * FROM api_keys WHERE id = ? AND project_id = ?', keyId, projectId);
  return row ? toApiKey(row) : null;
}

export function deleteApiKeySqlite(db: DatabaseSync, projectId: string, keyId: string): boolean {
  return run(db, 'DELETE FROM api_keys WHERE project_id = ? AND id = ?', projectId, keyId) > 0;
}

export function touchApiKeySqlite(
  db: DatabaseSync,
  projectId: string,
  keyId: string,
  at: number,
  coarseMs: number,
): number {
  return run(
    db,
    'UPDATE api_keys SET last_used_at = ? WHERE project_id = ? AND id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    at,
    projectId,
    keyId,
    at - coarseMs,
  );
}
