/**
 * The idempotency key the client gives an event sent without one (HeraldClientOptions
 * `autoIdempotencyKeys`), so that a request whose answer was lost (a connection reset after Herald
 * stored the event, a timeout) can be sent again without storing the event twice: Herald answers
 * the repeat with the event it stored. One key per event per call: the same input sent by two calls
 * is two events, as without keys.
 */
import { randomUUID } from 'node:crypto';
import type { EventInput } from './types.ts';

/** Prefix of the keys the client makes (a caller's own keys need not avoid it: UUIDs do not repeat). */
export const AUTO_KEY_PREFIX = 'auto-';

/** `event` itself when it has a key (an empty one included: Herald refuses it, naming the field), else a copy with one. */
export function withIdempotencyKey<E extends EventInput<unknown>>(event: E): E {
  if (event.idempotencyKey !== undefined && event.idempotencyKey !== null) return event;
  return { ...event, idempotencyKey: `${AUTO_KEY_PREFIX}${randomUUID()}` };
}
