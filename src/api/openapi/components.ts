/**
 * The OpenAPI document's component schemas: what every response body holds, as serialize.ts and
 * the routes write it (DESIGN "Object shapes"). OpenAPI 3.0 dialect (`nullable: true`, no `type:
 * 'null'`). They are in the document only, never given to Fastify as response schemas, which would
 * re-serialize the bodies (dropping fields, and payload numbers kept exactly as JSON.rawJSON).
 * test/api/openapi-responses.test.ts checks real responses against them, extra fields included.
 */
import {
  API_KEY_SCOPES,
  type ApiKeyScope,
  type DeliveryStatus,
  type EndpointStatus,
  type ErrorKind,
  type OperationalEventType,
} from '../../domain/types.ts';
import { WITHHELD_FROM_REPEATS } from '../accepted-answer.ts';
import { ENVELOPES, HTTP_METHODS, SIGNATURE_SCHEMES } from '../schemas/endpoints.ts';

type Schema = Record<string, unknown>;

/** A string enum; compiles only when `values` are every member of `U`. */
const enumOf =
  <U extends string>() =>
  <const T extends readonly U[]>(values: T & (Exclude<U, T[number]> extends never ? unknown : never)) => ({
    type: 'string',
    enum: values,
  });

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const string = { type: 'string' };
const integer = { type: 'integer' };
const number = { type: 'number' };
const boolean = { type: 'boolean' };
const time = { type: 'string', format: 'date-time' };
const nullable = (schema: Schema) => ({ ...schema, nullable: true });
const described = (description: string, schema: Schema) => ({ ...schema, description });
const arrayOf = (items: Schema) => ({ type: 'array', items });
const stringMap = { type: 'object', additionalProperties: string };
/** Any JSON value (null included). */
const anyJson = (description: string) => ({ description });

/** An object whose properties are all always present, unless `optional` names them. */
function object(properties: Record<string, Schema>, optional: string[] = [], description?: string): Schema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    properties,
  };
}

/** `{data: [item…], nextCursor}`: one page of a list; `order` says how the list answers (docs/api.md "Ids, times, pagination"). */
const page = (item: string, order: string) =>
  object(
    {
      data: arrayOf(ref(item)),
      nextCursor: described('Pass as `?cursor` for the next page; null on the last page', nullable(string)),
    },
    [],
    `One page of ${item} items, ${order}`,
  );

const retrySchedule = described(
  'Delays in seconds, each counted from the attempt before; null: the default',
  nullable(arrayOf(number)),
);

const project = {
  id: string,
  uid: described('Caller-chosen unique id, usable wherever a path says {project}', nullable(string)),
  name: string,
  retrySchedule,
  enforceCatalog: described('Events whose type is not in the catalog are refused (422)', boolean),
  backlogLimit: described(
    "Pending deliveries past which the project's new events get 429 HERALD_ERR_BACKLOG_FULL (set by the admin token only); null: the installation's HERALD_PROJECT_BACKLOG_LIMIT; 0: no limit for this project",
    nullable({ ...integer, minimum: 0 }),
  ),
  createdAt: time,
  updatedAt: time,
};

const apiKey = {
  id: string,
  projectId: string,
  name: string,
  scope: described(
    "What the key may do, fixed when it was made: full (everything in its project), send (send events; read the installation settings and the event catalog), read (GET routes of its project except endpoints' secrets)",
    enumOf<ApiKeyScope>()(API_KEY_SCOPES),
  ),
  prefix: string,
  createdAt: time,
  lastUsedAt: described(
    'When the key last authenticated a request, to the minute; null: never',
    nullable(time),
  ),
};

const endpoint = {
  id: string,
  projectId: string,
  url: string,
  name: string,
  description: string,
  eventTypes: described('Event types delivered (matched exactly); empty: every type', arrayOf(string)),
  method: enumOf<(typeof HTTP_METHODS)[number]>()(HTTP_METHODS),
  headers: described('Custom headers added to every request', stringMap),
  dev: described('Receives test events', boolean),
  active: described('status is active', boolean),
  timeoutMs: integer,
  envelope: enumOf<(typeof ENVELOPES)[number]>()(ENVELOPES),
  signature: object(
    {
      scheme: enumOf<(typeof SIGNATURE_SCHEMES)[number]>()(SIGNATURE_SCHEMES),
      signatureHeader: string,
      timestampHeader: string,
      encoding: { type: 'string', enum: ['hex', 'base64'] },
      key: described('Static key instead of the secret (hmac-sha1-url)', string),
    },
    ['signatureHeader', 'timestampHeader', 'encoding', 'key'],
  ),
  rateLimit: nullable(object({ perSecond: number, burst: integer }, ['burst'])),
  retrySchedule,
  status: enumOf<EndpointStatus>()(['active', 'disabled']),
  disabledReason: described('consecutive_failures, gone (a 410) or manual', nullable(string)),
  disabledAt: nullable(time),
  consecutiveFailures: integer,
  createdAt: time,
  updatedAt: time,
};

const resumed = described('Parked deliveries made due again', integer);

