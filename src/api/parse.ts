/** Small parsers for query and body values the schemas cannot fully check. */
import { invalid, unprocessable } from './errors.ts';

/** ISO-8601 or epoch milliseconds → epoch ms; 400 naming the field otherwise. */
export function parseTime(field: string, value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = typeof value === 'number' || /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid(field, 'must be an ISO-8601 time or epoch milliseconds');
  return ms;
}

/** An http(s) URL; 400 naming the field otherwise. */
export function parseHttpUrl(field: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalid(field, 'must be an absolute http or https URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(field, 'must use http or https');
  if (u.username || u.password) throw invalid(field, 'must not contain credentials');
  return u.toString();
}

const BUCKETS: Record<string, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
};

export function parseBucket(value: string | undefined): number {
  if (value === undefined) return BUCKETS['1h']!;
  const ms = BUCKETS[value];
  if (!ms) throw invalid('querystring.bucket', `must be one of ${Object.keys(BUCKETS).join(', ')}`);
  return ms;
}

/** An imported secret for the standard scheme must be a Standard Webhooks secret. */
export function checkImportedSecret(scheme: string, secret: string): void {
  if (scheme !== 'standard') return;
  const bytes = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64').length : 0;
  if (bytes < 24 || bytes > 64) {
    throw unprocessable('secret', 'the standard scheme needs whsec_ followed by base64 of 24–64 bytes');
  }
}

/** `?limit&cursor` → a store page query; limit 1..1000, default 50. */
export function pageOf(query: { limit?: string; cursor?: string }): { limit: number; cursor: string | null } {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalid('querystring.limit', 'must be an integer from 1 to 1000');
  return { limit, cursor: query.cursor ?? null };
}
