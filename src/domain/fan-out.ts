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
  return endpoints.filter((ep) => receives(ep, event));
}

/** One endpoint of selectEndpoints: active, filter matching, `dev` for a test event. */
function receives(
  ep: Pick<Endpoint, 'status' | 'dev' | 'eventTypes'>,
  event: { type: string; test: boolean },
): boolean {
  return ep.status === 'active' && (!event.test || ep.dev) && endpointAcceptsType(ep, event.type);
}

/**
 * Whether a replay (Store.replayMissing) gives `event` to `endpoint`: what its filter accepts now,
 * and not a test event (those go to dev endpoints as they are sent, or to one endpoint as a test
 * send: neither is the platform's history). The endpoint's being active is the store's to check.
 */
export function replays(
  endpoint: Pick<Endpoint, 'eventTypes'>,
  event: { type: string; test: boolean },
): boolean {
  return !event.test && endpointAcceptsType(endpoint, event.type);
}

/**
 * The endpoints an accepted event goes to: its one endpoint for a test send (`onlyEndpointId`,
 * whatever its filter or dev flag), else selectEndpoints. Both stores fan out with this.
 */
export function fanOutTargets<E extends Pick<Endpoint, 'id' | 'status' | 'dev' | 'eventTypes'>>(
  endpoints: readonly E[],
  event: { type: string; test: boolean },
  onlyEndpointId: string | undefined,
): E[] {
  return onlyEndpointId
    ? endpoints.filter((e) => e.id === onlyEndpointId)
    : selectEndpoints(endpoints, event);
}

/** How many of `endpoints` fanOutTargets would return, without making the list. */
export function countFanOutTargets(
  endpoints: readonly Pick<Endpoint, 'id' | 'status' | 'dev' | 'eventTypes'>[],
  event: { type: string; test: boolean },
  onlyEndpointId: string | undefined,
): number {
  let n = 0;
  for (const ep of endpoints) if (onlyEndpointId ? ep.id === onlyEndpointId : receives(ep, event)) n++;
  return n;
}

/**
 * Counts the deliveries of one accept as its events are fanned out, against its `maxDeliveries`
 * (HERALD_MAX_DELIVERIES_PER_REQUEST): `add` returns an event's targets while the count is within
 * the limit; past it, only counts (no lists are kept for a request that will be refused) and
 * returns null. `over` then says the accept must be refused, before anything is written.
 */
export class DeliveryCount {
  readonly limit: number;
  deliveries = 0;
  constructor(limit: number | undefined) {
    this.limit = limit ?? Number.POSITIVE_INFINITY;
  }
  get over(): boolean {
    return this.deliveries > this.limit;
  }
  /** The targets of a new event (its callback URL counts one more), or null once over the limit. */
  add<E extends Pick<Endpoint, 'id' | 'status' | 'dev' | 'eventTypes'>>(
    endpoints: readonly E[],
    event: { type: string; test: boolean; callbackUrl: string | null },
    onlyEndpointId: string | undefined,
  ): E[] | null {
    const callback = event.callbackUrl ? 1 : 0;
    if (this.over) {
      this.deliveries += countFanOutTargets(endpoints, event, onlyEndpointId) + callback;
      return null;
    }
    const targets = fanOutTargets(endpoints, event, onlyEndpointId);
    this.deliveries += targets.length + callback;
    return this.over ? null : targets;
  }
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