const delivery = {
  id: string,
  eventId: string,
  endpointId: described('null for a callbackUrl delivery', nullable(string)),
  url: string,
  status: enumOf<DeliveryStatus>()(['pending', 'succeeded', 'failed', 'parked']),
  attempts: described('Attempts made so far', integer),
  nextAttemptAt: described(
    'When the next attempt is due (pending), else null; while inFlight, the end of the lease of the worker that holds it',
    nullable(time),
  ),
  inFlight: described(
    'A worker holds it: an attempt is under way or about to start, and its record will settle the delivery',
    boolean,
  ),
  lastAttemptAt: nullable(time),
  createdAt: time,
};

const event = {
  id: string,
  projectId: string,
  type: string,
  payload: anyJson('As sent; numbers keep the digits they were sent with'),
  test: boolean,
  idempotencyKey: nullable(string),
  callbackUrl: nullable(string),
  callbackEnvelope: described(
    "The callbackUrl delivery's envelope (standard unless the event named another); null without a callbackUrl",
    nullable({ type: 'string', enum: ['standard', 'event-data', 'raw', null] }),
  ),
  deliveryCount: described(
    'How many deliveries the event has (set when it is accepted, one more per delivery a replay adds); null for events stored before Herald counted them',
    nullable(integer),
  ),
  createdAt: time,
};

/** A repeat answered to a `send` key (accepted-answer.ts repeatJson): the event without what it carried. */
const {
  payload: _payload,
  callbackUrl: _callbackUrl,
  callbackEnvelope: _callbackEnvelope,
  ...eventWithheld
} = event;

const httpMessage = { headers: stringMap, body: described('The body as text', string) };

const attempt = {
  id: string,
  projectId: string,
  deliveryId: string,
  eventId: string,
  endpointId: nullable(string),
  eventType: string,
  number: described('1 for the first try', integer),
  startedAt: time,
  durationMs: number,
  outcome: enumOf<'succeeded' | 'failed'>()(['succeeded', 'failed']),
  request: object({
    method: enumOf<(typeof HTTP_METHODS)[number]>()(HTTP_METHODS),
    url: string,
    ...httpMessage,
  }),
  response: described(
    'What came back (body cut at 64 KiB); null when no response did',
    nullable(object({ status: integer, ...httpMessage })),
  ),
  error: nullable(
    object({
      kind: enumOf<ErrorKind>()([
        'timeout',
        'connect',
        'dns',
        'tls',
        'blocked',
        'http_status',
        'reset',
        'protocol',
        'internal',
      ]),
      message: string,
    }),
  ),
};

const secret = object({
  secret: string,
  createdAt: time,
  expiresAt: described('null: current', nullable(time)),
});

