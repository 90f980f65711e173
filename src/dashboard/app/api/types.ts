/**
 * Shapes of the HTTP API v1 as the dashboard reads them (DESIGN.md "Object shapes"): camelCase JSON,
 * times as ISO-8601 strings; the server may send more.
 */

// The API's object types are @herald/client's (type-only: nothing of it reaches the bundle); the
// ones below are the dashboard's own (form inputs, the event as its screens read it).
export type {
  ApiKey,
  ApiKeyScope,
  Attempt,
  DeliveryStatus,
  Endpoint,
  EndpointDeliveriesPage,
  Envelope,
  EventSummary,
  EventType,
  HttpMethod,
  Json,
  OperationalEvent,
  Page,
  Project,
  RateLimit,
  SignatureConfig,
  SignatureScheme,
  StatsBucket,
  WaitingCounts,
} from '@herald/client';

import type {
  DeliveryState,
  EndpointDeliveryQuery,
  Envelope,
  EventSummary,
  HttpMethod,
  RateLimit,
  SignatureConfig,
} from '@herald/client';

/** Body of POST/PATCH …/endpoints. */
export interface EndpointInput {
  url: string;
  name: string;
  description: string;
  eventTypes: string[];
  method: HttpMethod;
  headers: Record<string, string>;
  active: boolean;
  dev: boolean;
  timeoutMs?: number;
  envelope: Envelope;
  signature: SignatureConfig;
  secret?: string;
  rateLimit: RateLimit | null;
  retrySchedule: number[] | null;
}

/** A delivery's state as an event carries it. */
export type DeliverySummary = DeliveryState;

/** What waits for an endpoint: its pending deliveries, or those parked while it is disabled. */
export type WaitingStatus = NonNullable<EndpointDeliveryQuery['status']>;

/** An event: lists send it without deliveries, `GET …/events/:event` with them (unless `?deliveries=false`). */
export type HeraldEvent = EventSummary & { deliveries?: DeliveryState[] };

/** One of an endpoint's valid signing secrets (`GET …/secret`), current first; older ones expire. */
export interface SigningSecret {
  secret: string;
  createdAt: string | null;
  expiresAt: string | null;
}

export interface PortalLink {
  url: string;
  token: string;
  expiresAt: string;
}

export interface CreatedApiKey {
  id: string;
  key: string;
}

/** What a project's PATCH takes (docs/api.md "Projects"); `null` gives a setting back to the installation. */
export interface ProjectInput {
  name?: string;
  uid?: string | null;
  retrySchedule?: number[] | null;
  enforceCatalog?: boolean;
  backlogLimit?: number | null;
}

/**
 * The installation's delivery settings (`GET /api/v1/installation`): what an endpoint gets when it
 * sets no timeout or schedule (and its project no schedule), and the largest timeout it may set.
 */
export interface DeliverySettings {
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  retrySchedule: number[];
  /** ± share of each retry delay drawn at random (0.2: ±20 %). */
  retryJitter: number;
}
