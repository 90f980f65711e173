/** What the dashboard's client makes of the API's answers: their JSON, and the parts screens read. */
import { parseJsonExact } from '../../../domain/json-text.ts';
import { ApiError } from './api-error.ts';
import type { DeliverySettings, SigningSecret } from './types.ts';

/** An answer's body: its JSON (numbers exact), null when empty, the text itself when not JSON. */
export function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return parseJsonExact(text);
  } catch {
    return text;
  }
}

/** The `delivery` of a GET /installation answer, or null when it is not there as expected. */
export function deliverySettingsOf(answer: unknown): DeliverySettings | null {
  const d = (answer as { delivery?: Partial<Record<keyof DeliverySettings, unknown>> } | null)?.delivery;
  const count = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
  if (
    !d ||
    !count(d.defaultTimeoutMs) ||
    !count(d.maxTimeoutMs) ||
    !Array.isArray(d.retrySchedule) ||
    !d.retrySchedule.every(count)
  ) {
    return null;
  }
  return {
    defaultTimeoutMs: d.defaultTimeoutMs,
    maxTimeoutMs: d.maxTimeoutMs,
    retrySchedule: d.retrySchedule,
    retryJitter: count(d.retryJitter) ? d.retryJitter : 0,
  };
}

/**
 * The secrets of a secret/rotate answer (`{secret, secrets: [{secret, createdAt, expiresAt}]}`, current
 * first), or the current one alone when the server sends only `secret`.
 */
export function secretsOf(answer: unknown): SigningSecret[] {
  const value = answer as { secret?: unknown; secrets?: unknown } | null;
  const listed = Array.isArray(value?.secrets)
    ? (value.secrets as { secret?: unknown; createdAt?: unknown; expiresAt?: unknown }[])
        .filter((item) => typeof item?.secret === 'string')
        .map((item) => ({
          secret: item.secret as string,
          createdAt: typeof item.createdAt === 'string' ? item.createdAt : null,
          expiresAt: typeof item.expiresAt === 'string' ? item.expiresAt : null,
        }))
    : [];
  if (listed.length === 0 && typeof value?.secret === 'string') {
    listed.push({ secret: value.secret, createdAt: null, expiresAt: null });
  }
  if (listed.length === 0) throw new ApiError(500, 'UNEXPECTED', 'The server answered without a secret.');
  return listed;
}