/** `components.schemas` of the document, by name. */
export const COMPONENT_SCHEMAS = {
  Error: object(
    {
      error: object(
        {
          code: described('Stable, e.g. HERALD_ERR_VALIDATION (docs/api.md "Errors")', {
            type: 'string',
            pattern: '^HERALD_ERR_[A-Z_]+$',
          }),
          message: string,
          details: {
            type: 'object',
            description: 'For bad input, the field at fault; more keys for some codes',
            properties: {
              field: described('body.url, querystring.limit, headers.idempotency-key…', string),
            },
            additionalProperties: true,
          },
          requestId: described(
            '5xx only: the request id, also sent as the X-Request-Id header of every answer; quote it when reporting a failure (the server log line has it as reqId)',
            string,
          ),
        },
        ['details', 'requestId'],
      ),
    },
    [],
    'Every error: a stable code, a message, and details for some',
  ),
  Project: object(project),
  ProjectPage: page('Project', 'newest first'),
  ApiKey: object(apiKey, [], 'A project API key, without the key'),
  ApiKeyWithKey: object({ ...apiKey, key: string }, [], 'A new API key: the key is shown this once'),
  ApiKeyPage: page('ApiKey', 'newest first: every key of the project in one page (nextCursor null)'),
  EventType: object({
    name: string,
    description: string,
    schema: anyJson('JSON Schema of the payload (documentation only), or null'),
    example: anyJson('What test sends deliver, or null'),
    deprecated: boolean,
    createdAt: time,
    updatedAt: time,
  }),
  EventTypePage: page('EventType', 'by name (in code point order)'),
  Endpoint: object(endpoint),
  EndpointWithSecret: object({ ...endpoint, secret: string }, [], 'A new endpoint, with its secret'),
  EndpointEnabled: object({ ...endpoint, resumed }, [], 'An endpoint re-enabled'),
  EndpointUpdated: object(
    { ...endpoint, resumed },
    ['resumed'],
    'An endpoint changed; resumed is there when the change re-enabled it',
  ),
  EndpointPage: page('Endpoint', 'newest first'),
  EndpointSecrets: object(
    {
      ...endpoint,
      secret: described('The current secret', string),
      secrets: described('Every secret valid now, current first', arrayOf(secret)),
    },
    [],
    'An endpoint with its secret (GET …/secret, a rotation) and every secret valid now',
  ),
  Recovered: object({
    recovered: described('Failed deliveries made due again', integer),
    nextSince: described(
      'Null when every failed delivery of the range was looked at; else the request ran out of time (about 20 s) and this is the creation time of the last one it looked at, or the endpoint was disabled meanwhile and this is where the recover stopped: recover again with it as since',
      nullable(time),
    ),
  }),
  Replayed: object({
    replayed: described('Deliveries made, pending and due now', integer),
    nextSince: described(
      'Null when every event of the range was looked at; else where the replay stopped (the time of the first event left once HERALD_MAX_DELIVERIES_PER_REQUEST were made, or of the last one looked at when the endpoint was disabled meanwhile or the request ran out of time, about 20 s): replay again with it as since',
      nullable(time),
    ),
  }),
  TestSend: object({ eventId: string, deliveryId: string, eventType: string }),
  StatsBucket: object({
    start: time,
    succeeded: integer,
    failed: integer,
    avgDurationMs: nullable(number),
    p95DurationMs: nullable(number),
  }),
  EndpointStats: object({ data: arrayOf(ref('StatsBucket')), bucketMs: integer }),
  Delivery: object(delivery),
  Event: object(event, [], 'An event as listed, without its deliveries'),
  EventWithDeliveries: object({ ...event, deliveries: arrayOf(ref('Delivery')) }),
  // GET …/events/:event answers either shape: ?deliveries=false leaves the deliveries out.
  EventRead: {
    description:
      'The event with its deliveries; with ?deliveries=false, the event alone, as the list gives it',
    oneOf: [ref('EventWithDeliveries'), ref('Event')],
  },
  EventWithheld: object(
    {
      ...eventWithheld,
      deliveries: described('Always empty: where the deliveries stand is withheld', {
        ...arrayOf(ref('Delivery')),
        maxItems: 0,
      }),
      withheld: described(
        'The fields left out (deliveries: emptied)',
        arrayOf({ type: 'string', enum: [...WITHHELD_FROM_REPEATS] }),
      ),
    },
    [],
    "A repeated idempotency key answered to a key of scope send: the original event's id, type and time, without what the key may not read (the original may be another sender's)",
  ),
  // POST …/events answers either shape: the whole event, or a repeat withheld from a send key.
  EventAccepted: {
    description:
      'The event and its deliveries; a repeated idempotency key sent with a key of scope send is answered EventWithheld',
    oneOf: [ref('EventWithDeliveries'), ref('EventWithheld')],
  },
  EventBatch: object({ data: described('In request order', arrayOf(ref('EventAccepted'))) }),
  EventPage: page('Event', 'newest first'),
  DeliveryPage: page('Delivery', 'oldest first (by id), as GET …/events/{event} lists them'),
  EndpointDeliveryPage: object(
    {
      data: arrayOf(ref('Delivery')),
      nextCursor: described('Pass as `?cursor` for the next page; null on the last page', nullable(string)),
      counts: described(
        'On the first page only (no cursor): the endpoint’s pending and parked deliveries, each counted up to atMost (a count equal to it means at least that many)',
        object({ pending: integer, parked: integer, atMost: integer }),
      ),
    },
    ['counts'],
    'One page of what waits for the endpoint, in due order',
  ),
  Attempt: object(attempt),
  AttemptPage: page('Attempt', 'newest first (by when each started)'),
  OperationalEvent: object({
    id: string,
    projectId: string,
    type: enumOf<OperationalEventType>()(['endpoint.disabled', 'endpoint.recovered', 'delivery.exhausted']),
    data: {
      type: 'object',
      additionalProperties: true,
      description: 'By type: docs/api.md "Operational events"',
    },
    createdAt: time,
  }),
  OperationalEventPage: page('OperationalEvent', 'newest first'),
  PortalLink: object({ url: string, token: string, expiresAt: time, projectId: string }),
  Installation: object(
    {
      delivery: object({
        defaultTimeoutMs: described('Per-attempt timeout of an endpoint that sets none', integer),
        maxTimeoutMs: described('Largest timeoutMs an endpoint may set (the smallest is 100)', integer),
        retrySchedule: described(
          'Delays in seconds between attempts when neither the endpoint nor its project sets a schedule',
          arrayOf(number),
        ),
        retryJitter: described('± share of each delay drawn at random (0.2: ±20 %)', number),
      }),
      requests: object({
        maxBodyBytes: described(
          'Largest request body in bytes (HERALD_MAX_BODY_BYTES); a larger one is refused 413 HERALD_ERR_BODY_TOO_LARGE',
          integer,
        ),
      }),
    },
    [],
    'Settings of this installation that shape endpoints and requests (HERALD_DELIVERY_TIMEOUT_MS, HERALD_MAX_BODY_BYTES, …); nothing secret',
  ),
  Health: object({ status: { type: 'string', enum: ['ok'] } }),
  Readiness: object({
    status: {
      type: 'string',
      enum: [
        'ready',
        'starting',
        'stopping',
        'database unreachable',
        'database read-only',
        'database file deleted or replaced',
        'secrets sealed with another key',
      ],
    },
  }),
} satisfies Record<string, Schema>;

export type ComponentName = keyof typeof COMPONENT_SCHEMAS;
