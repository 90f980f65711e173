/** Reads of one endpoint for the SQLite store: its row, and its view for the dispatcher. */
import type { DatabaseSync } from 'node:sqlite';
import type { Endpoint } from '../../domain/types.ts';
import { dispatchView } from '../dispatch-cache.ts';
import type { SecretCipher } from '../secret-cipher.ts';
import type { DispatchEndpoint } from '../store.ts';
import { get } from './db-helpers.ts';
import { validSecretsSqlite } from './endpoint-secrets.ts';
import { toEndpoint } from './rows.ts';

export function endpointSqlite(db: DatabaseSync, projectId: string, endpointId: string): Endpoint | null {
  const row = get(db, 'SELECT * FROM endpoints WHERE project_id = ? AND id = ?', projectId, endpointId);
  return row ? toEndpoint(row) : null;
}

/** The endpoint's settings and its secrets valid at `now` (dispatch-endpoints.ts LoadDispatchEndpoint). */
export function dispatchEndpointSqlite(
  db: DatabaseSync,
  cipher: SecretCipher,
  projectId: string,
  endpointId: string,
  now: number,
): DispatchEndpoint | null {
  const endpoint = endpointSqlite(db, projectId, endpointId);
  return endpoint && dispatchView(endpoint, () => validSecretsSqlite(db, cipher, projectId, endpointId, now));
}
