/**
 * Endpoint secrets for the PostgreSQL store: the ones valid at a time (opened), a rotation, and
 * resealing under the current key.
 */
import type pg from 'pg';
import { sameSecret } from '../../domain/secret.ts';
import type { Endpoint, EndpointSecret } from '../../domain/types.ts';
import type { SecretCipher } from '../secret-cipher.ts';
import type { EndpointCheck } from '../store.ts';
import { endpointRowPostgres } from './endpoint-reads.ts';
import { expireCurrentSecretPostgres, insertSecretPostgres } from './endpoint-writes.ts';
import { type Row, toEndpoint, toSecret } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** Secrets valid at `now`, current first, then retired ones still in their grace period. */
export async function validSecretsPostgres(
  db: Queryable,
  cipher: SecretCipher,
  projectId: string,
  endpointId: string,
  now: number,
): Promise<EndpointSecret[]> {
  const rows = (
    await db.query(
      `SELECT * FROM endpoint_secrets
       WHERE project_id = $1 AND endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $3)
       ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at DESC, id DESC`,
      [projectId, endpointId, now],
    )
  ).rows as Row[];
  return rows.map((r) => ({ ...toSecret(r), secret: cipher.open(String(r.secret)) }));
}

/** Store.rotateEndpointSecret, on the client of the caller's transaction. */
export async function rotateSecretPostgres(
  c: Queryable,
  cipher: SecretCipher,
  projectId: string,
  endpointId: string,
  { secret, graceMs, now, check }: { secret: string; graceMs: number; now: number; check?: EndpointCheck },
): Promise<{ endpoint: Endpoint; secrets: EndpointSecret[] } | 'same-as-current' | null> {
  // The endpoint's row lock orders concurrent rotations, and PATCHes that check (updateEndpoint):
  // the second reads the first's secret, and its scheme.
  const row = await endpointRowPostgres(c, projectId, endpointId, true);
  if (!row) return null;
  const [current, ...retired] = await validSecretsPostgres(c, cipher, projectId, endpointId, now);
  const endpoint = toEndpoint(row);
  check?.(endpoint, current?.secret ?? null);
  const { scheme } = endpoint.signature;
  if (current && sameSecret(scheme, current.secret, secret)) return 'same-as-current';
  // Back to a secret still in its grace: that entry ends, the new current one takes its place (so
  // it is listed, and counted against MAX_VALID_SECRETS, once).
  const same = retired.filter((r) => sameSecret(scheme, r.secret, secret)).map((r) => r.id);
  if (same.length) {
    await c.query('UPDATE endpoint_secrets SET expires_at = $1 WHERE project_id = $2 AND id = ANY($3)', [
      now,
      projectId,
      same,
    ]);
  }
  await expireCurrentSecretPostgres(c, projectId, endpointId, now + Math.max(0, graceMs));
  await insertSecretPostgres(c, projectId, endpointId, cipher.seal(secret), now);
  // The endpoint as locked here: a PATCH waits for the rotation, so the answer is not older than it.
  return { endpoint, secrets: await validSecretsPostgres(c, cipher, projectId, endpointId, now) };
}

/** Store.openAllSecrets: opens each stored secret, at any schema (the column is as 0001 made it). */
export async function openAllSecretsPostgres(db: Queryable, cipher: SecretCipher): Promise<void> {
  const { rows } = await db.query(
    `SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('endpoint_secrets') AND attname = 'secret'
       AND NOT attisdropped`,
  );
  if (rows.length === 0) return;
  for (const r of (await db.query('SELECT secret FROM endpoint_secrets')).rows as Row[]) {
    cipher.open(String(r.secret));
  }
}

/** Store.resealSecrets: returns how many secrets were sealed again. */
export async function resealSecretsPostgres(db: Queryable, cipher: SecretCipher): Promise<number> {
  let n = 0;
  for (const r of (await db.query('SELECT project_id, id, secret FROM endpoint_secrets')).rows as Row[]) {
    const stored = String(r.secret);
    if (!cipher.stale(stored)) continue;
    const sealed = cipher.seal(cipher.open(stored));
    // Compare-and-set: another process resealing at the same time rewrites it once, not twice.
    const done = await db.query(
      'UPDATE endpoint_secrets SET secret = $1 WHERE project_id = $2 AND id = $3 AND secret = $4 RETURNING id',
      [sealed, r.project_id, r.id, stored],
    );
    n += done.rows.length;
  }
  return n;
}
