/** Domain objects → the wire shapes of DESIGN "HTTP API v1" (camelCase, ISO-8601 times). */
import type {
  ApiKey,
  Attempt,
  Delivery,
  Endpoint,
  EndpointSecret,
  EventType,
  HeraldEvent,
  OperationalEvent,
  Project,
} from '../domain/types.ts';
import type { StatsBucket } from '../store/store.ts';

/** The last time formatted: a fan-out's thousands of deliveries share their times, formatted once. */
let lastMs = Number.NaN;
let lastIso = '';
export const iso = (ms: number | null): string | null => {
  if (ms === null) return null;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};

export const projectJson = (p: Project) => ({
  id: p.id,
  uid: p.uid,
  name: p.name,
  retrySchedule: p.retrySchedule,
  enforceCatalog: p.enforceCatalog,
  backlogLimit: p.backlogLimit,
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
});

export const apiKeyJson = (k: ApiKey) => ({
  id: k.id,
  projectId: k.projectId,
  name: k.name,
  scope: k.scope,
  prefix: k.prefix,
  createdAt: iso(k.createdAt),
  lastUsedAt: k.lastUsedAt === null ? null : iso(k.lastUsedAt),
});

export const eventTypeJson = (t: EventType) => ({
  name: t.name,
  description: t.description,
  schema: t.schema,
  example: t.example,
  deprecated: t.deprecated,
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

export const endpointJson = (e: Endpoint) => ({
  id: e.id,
  projectId: e.projectId,
  url: e.url,
  name: e.name,
  description: e.description,
  eventTypes: e.eventTypes,
  method: e.method,
  headers: e.headers,
  dev: e.dev,
  active: e.status === 'active',
  timeoutMs: e.timeoutMs,
  envelope: e.envelope,
  signature: e.signature,
  rateLimit: e.rateLimit,
  retrySchedule: e.retrySchedule,
  status: e.status,
  disabledReason: e.disabledReason,
  disabledAt: iso(e.disabledAt),
  consecutiveFailures: e.consecutiveFailures,
  createdAt: iso(e.createdAt),
  updatedAt: iso(e.updatedAt),
});

export const secretsJson = (secrets: EndpointSecret[]) => ({
  secret: secrets[0]?.secret ?? null,
  secrets: secrets.map((s) => ({
    secret: s.secret,
    createdAt: iso(s.createdAt),
    expiresAt: iso(s.expiresAt),
  })),
});

/**
 * GET …/endpoints/:endpoint/secret and its rotation: the endpoint with its secret, as DESIGN shapes
 * them (`endpoint … + secret on create/rotate/GET …/secret`), and every secret valid now.
 */
export const endpointSecretsJson = (e: Endpoint, secrets: EndpointSecret[]) => ({
  ...endpointJson(e),
  ...secretsJson(secrets),
});

/**
 * `leaseNow`: now in the time leases are stored in (Store.leaseNow: on PostgreSQL the database's,
 * which a process whose clock is off does not read on its own clock; until 2026-12-07 it did, and
 * an API process 20 s ahead showed a delivery being sent as not in flight while a retry answered 409).
 */
export const deliveryJson = (d: Delivery, leaseNow: number) => ({
  id: d.id,
  eventId: d.eventId,
  endpointId: d.endpointId,
  url: d.url,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: iso(d.nextAttemptAt),
  // A worker holds it: an attempt is under way (nextAttemptAt is then the lease's end).
  inFlight: d.leasedUntil !== null && d.leasedUntil > leaseNow,
  lastAttemptAt: iso(d.lastAttemptAt),
  createdAt: iso(d.createdAt),
});

/**
 * The event, with its deliveries when given them and the time their leases are judged at
 * (`leaseNow`, Store.leaseNow: deliveryJson's inFlight). The two go together, so a caller with
 * deliveries cannot fall back on this process's clock (the accept's answer did, until 2026-12-07).
 */
export const eventJson = (e: HeraldEvent, withDeliveries?: { deliveries: Delivery[]; leaseNow: number }) => {
  const deliveries = withDeliveries?.deliveries;
  return {
    id: e.id,
    projectId: e.projectId,
    type: e.type,
    payload: e.payload,
    test: e.test,
    idempotencyKey: e.idempotencyKey,
    callbackUrl: e.callbackUrl,
    callbackEnvelope: e.callbackUrl ? (e.callbackEnvelope ?? 'standard') : null,
    // Stored at ingest: a list says how many without reading them. With the deliveries at hand (GET
    // event, the accept answer), their number, which is the same for every event counted.
    deliveryCount: deliveries?.length ?? e.deliveryCount ?? null,
    createdAt: iso(e.createdAt),
    ...(withDeliveries
      ? { deliveries: withDeliveries.deliveries.map((d) => deliveryJson(d, withDeliveries.leaseNow)) }
      : {}),
  };
};

export const attemptJson = (a: Attempt) => ({
  id: a.id,
  projectId: a.projectId,
  deliveryId: a.deliveryId,
  eventId: a.eventId,
  endpointId: a.endpointId,
  eventType: a.eventType,
  number: a.number,
  startedAt: iso(a.startedAt),
  durationMs: a.durationMs,
  outcome: a.outcome,
  request: a.request,
  response: a.response,
  error: a.error,
});

export const operationalEventJson = (o: OperationalEvent) => ({
  id: o.id,
  projectId: o.projectId,
  type: o.type,
  data: o.data,
  createdAt: iso(o.createdAt),
});

export const statsJson = (b: StatsBucket) => ({ ...b, start: iso(b.start) });
