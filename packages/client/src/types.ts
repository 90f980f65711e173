/**
 * Herald's API objects as they travel (DESIGN.md "Object shapes"): camelCase JSON, times as
 * ISO-8601 strings. Fields beyond these may be present; these are the ones Herald promises.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface Project {
  id: string;
  uid: string | null;
  name: string;
  createdAt: string;
  [field: string]: unknown;
}

export interface ProjectInput {
  name: string;
  uid?: string;
  retrySchedule?: number[] | null;
  enforceCatalog?: boolean;
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

export interface RateLimit {
  /** Requests per second towards the endpoint. */
  perSecond: number;
  /** Bucket size; perSecond when omitted. */
  burst?: number;
}

export interface SignatureConfig {
  scheme: SignatureScheme;
  signatureHeader?: string;
  timestampHeader?: string;
  encoding?: 'hex' | 'base64';
  key?: string;
}

export interface EndpointInput {
  url: string;
  name?: string;
  description?: string;
  /** Event-type filter; empty (the default) means every type. */
  eventTypes?: string[];
  method?: HttpMethod;
  headers?: Record<string, string>;
  active?: boolean;
  /** Also receives test events (`test: true` events go to dev endpoints only). */
  dev?: boolean;
  timeoutMs?: number;
  envelope?: Envelope;
  signature?: SignatureConfig;
  /** Bring your own secret; Herald generates one otherwise. */
  secret?: string;
  rateLimit?: RateLimit | null;
  retrySchedule?: number[] | null;
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
  timeoutMs: number;
  envelope: Envelope;
  signature: SignatureConfig;
  rateLimit: RateLimit | null;
  retrySchedule: number[] | null;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  consecutiveFailures: number;
  createdAt: string;
  /** On create, rotate and `getSecret` only. */
  secret?: string;
  [field: string]: unknown;
}

export interface EventInput {
  type: string;
  payload: Json;
  /** The same key within 24 h returns the original event and creates no deliveries. */
  idempotencyKey?: string;
  /** A test event: delivered to dev endpoints only. */
  test?: boolean;
  /** A one-off URL this event is also delivered to. */
  callbackUrl?: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'parked';

export interface DeliveryState {
  id: string;
  endpointId: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  /** While `inFlight`, the end of the lease of the worker that holds it. */
  nextAttemptAt: string | null;
  /** A worker holds it: an attempt is under way or about to start. */
  inFlight: boolean;
  [field: string]: unknown;
}

/** An event as lists show it: without its deliveries. */
export interface EventSummary {
  id: string;
  projectId: string;
  type: string;
  payload: Json;
  test: boolean;
  createdAt: string;
  [field: string]: unknown;
}

/** An event as sending and `getEvent` return it: with each delivery's state. */
export interface HeraldEvent extends EventSummary {
  deliveries: DeliveryState[];
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
  type?: string;
  /** ISO-8601 time or epoch milliseconds. */
  since?: string | number;
  until?: string | number;
}

export interface AttemptQuery extends PageQuery {
  status?: 'succeeded' | 'failed';
  eventType?: string;
  /** ISO-8601 time or epoch milliseconds. */
  since?: string | number;
  until?: string | number;
}

export interface EventTypeInput {
  description?: string;
  schema?: Json;
  example?: Json;
  deprecated?: boolean;
}

export interface EventType {
  name: string;
  description: string;
  schema: Json | null;
  example: Json | null;
  deprecated: boolean;
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
