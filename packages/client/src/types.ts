/**
 * Herald's API objects as they travel (DESIGN.md "Object shapes"): camelCase JSON, times as
 * ISO-8601 strings. Fields beyond these may be present; these are the ones Herald promises.
 */

/** A JSON value as Herald answers it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A value to send as JSON: anything `JSON.stringify` serialises, objects typed with an interface
 * included (which `Json`'s index signature would refuse). It is not checked at compile time:
 * functions, `undefined`, symbols and class instances serialise as `JSON.stringify` does them, and
 * a `bigint` throws.
 */
export type JsonInput = unknown;

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

export interface PageQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface Project {
  id: string;
  uid: string | null;
  name: string;
  retrySchedule: number[] | null;
  enforceCatalog: boolean;
  /** Pending deliveries past which its new events get 429; null: the installation's limit; 0: none. */
  backlogLimit: number | null;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

/**
 * What a project API key may do, fixed when it is made: `full` everything in its project, `send`
 * only send events (a producer's key), `read` only read, endpoint secrets excepted.
 */
export type ApiKeyScope = 'full' | 'send' | 'read';

/** A project API key as lists show it: never the key itself. */
export interface ApiKey {
  id: string;
  projectId: string;
  name: string;
  scope: ApiKeyScope;
  /** The first characters of the key, to recognise it. */
  prefix: string;
  createdAt: string;
  /** When a request last used it (to the minute); null if never. */
  lastUsedAt: string | null;
  [field: string]: unknown;
}

/** A key as `createApiKey` returns it: `key` is in this answer only. */
export interface ApiKeyWithSecret extends ApiKey {
  key: string;
}

/** One of an endpoint's valid signing secrets. */
export interface EndpointSecret {
  secret: string;
  createdAt: string;
  /** When it stops being valid; null for the current one. */
  expiresAt: string | null;
}

/** `getEndpointSecret` and `rotateEndpointSecret`: the endpoint, its secret, and the secrets valid now, current first. */
export interface EndpointSecrets extends Endpoint {
  /** The current secret (`secrets[0].secret`). */
  secret: string;
  secrets: EndpointSecret[];
}

/** What `testEndpoint` sent. */
export interface TestSent {
  eventId: string;
  deliveryId: string;
  eventType: string;
}

/** What Herald itself reported about a project's endpoints (docs/api.md "Operational events"). */
/** The kinds of operational event Herald reports (docs/api.md "Operational events"). */
export type OperationalEventType = 'endpoint.disabled' | 'endpoint.recovered' | 'delivery.exhausted';

export interface OperationalEvent {
  id: string;
  projectId: string;
  type: OperationalEventType | (string & {});
  data: Record<string, unknown>;
  createdAt: string;
  [field: string]: unknown;
}

/**
 * This installation's settings that shape endpoints and requests (`GET /api/v1/installation`, any
 * valid token): nothing secret.
 */
export interface Installation {
  delivery: {
    /** Per-attempt timeout of an endpoint that sets none (HERALD_DELIVERY_TIMEOUT_MS). */
    defaultTimeoutMs: number;
    /** Largest `timeoutMs` an endpoint may set (HERALD_DELIVERY_MAX_TIMEOUT_MS); the smallest is 100. */
    maxTimeoutMs: number;
    /** Delays in seconds between attempts when neither the endpoint nor its project sets a schedule. */
    retrySchedule: number[];
    /** The share of each delay drawn at random (0.2: ±20 %; HERALD_RETRY_JITTER). */
    retryJitter: number;
    [field: string]: unknown;
  };
  /** What shapes requests. Left out by a Herald older than this client (before 2026-12-07). */
  requests?: {
    /**
     * Largest request body in bytes (HERALD_MAX_BODY_BYTES); a larger one is refused 413. Give it
     * to a client as its `maxBodyBytes` option, and an event too large throws before it is sent.
     */
    maxBodyBytes: number;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** A signed link to a project's customer portal. */
export interface PortalLink {
  url: string;
  token: string;
  expiresAt: string;
  projectId: string;
  [field: string]: unknown;
}

export interface ProjectInput {
  name: string;
  /** Your own id for it, usable wherever a project id is (admin token only); null: none (removes it in an update). */
  uid?: string | null | undefined;
  retrySchedule?: number[] | null | undefined;
  enforceCatalog?: boolean | undefined;
  /** The admin token only: a project key that sends it gets 403. */
  backlogLimit?: number | null | undefined;
}

export type SignatureScheme =
  | 'standard'
  | 'hmac-sha256'
  | 'stripe'
  | 'github'
  | 'sha256-body'
  | 'hmac-sha1-url'
  | 'none';

export type Envelope = 'standard' | 'event-data' | 'raw';
export type HttpMethod = 'POST' | 'PUT' | 'PATCH' | 'GET';
/** A stats bucket size (`endpointStats`' `bucket`). */
export type StatsBucketSize = '1m' | '5m' | '15m' | '1h' | '6h' | '1d';

export interface RateLimit {
  /** Requests per second towards the endpoint. */
  perSecond: number;
  /** Bucket size; perSecond when omitted. */
  burst?: number | undefined;
}

export interface SignatureConfig {
  scheme: SignatureScheme;
  signatureHeader?: string | undefined;
  timestampHeader?: string | undefined;
  encoding?: 'hex' | 'base64' | undefined;
  key?: string | undefined;
}

export interface EndpointInput {
  url: string;
  name?: string | undefined;
  description?: string | undefined;
  /** Event-type filter; empty (the default) means every type. */
  eventTypes?: string[] | undefined;
  method?: HttpMethod | undefined;
  /**
   * Custom headers added to every request. A `Content-Type` is sent instead of Herald's when it
   * describes the body (`application/json` or `application/<name>+json`; `hmac-sha1-url`:
   * `application/x-www-form-urlencoded`; `sha256-body`: `text/plain`; any parameters, a charset
   * being utf-8); GET has no body and takes none.
   */
  headers?: Record<string, string> | undefined;
  active?: boolean | undefined;
  /** Also receives test events (`test: true` events go to dev endpoints only). */
  dev?: boolean | undefined;
  timeoutMs?: number | undefined;
  envelope?: Envelope | undefined;
  signature?: SignatureConfig | undefined;
  /** Bring your own secret; Herald generates one otherwise. */
  secret?: string | undefined;
  rateLimit?: RateLimit | null | undefined;
  retrySchedule?: number[] | null | undefined;
}

export interface Endpoint {
  id: string;
  projectId: string;
  url: string;
  name: string;
  description: string;
  eventTypes: string[];
  method: HttpMethod;
  headers: Record<string, string>;
  dev: boolean;
  /** `status === 'active'`. */
  active: boolean;
  timeoutMs: number;
  envelope: Envelope;
  signature: SignatureConfig;
  rateLimit: RateLimit | null;
  retrySchedule: number[] | null;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  disabledAt: string | null;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
  /** On create, and in `getEndpointSecret` and `rotateEndpointSecret` (EndpointSecrets); not in the other answers. */
  secret?: string;
  [field: string]: unknown;
}

/**
 * One event to send. `Payload` is any JSON-serialisable value by default (JsonInput), so a list
 * typed `EventInput[]` takes objects typed with an interface; `EventInput<MyPayload>` narrows it.
 */
export interface EventInput<Payload = JsonInput> {
  type: string;
  payload: Payload;
  /** The same key within 24 h returns the original event and creates no deliveries. */
  idempotencyKey?: string | undefined;
  /** A test event: delivered to dev endpoints only. */
  test?: boolean | undefined;
  /** A one-off URL this event is also delivered to (POST, unsigned, `webhook-id` sent). */
  callbackUrl?: string | undefined;
  /** That delivery's envelope (default `standard`; `raw`: the payload exactly as sent). */
  callbackEnvelope?: 'standard' | 'event-data' | 'raw' | undefined;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'parked';

export interface DeliveryState {
  id: string;
  eventId: string;
  endpointId: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  /** While `inFlight`, the end of the lease of the worker that holds it. */
  nextAttemptAt: string | null;
  /** A worker holds it: an attempt is under way or about to start. */
  inFlight: boolean;
  lastAttemptAt: string | null;
  createdAt: string;
  [field: string]: unknown;
}

/** An event as lists show it: without its deliveries. */
export interface EventSummary {
  id: string;
  projectId: string;
  type: string;
  payload: Json;
  test: boolean;
  /** Always in Herald's answers (null when none). */
  idempotencyKey?: string | null;
  /** Always in Herald's answers (null when none). */
  callbackUrl?: string | null;
  /** The callbackUrl delivery's envelope; null without a callbackUrl. */
  callbackEnvelope?: 'standard' | 'event-data' | 'raw' | null;
  /** How many deliveries it has (fixed when accepted); null for events stored before Herald counted them. */
  deliveryCount?: number | null;
  createdAt: string;
  [field: string]: unknown;
}

/**
 * An event as sending and `getEvent` return it: with each delivery's state. A repeated idempotency
 * key sent with a `send` key answers the original's id, type and time only: no `payload` or
 * `callbackUrl`, `deliveries: []`, and `withheld` naming what was left out.
 */
export interface HeraldEvent extends EventSummary {
  deliveries: DeliveryState[];
  /** Set on a repeat answered to a `send` key: the fields left out (docs/api.md "Idempotency keys"). */
  withheld?: string[];
}

export interface Attempt {
  id: string;
  projectId: string;
  deliveryId: string;
  eventId: string;
  endpointId: string | null;
  eventType: string;
  number: number;
  startedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string } | null;
  error: { kind: string; message: string } | null;
  [field: string]: unknown;
}

export interface EventQuery extends PageQuery {
  type?: string | undefined;
  /** ISO-8601 time or epoch milliseconds. */
  since?: string | number | undefined;
  until?: string | number | undefined;
  /**
   * Only the events sent with this idempotency key, however long ago. A page looks at 10,000
   * events at most: it may hold fewer than `limit`, or none, with a `nextCursor`.
   */
  idempotencyKey?: string | undefined;
}

/**
 * `listOperationalEvents`: a page of a project's operational events, optionally of one type, of one
 * endpoint, or both (a page filtered so looks at 10,000 of them: it may hold fewer than `limit`, or
 * none, with a `nextCursor`).
 */
export interface OperationalEventQuery extends PageQuery {
  type?: OperationalEventType | undefined;
  /** An endpoint's id (`ep_…`, its `data.endpointId`): that endpoint's only, deleted or not. */
  endpoint?: string | undefined;
}

/** `listEventDeliveries`: a page of an event's deliveries, optionally in one status. */
export interface EventDeliveryQuery extends PageQuery {
  status?: DeliveryStatus | undefined;
}

/** `listEndpointDeliveries`: what waits for an endpoint, its pending deliveries (the default) or parked ones. */
export interface EndpointDeliveryQuery extends PageQuery {
  status?: 'pending' | 'parked' | undefined;
}

/**
 * How many deliveries wait for an endpoint, each state counted up to `atMost` (10,000): a count
 * equal to it means at least that many.
 */
export interface WaitingCounts {
  pending: number;
  parked: number;
  atMost: number;
}

/** A page of `listEndpointDeliveries`: `counts` on the first page only (asked without `cursor`). */
export interface EndpointDeliveriesPage extends Page<DeliveryState> {
  counts?: WaitingCounts;
}

export interface AttemptQuery extends PageQuery {
  status?: 'succeeded' | 'failed' | undefined;
  eventType?: string | undefined;
  /** ISO-8601 time or epoch milliseconds. */
  since?: string | number | undefined;
  until?: string | number | undefined;
}

/**
 * Any object but an array (or a function), as `EventTypeInput.schema` takes it: an array's
 * `length` is not `never`. The index signature is `any` because only an `any` one lets an object
 * typed with an interface in (`unknown` would refuse it: an interface has no index signature).
 */
export type JsonSchemaObject = object & {
  readonly length?: never;
  // biome-ignore lint/suspicious/noExplicitAny: the only index signature an interface-typed object meets
  readonly [keyword: string]: any;
};

export interface EventTypeInput {
  description?: string | undefined;
  /**
   * A JSON Schema: an object (one typed with an interface too; not an array) or a boolean; null
   * clears it. Herald refuses anything else (400 body.schema).
   */
  schema?: JsonSchemaObject | boolean | null | undefined;
  /** The example payload test sends use (JsonInput). */
  example?: JsonInput;
  deprecated?: boolean | undefined;
}

export interface EventType {
  name: string;
  description: string;
  schema: Json | null;
  example: Json | null;
  deprecated: boolean;
  /** Always in Herald's answers. */
  createdAt?: string;
  /** Always in Herald's answers. */
  updatedAt?: string;
  [field: string]: unknown;
}

/** One bucket of an endpoint's attempts (`endpointStats`). */
export interface StatsBucket {
  /** Start of the bucket. */
  start: string;
  succeeded: number;
  failed: number;
  avgDurationMs: number | null;
  p95DurationMs: number | null;
}
