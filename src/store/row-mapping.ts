/**
 * Row → domain mapping shared by every SQL store. Column names are the same in each backend's
 * schema; only how JSON and boolean columns arrive differs, so each store passes its decoders.
 */

import { parseJsonExact } from '../domain/json-text.ts';
import type {
  ApiKey,
  Attempt,
  Delivery,
  Endpoint,
  EndpointSecret,
  Envelope,
  EventType,
  HeraldEvent,
  Json,
  OperationalEvent,
  Project,
} from '../domain/types.ts';
import { requestJson } from './attempt-bodies.ts';
import type { AttemptRecord } from './store.ts';

export type Row = Record<string, unknown>;

/**
 * An attempt as the column values of its row, in the order of ATTEMPT_COLUMNS (JSON columns as
 * text): the one encoding both stores insert. A body that is the event's envelope is stored as a
 * reference to it (attempt-bodies.ts).
 */
export const ATTEMPT_COLUMNS =
  'project_id, id, delivery_id, event_id, endpoint_id, event_type, number, started_at, duration_ms, outcome, request, response, error';
export function attemptValues(
  rec: Pick<AttemptRecord, 'attempt' | 'requestBodyEnvelope'>,
): (string | number | null)[] {
  const a = rec.attempt;
  const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
  return [
    a.projectId,
    a.id,
    a.deliveryId,
    a.eventId,
    a.endpointId,
    a.eventType,
    a.number,
    a.startedAt,
    Math.round(a.durationMs),
    a.outcome,
    requestJson(a.request, rec.requestBodyEnvelope),
    optJson(a.response),
    optJson(a.error),
  ];
}

/**
 * An endpoint's settings as column values, in the order of ENDPOINT_SETTING_COLUMNS (JSON columns
 * as text; `dev` as the backend stores booleans): what both stores insert and update.
 */
export const ENDPOINT_SETTING_COLUMNS =
  'url, name, description, event_types, method, headers, dev, timeout_ms, envelope, signature, rate_limit, retry_schedule';
export function endpointSettingValues(
  e: Pick<
    Endpoint,
    | 'url'
    | 'name'
    | 'description'
    | 'eventTypes'
    | 'method'
    | 'headers'
    | 'dev'
    | 'timeoutMs'
    | 'envelope'
    | 'signature'
    | 'rateLimit'
    | 'retrySchedule'
  >,
  bool: (value: boolean) => boolean | number,
): unknown[] {
  const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
  return [
    e.url,
    e.name,
    e.description,
    JSON.stringify(e.eventTypes),
    e.method,
    JSON.stringify(e.headers),
    bool(e.dev),
    e.timeoutMs,
    e.envelope,
    JSON.stringify(e.signature),
    optJson(e.rateLimit),
    optJson(e.retrySchedule),
  ];
}

/** The Endpoint field of each of ENDPOINT_SETTING_COLUMNS, in its order. */
const ENDPOINT_SETTING_FIELDS = [
  'url',
  'name',
  'description',
  'eventTypes',
  'method',
  'headers',
  'dev',
  'timeoutMs',
  'envelope',
  'signature',
  'rateLimit',
  'retrySchedule',
] as const;
type EndpointSettings = Parameters<typeof endpointSettingValues>[0];

/**
 * The settings a patch names, as columns and their values (as endpointSettingValues writes them):
 * a write of only those, rather than of every setting of a row read first.
 */
export function endpointSettingPatch(
  patch: Partial<EndpointSettings>,
  bool: (value: boolean) => boolean | number,
): { columns: string[]; values: unknown[] } {
  const names = ENDPOINT_SETTING_COLUMNS.split(', ');
  // The values of the settings the patch leaves out are computed from undefined and dropped.
  const all = endpointSettingValues(patch as EndpointSettings, bool);
  const columns: string[] = [];
  const values: unknown[] = [];
  ENDPOINT_SETTING_FIELDS.forEach((field, i) => {
    if (!Object.hasOwn(patch, field)) return;
    columns.push(names[i]!);
    values.push(all[i]);
  });
  return { columns, values };
}

/** How a backend hands over JSON and boolean columns. */
export interface ColumnDecoders {
  json: <T = Json>(value: unknown) => T;
  bool: (value: unknown) => boolean;
}

const str = (v: unknown): string => String(v);
/** Epoch ms and counters (SQLite gives numbers, pg gives BIGINT as strings). */
export const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
/** `{callbackEnvelope}` when the event's callback has another envelope than standard, else nothing. */
const callbackEnvelopeOf = (r: Row): { callbackEnvelope?: Envelope } => {
  const envelope = r.callback_envelope;
  return envelope === 'raw' || envelope === 'event-data' ? { callbackEnvelope: envelope } : {};
};
/** `{deliveryCount}` when the event's row holds it (NULL: stored before the column), else nothing. */
const deliveryCountOf = (r: Row): { deliveryCount?: number } =>
  r.delivery_count === null || r.delivery_count === undefined
    ? {}
    : { deliveryCount: Number(r.delivery_count) };

