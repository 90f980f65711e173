/**
 * What `herald listen` forwards and how: the request one endpoint would receive (its method,
 * headers, envelope, signature scheme and secret, event filter and dev flag), or a plain Standard
 * Webhooks shape signed with a local secret. Pure: no I/O.
 */
import { randomBytes } from 'node:crypto';
import type { Endpoint as ApiEndpoint, EventSummary as ApiEvent } from '@herald/client';
import { buildRequest } from '../../domain/build-request.ts';
import type { BuiltRequest } from '../../domain/build-request-types.ts';
import { selectEndpoints } from '../../domain/fan-out.ts';
import type { Endpoint, HeraldEvent, Json } from '../../domain/types.ts';

export interface ForwardShape {
  /** Said once at start: whose settings, and which secret verifies (the local one only). */
  describe: string;
  settings: Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>;
  secret: string;
  /** The event types forwarded (empty: all). */
  eventTypes: string[];
  /** Test events too (an endpoint's dev flag; always without an endpoint). */
  dev: boolean;
}

/** As endpoint `ep` (from the API, with its `secret`) would receive them. */
export function endpointShape(ep: ApiEndpoint, secret: string, types: string[] | null): ForwardShape {
  return {
    describe: `as endpoint ${ep.id} (${ep.signature.scheme} signature, its own secret)`,
    settings: {
      method: ep.method as Endpoint['method'],
      headers: ep.headers,
      envelope: ep.envelope as Endpoint['envelope'],
      signature: ep.signature as Endpoint['signature'],
    },
    secret,
    eventTypes: types ?? ep.eventTypes,
    dev: ep.dev,
  };
}

/** Standard Webhooks, POST, the standard envelope; signed with `secret` or a new one. */
export function localShape(secret: string | undefined, types: string[] | null): ForwardShape {
  const key = secret ?? `whsec_${randomBytes(24).toString('base64')}`;
  return {
    describe: `standard signature, secret ${key}`,
    settings: { method: 'POST', headers: {}, envelope: 'standard', signature: { scheme: 'standard' } },
    secret: key,
    eventTypes: types ?? [],
    dev: true,
  };
}

/** True when the shape's endpoint would get this event (active, filter, test only if dev). */
export function forwards(shape: ForwardShape, event: Pick<ApiEvent, 'type' | 'test'>): boolean {
  return (
    selectEndpoints([{ status: 'active', dev: shape.dev, eventTypes: shape.eventTypes }], event).length === 1
  );
}

/** The request for `event` to `url`, signed now. */
export function forwardRequest(shape: ForwardShape, event: ApiEvent, url: string, now: number): BuiltRequest {
  const domainEvent: HeraldEvent = {
    id: event.id,
    projectId: event.projectId,
    type: event.type,
    payload: event.payload as Json,
    test: event.test,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: Date.parse(event.createdAt),
  };
  return buildRequest({
    event: domainEvent,
    payloadJson: JSON.stringify(event.payload),
    url,
    endpoint: shape.settings,
    secrets: [{ secret: shape.secret }],
    now,
  });
}
