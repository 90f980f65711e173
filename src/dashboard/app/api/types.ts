/**
 * Shapes of the HTTP API v1 as the dashboard reads them (DESIGN.md "Object shapes"): camelCase JSON,
 * times as ISO-8601 strings. Only what the screens use; the server may send more.
 */

// The wire's primitive types are @herald/client's (type-only: nothing of it reaches the bundle).
export type {
  DeliveryStatus,
  Envelope,
  HttpMethod,
  Json,
  Page,
  RateLimit,
  SignatureConfig,
  SignatureScheme,
  StatsBucket,
} from '@herald/client';

import type { DeliveryStatus, Envelope, HttpMethod, Json, RateLimit, SignatureConfig } from '@herald/client';

export interface Project {
  id: string;
  uid: string | null;
  name: string;
  createdAt: string;
}

export interface EventType {
  name: string;
  description: string;
  schema: Json | null;
  example: Json | null;
  deprecated: boolean;
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
  secret?: string;
}

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

export interface DeliverySummary {
  id: string;
  endpointId: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
}

export interface HeraldEvent {
  id: string;
  projectId: string;
  type: string;
  payload: Json;
  test: boolean;
  createdAt: string;
  deliveries?: DeliverySummary[];
}

export interface Attempt {
  id: string;
  deliveryId: string;
  eventId: string;
  endpointId: string | null;
  eventType?: string;
  number: number;
  startedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string } | null;
  error: { kind: string; message: string } | null;
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
