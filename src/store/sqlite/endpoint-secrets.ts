/**
 * Endpoint secrets for the SQLite store: the ones valid at a time (opened), a rotation, and
 * resealing under the current key. Writes run inside one of the store's group commits.
 */
import type { DatabaseSync } from 'node:sqlite';
import { sameSecret } from '../../domain/secret.ts';
import type { Endpoint, EndpointSecret } from '../../domain/types.ts';
import type { SecretCipher } from '../secret-cipher.ts';
import type { EndpointCheck } from '../store.ts';
import { all, run } from './db-helpers.ts';
import { expireCurrentSecretSqlite, insertSecretSqlite } from './endpoint-writes.ts';
import { toSecret } from './rows.ts';

/** Secrets valid at `now`, current first, then retired ones still in their grace period. */
export function validSecretsSqlite(
  db: DatabaseSync,
  cipher: SecretCipher,
  projectId: string,
  endpointId: string,
  now: number,
): EndpointSecret[] {
  return all(
    db,
    `SELECT * FROM endpoint_secrets WHERE project_id = ? AND endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)
     ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at DESC, id DESC`,
    projectId,
    endpointId,
    now,
  ).map((r) => ({ ...toSecret(r), secret: cipher.open(String(r.secret)) }));
}

/**
 * Store.rotateEndpointSecret's write: `endpoint` is read in the same write, so a concurrent
 * rotation (or PATCH) comes before or after, and `check` sees it as it is; so are the secrets
 * answered. Null when the endpoint does not exist.
 */
export function rotateSecretSqlite(
  db: DatabaseSync,
  cipher: SecretCipher,
  endpoint: Endpoint | null,
  { secret, graceMs, now, check }: { secret: string; graceMs: number; now: number; check?: EndpointCheck },
): { endpoint: Endpoint; secrets: EndpointSecret[] } | 'same-as-current' | null {
  if (!endpoint) return null;
  const { projectId, id: endpointId } = endpoint;
  const [current, ...retired] = validSecretsSqlite(db, cipher, projectId, endpointId, now);
  check?.(endpoint, current?.secret ?? null);
  const { scheme } = endpoint.signature;
  if (current && sameSecret(scheme, current.secret, secret)) return 'same-as-current';
  // Back to a secret still in its grace: that entry ends, the new current one takes its place (so
  // it is listed, and counted against MAX_VALID_SECRETS, once).
  for (const old of retired.filter((r) => sameSecret(scheme, r.secret, secret))) {
    run(
      db,
      'UPDATE endpoint_secrets SET expires_at = ? WHERE project_id = ? AND id = ?',
      now,
      projectId,
      old.id,
    );
  }
  expireCurrentSecretSqlite(db, projectId, endpointId, now + Math.max(0, graceMs));
  insertSecretSqlite(db, projectId, endpointId, cipher.seal(secret), now);
  return { endpoint, secrets: validSecretsSqlite(db, cipher, projectId, endpointId, now) };
}

/** Store.openAllSecrets: opens each stored secret, at any schema (the column is as 0001 made it). */
export function openAllSecretsSqlite(db: DatabaseSync, cipher: SecretCipher): void {
  const columns = db.prepare('PRAGMA table_info(endpoint_secrets)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'secret')) return;
  const rows = db.prepare('SELECT secret FROM endpoint_secrets').iterate() as Iterable<{ secret: string }>;
  for (const { secret } of rows) cipher.open(String(secret));
}

/** Store.resealSecrets's write: returns how many secrets were sealed again. */
export function resealSecretsSqlite(db: DatabaseSync, cipher: SecretCipher): number {
  let n = 0;
  for (const r of all(db, 'SELECT id, secret FROM endpoint_secrets')) {
    const stored = String(r.secret);
    if (!cipher.stale(stored)) continue;
    const sealed = cipher.seal(cipher.open(stored));
    n += run(
      db,
      'UPDATE endpoint_secrets SET secret = ? WHERE id = ? AND secret = ?',
      sealed,
      String(r.id),
      stored,
    );
  }
  return n;
}
