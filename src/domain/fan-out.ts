import { ID_PREFIX, newId } from './ids.ts';
import type { Delivery, Endpoint, HeraldEvent } from './types.ts';

/** Does this endpoint's event-type filter accept `type`? An empty filter accepts every type. */
export function endpointAcceptsType(endpoint: Pick<Endpoint, 'eventTypes'>, type: string): boolean {
  return endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type);
}

/**
 * The endpoints one event fans out to (DESIGN "Data flow"): only active endpoints whose filter
 * matches; a test event only to those of them flagged `dev`. Disabled endpoints get nothing new.
 */
export function selectEndpoints<E extends Pick<Endpoint, 'status' | 'dev' | 'eventTypes'>>(
  endpoints: readonly E[],
  event: { type: string; test: boolean },
): E[] {
  return endpoints.filter(
    (ep) => ep.status === 'active' && (!event.test || ep.dev) && endpointAcceptsType(ep, event.type),
  );
}

/**
 * The event an accepted input becomes. A test send (`onlyEndpointId`) goes to that endpoint alone,
 * so it has no callback.
 */
export function newEvent(
  id: string,
  projectId: string,
  input: Pick<
    HeraldEvent,
    'type' | 'payload' | 'test' | 'idempotencyKey' | 'callbackUrl' | 'callbackEnvelope'
  > & {
    onlyEndpointId?: string;
  },
  now: number,
): HeraldEvent {
  return {
    id,
    projectId,
    type: input.type,
    payload: input.payload,
    test: input.test,
    idempotencyKey: input.idempotencyKey,
    callbackUrl: input.onlyEndpointId ? null : input.callbackUrl,
    // Kept only with a callback, and only when not standard (as stored and read back).
    ...(input.callbackEnvelope &&
    input.callbackEnvelope !== 'standard' &&
    input.callbackUrl &&
    !input.onlyEndpointId
      ? { callbackEnvelope: input.callbackEnvelope }
      : {}),
    createdAt: now,
  };
}

/** A new delivery of an event to one endpoint (or to its callback URL: no endpoint), due now. */
export function newDelivery(
  projectId: string,
  eventId: string,
  endpointId: string | null,
  url: string,
  now: number,
): Delivery {
  return {
    id: newId(ID_PREFIX.delivery, now),
    projectId,
    eventId,
    endpointId,
    url,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    leasedUntil: null,
    lastAttemptAt: null,
    createdAt: now,
    updatedAt: now,
  };
}
