/**
 * What the dispatcher reads before sending, for the PostgreSQL store: each endpoint's settings with
 * its valid secrets (decrypted), in one statement, so a claim or a hand-off costs one round trip.
 */
import type pg from 'pg';
import { dispatchView } from '../dispatch-cache.ts';
import type { SecretCipher } from '../secret-cipher.ts';
import type { DispatchEndpoint } from '../store.ts';
import { type Row, toEndpoint, toSecret } from './rows.ts';

export async function dispatchEndpointsPostgres(
  db: Pick<pg.Pool, 'query'>,
  cipher: SecretCipher,
  refs: { projectId: string; endpointId: string }[],
  now: number,
): Promise<Map<string, DispatchEndpoint>> {
  const out = new Map<string, DispatchEndpoint>();
  if (refs.length === 0) return out;
  // Secrets newest first: the ones that never expire, then by expiry, then by creation.
  const { rows } = await db.query(
    `SELECT e.*, COALESCE((
       SELECT json_agg(s ORDER BY (s.expires_at IS NULL) DESC, s.expires_at DESC, s.created_at DESC, s.id DESC)
       FROM endpoint_secrets s
       WHERE s.project_id = e.project_id AND s.endpoint_id = e.id AND (s.expires_at IS NULL OR s.expires_at > $3)
     ), '[]') AS valid_secrets
     FROM endpoints e WHERE (e.project_id, e.id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [refs.map((r) => r.projectId), refs.map((r) => r.endpointId), now],
  );
  for (const r of rows as Row[]) {
    out.set(
      String(r.id),
      dispatchView(toEndpoint(r), () =>
        (r.valid_secrets as Row[]).map((secret) => ({
          ...toSecret(secret),
          secret: cipher.open(String(secret.secret)),
        })),
      ),
    );
  }
  return out;
}
