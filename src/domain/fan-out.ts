import type { Endpoint } from './types.ts';

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
