/** What a `delivery.exhausted` operational event says (both stores write the same shape). */
import type { Json } from '../domain/types.ts';
import type { AttemptRecord } from './store.ts';

/**
 * `reason`: `gone` when the receiver answered 410 (no retries for that), else `retries_exhausted`.
 * The last attempt's status or error kind says why it failed.
 */
export function exhaustedData(rec: AttemptRecord): { [key: string]: Json } {
  const a = rec.attempt;
  const status = a.response?.status ?? null;
  return {
    endpointId: a.endpointId,
    deliveryId: a.deliveryId,
    eventId: a.eventId,
    eventType: a.eventType,
    url: a.request.url,
    attempts: a.number,
    reason: status === 410 || rec.endpointEffect === 'gone' ? 'gone' : 'retries_exhausted',
    lastStatus: status,
    lastError: a.error?.kind ?? null,
  };
}
