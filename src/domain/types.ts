/**
 * Herald's domain vocabulary (see DESIGN.md "Vocabulary"). Plain data, no behaviour, no I/O.
 * Times are epoch milliseconds inside Herald; the API turns them into ISO-8601 strings.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Project {
  id: string;
  uid: string | null;
  name: string;
  /** Delays in seconds, each from the attempt before; null means the installation default. */
  retrySchedule: number[] | null;
  /** When true, events whose type is not in the catalog are refused (422). */
  enforceCatalog: boolean;
  /**
   * Pending deliveries past which the project's new events get 429 (api/backlog-gate.ts), set by
   * the admin only; null: the installation's HERALD_PROJECT_BACKLOG_LIMIT; 0: no limit for it.
   */
  backlogLimit: number | null;
  /**
   * Portal links issued before this time (epoch ms) are refused if they carry no generation (made
   * before links did): set when the project's links are revoked, null when they never were.
   * Internal: not in the project's JSON.
   */
  portalLinksNotBefore: number | null;
  /**
   * Incremented by each revocation of the project's portal links (0: never revoked); a link carries
   * the generation it was made in and is refused once it is lower. Internal: not in the project's
   * JSON.
   */
  portalLinksGeneration: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * What a project API key may do, fixed when it is made (src/api/key-scope.ts says which routes):
 * `full` everything in its project; `send` send events (a producer's key); `read` read the project
 * but not its endpoints' secrets (dashboards, monitoring).
 */
export const API_KEY_SCOPES = ['full', 'send', 'read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKey {
  id: string;
  projectId: string;
  name: string;
  /** As stored: one of API_KEY_SCOPES, unless a later version wrote another (refused, key-scope.ts). */
  scope: string;
  /** First characters of the key, safe to show ("hk_abcd…"). */
  prefix: string;
  /** SHA-256 hex of the whole key; the key itself is never stored. */
  keyHash: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface EventType {
  name: string;
  description: string;
  /** JSON Schema of the payload, or null. */
  schema: Json | null;
  /** Example payload, used by test sends and the dashboard's Example tab. */
  example: Json | null;
  deprecated: boolean;
  createdAt: number;
  updatedAt: number;
}

export type SignatureScheme =
  | 'standard'
  | 'hmac-sha256'
  | 'stripe'
  | 'github'
  | 'sha256-body'
  | 'hmac-sha1-url'
  | 'none';

export interface SignatureConfig {
  scheme: SignatureScheme;
  signatureHeader?: string;
  timestampHeader?: string;
  encoding?: 'hex' | 'base64';
  /** Static key instead of the secret (`hmac-sha1-url` only). */
  key?: string;
}

export type Envelope = 'standard' | 'event-data' | 'raw';
export type HttpMethod = 'POST' | 'PUT' | 'PATCH' | 'GET';
export type EndpointStatus = 'active' | 'disabled';

export interface RateLimit {
  /** Requests per second allowed towards this endpoint (token bucket refill rate). */
  perSecond: number;
  /** Bucket size; defaults to perSecond. */
  burst?: number;
}

export interface Endpoint {
  id: string;
  projectId: string;
  url: string;
  name: string;
  description: string;
  /** Event-type filter; empty means every type. */
  eventTypes: string[];
  method: HttpMethod;
  /** Custom headers added to every request (never able to replace signature headers). */
  headers: Record<string, string>;
  dev: boolean;
  timeoutMs: number;
  envelope: Envelope;
  signature: SignatureConfig;
  rateLimit: RateLimit | null;
  /** Delays in seconds, each from the attempt before; null means the project's or the installation's. */
  retrySchedule: number[] | null;
  status: EndpointStatus;
  disabledReason: string | null;
  disabledAt: number | null;
  consecutiveFailures: number;
  createdAt: number;
  updatedAt: number;
}

/** One signing secret of an endpoint. The current one has expiresAt null. */
export interface EndpointSecret {
  id: string;
  projectId: string;
  endpointId: string;
  secret: string;
  createdAt: number;
  /** End of the rotation grace period for a retired secret; null for the current secret. */
  expiresAt: number | null;
}

export interface HeraldEvent {
  id: string;
  projectId: string;
  type: string;
  payload: Json;
  test: boolean;
  idempotencyKey: string | null;
  callbackUrl: string | null;
  /** The callbackUrl delivery's envelope, when not `standard` (absent: standard). */
  callbackEnvelope?: Envelope;
  /**
   * How many deliveries it has: those it was accepted with, plus one per delivery a replay added
   * (Store.replayMissing; deliveries are only ever deleted with their event); absent when not
   * known: events stored before the count was (store migrations: events.delivery_count).
   */
  deliveryCount?: number;
  createdAt: number;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'parked';

export interface Delivery {
  id: string;
  projectId: string;
  eventId: string;
  /** null for a one-off callbackUrl delivery. */
  endpointId: string | null;
  url: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /**
   * When the next attempt is due (pending), else null. While a worker holds the delivery, the end of
   * its lease: the attempt under way settles it before then, or it is tried again from then on.
   */
  nextAttemptAt: number | null;
  /** While a worker holds it (an attempt in flight or about to start): when that worker's lease ends. */
  leasedUntil: number | null;
  lastAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type ErrorKind =
  | 'timeout'
  | 'connect'
  | 'dns'
  | 'tls'
  | 'blocked'
  | 'http_status'
  | 'reset'
  | 'protocol'
  | 'internal';

export interface AttemptRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface AttemptResponse {
  status: number;
  headers: Record<string, string>;
  /** First 64 KiB of the response body, as text. */
  body: string;
}

export interface Attempt {
  id: string;
  projectId: string;
  deliveryId: string;
  eventId: string;
  endpointId: string | null;
  /** 1 for the first try. */
  number: number;
  startedAt: number;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  request: AttemptRequest;
  response: AttemptResponse | null;
  error: { kind: ErrorKind; message: string } | null;
  /** Copied from the event so history can be filtered by type without a join. */
  eventType: string;
}

export type OperationalEventType = 'endpoint.disabled' | 'endpoint.recovered' | 'delivery.exhausted';

/** Something Herald itself reports about a project's endpoints (auto-disable, …). */
export interface OperationalEvent {
  id: string;
  projectId: string;
  type: OperationalEventType;
  data: { [key: string]: Json };
  createdAt: number;
}