export function createRowMappers(decode: ColumnDecoders) {
  const { json, bool } = decode;
  const optJson = <T = Json>(v: unknown): T | null => (v === null || v === undefined ? null : json<T>(v));

  const toProject = (r: Row): Project => ({
    id: str(r.id),
    uid: optStr(r.uid),
    name: str(r.name),
    retrySchedule: optJson<number[]>(r.retry_schedule),
    enforceCatalog: bool(r.enforce_catalog),
    backlogLimit: optNum(r.backlog_limit),
    portalLinksNotBefore: optNum(r.portal_links_not_before),
    portalLinksGeneration: num(r.portal_links_generation),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  });

  const toApiKey = (r: Row): ApiKey => ({
    id: str(r.id),
    projectId: str(r.project_id),
    name: str(r.name),
    scope: str(r.scope),
    prefix: str(r.prefix),
    keyHash: str(r.key_hash),
    createdAt: num(r.created_at),
    lastUsedAt: optNum(r.last_used_at),
  });

  const toEventType = (r: Row): EventType => ({
    name: str(r.name),
    description: str(r.description),
    schema: optJson(r.schema),
    example: optJson(r.example),
    deprecated: bool(r.deprecated),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  });

  const toEndpoint = (r: Row): Endpoint => ({
    id: str(r.id),
    projectId: str(r.project_id),
    url: str(r.url),
    name: str(r.name),
    description: str(r.description),
    eventTypes: json<string[]>(r.event_types),
    method: str(r.method) as Endpoint['method'],
    headers: json<Record<string, string>>(r.headers),
    dev: bool(r.dev),
    timeoutMs: num(r.timeout_ms),
    envelope: str(r.envelope) as Endpoint['envelope'],
    signature: json<Endpoint['signature']>(r.signature),
    rateLimit: optJson<Endpoint['rateLimit']>(r.rate_limit),
    retrySchedule: optJson<number[]>(r.retry_schedule),
    status: str(r.status) as Endpoint['status'],
    disabledReason: optStr(r.disabled_reason),
    disabledAt: optNum(r.disabled_at),
    consecutiveFailures: num(r.consecutive_failures),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  });

  const toSecret = (r: Row): EndpointSecret => ({
    id: str(r.id),
    projectId: str(r.project_id),
    endpointId: str(r.endpoint_id),
    secret: str(r.secret),
    createdAt: num(r.created_at),
    expiresAt: optNum(r.expires_at),
  });

  const toEvent = (r: Row): HeraldEvent => ({
    id: str(r.id),
    projectId: str(r.project_id),
    type: str(r.type),
    payload: json(r.payload),
    test: bool(r.test),
    idempotencyKey: optStr(r.idempotency_key),
    callbackUrl: optStr(r.callback_url),
    ...callbackEnvelopeOf(r),
    ...deliveryCountOf(r),
    createdAt: num(r.created_at),
  });

  /**
   * toEvent for a row whose `payload` is the stored JSON text (PostgreSQL: selected as
   * `payload::text`), decoded only if read: a claim hands the text on instead.
   */
  const toEventLazyPayload = (r: Row): HeraldEvent => {
    let decoded: { value: Json } | null = null;
    return {
      id: str(r.id),
      projectId: str(r.project_id),
      type: str(r.type),
      get payload(): Json {
        decoded ??= { value: parseJsonExact(str(r.payload)) as Json };
        return decoded.value;
      },
      test: bool(r.test),
      idempotencyKey: optStr(r.idempotency_key),
      callbackUrl: optStr(r.callback_url),
      ...callbackEnvelopeOf(r),
      createdAt: num(r.created_at),
    };
  };

  /**
   * A leased delivery is next tried, at the latest, when its lease runs out. SQLite moves the due
   * time by the lease; PostgreSQL keeps it and sets lease_until instead (its migration 0005), so a
   * lease there leaves the indexes alone. Both read the same here. One handed back unsent keeps its
   * due time (its place in the due order) and is held until the hand-back's time (held_until).
   */
  const nextAttemptAt = (r: Row): number | null => {
    if (r.leased_by != null && r.lease_until != null) return num(r.lease_until);
    const due = optNum(r.next_attempt_at);
    return due !== null && r.held_until != null ? Math.max(due, num(r.held_until)) : due;
  };
  /** The lease's end while a worker holds the delivery (SQLite: its due time then), else null. */
  const leasedUntil = (r: Row): number | null => (r.leased_by != null ? nextAttemptAt(r) : null);

  const toDelivery = (r: Row): Delivery => ({
    id: str(r.id),
    projectId: str(r.project_id),
    eventId: str(r.event_id),
    endpointId: optStr(r.endpoint_id),
    url: str(r.url),
    status: str(r.status) as Delivery['status'],
    attempts: num(r.attempts),
    nextAttemptAt: str(r.status) === 'pending' ? nextAttemptAt(r) : null,
    leasedUntil: str(r.status) === 'pending' ? leasedUntil(r) : null,
    lastAttemptAt: optNum(r.last_attempt_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  });

  const toAttempt = (r: Row): Attempt => ({
    id: str(r.id),
    projectId: str(r.project_id),
    deliveryId: str(r.delivery_id),
    eventId: str(r.event_id),
    endpointId: optStr(r.endpoint_id),
    eventType: str(r.event_type),
    number: num(r.number),
    startedAt: num(r.started_at),
    durationMs: num(r.duration_ms),
    outcome: str(r.outcome) as Attempt['outcome'],
    request: json<Attempt['request']>(r.request),
    response: optJson<Attempt['response']>(r.response),
    error: optJson<Attempt['error']>(r.error),
  });

  const toOperationalEvent = (r: Row): OperationalEvent => ({
    id: str(r.id),
    projectId: str(r.project_id),
    type: str(r.type) as OperationalEvent['type'],
    data: json<OperationalEvent['data']>(r.data),
    createdAt: num(r.created_at),
  });

  return {
    toProject,
    toApiKey,
    toEventType,
    toEndpoint,
    toSecret,
    toEvent,
    toEventLazyPayload,
    toDelivery,
    toAttempt,
    toOperationalEvent,
  };
}

/** p95 of a list of numbers (nearest rank), null when empty. */
export function percentile95(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? null;
}
