/**
 * What each operation answers, for the OpenAPI document: its success status and body, and the
 * errors particular to it (403, 409, 422). The errors every route of its kind answers (400, 401,
 * 404, 413, 415, 429, 503) are added by describe-responses.ts, as shared responses. Keyed `method path`, as the document
 * names operations. test/api/openapi-responses.test.ts calls every route and checks each answer
 * against what this says.
 */
import { type ComponentName, ref } from './components.ts';
import { errorResponse } from './error-responses.ts';

export interface OperationResponses {
  status: 200 | 201 | 202 | 204;
  /** The success body's schema; null: no body (204), or text (`text`). */
  body: ComponentName | null;
  /** The success body is text/plain. */
  text?: boolean;
  description: string;
  /** Headers of the success response, as OpenAPI header objects. */
  headers?: Record<string, unknown>;
  /** false: the path's parameters name nothing that must exist (an upsert), so no 404. */
  notFound?: false;
  /** Answers 403 HERALD_ERR_FORBIDDEN: why. */
  forbidden?: string;
  /** Answers 409: when. */
  conflict?: string;
  /** Answers 422 HERALD_ERR_UNPROCESSABLE: when. */
  unprocessable?: string;
  /** Other responses, as OpenAPI response objects, by status. */
  other?: Record<string, unknown>;
}

const ADMIN_ONLY = 'the route needs the admin token';
const SINCE_AFTER_UNTIL = 'since is after until (querystring.since)';
const ENDPOINT_DISABLED = 'HERALD_ERR_ENDPOINT_DISABLED: the endpoint is disabled; enable it first';

const P = '/api/v1/projects/{project}';
const EP = `${P}/endpoints/{endpoint}`;

export const OPERATIONS: Record<string, OperationResponses> = {
  'post /api/v1/projects': {
    status: 201,
    body: 'Project',
    description: 'The project',
    forbidden: ADMIN_ONLY,
    conflict: 'HERALD_ERR_CONFLICT: the uid is taken (details.field: body.uid)',
  },
  'get /api/v1/projects': {
    status: 200,
    body: 'ProjectPage',
    description: 'A page of projects',
    forbidden: ADMIN_ONLY,
  },
  [`get ${P}`]: { status: 200, body: 'Project', description: 'The project' },
  [`patch ${P}`]: {
    status: 200,
    body: 'Project',
    description: 'The project as changed',
    forbidden: 'a project key may not set body.backlogLimit, nor change body.uid (the admin token only)',
    conflict: 'HERALD_ERR_CONFLICT: the uid is taken (details.field: body.uid)',
  },
  [`delete ${P}`]: {
    status: 204,
    body: null,
    description: 'Deleted, with everything it owned',
    forbidden: ADMIN_ONLY,
  },
  [`post ${P}/api-keys`]: {
    status: 201,
    body: 'ApiKeyWithKey',
    description: 'The key',
    forbidden: ADMIN_ONLY,
  },
  [`get ${P}/api-keys`]: {
    status: 200,
    body: 'ApiKeyPage',
    description: 'Every key of the project (one page)',
  },
  [`delete ${P}/api-keys/{key}`]: {
    status: 204,
    body: null,
    description: 'Revoked',
  },
  'put /api/v1/event-types/{name}': {
    status: 200,
    body: 'EventType',
    description: 'The catalog entry as stored',
    notFound: false,
    forbidden: ADMIN_ONLY,
    conflict:
      "HERALD_ERR_CONFLICT: the entry's stored schema (example) changed 3 times while this PUT's example (schema) was checked against it (details.field: body.example or body.schema): send it again",
    unprocessable:
      'the example does not match the schema (body.example), or a new schema does not match the stored example (body.schema)',
  },
  'get /api/v1/event-types': { status: 200, body: 'EventTypePage', description: 'A page of the catalog' },
  'get /api/v1/event-types/{name}': { status: 200, body: 'EventType', description: 'The catalog entry' },
  'get /api/v1/installation': {
    status: 200,
    body: 'Installation',
    description: 'The delivery settings endpoints get when they set none, and the largest timeout',
  },
  [`post ${P}/endpoints`]: {
    status: 201,
    body: 'EndpointWithSecret',
    description: 'The endpoint, with its secret',
    unprocessable:
      'the URL is an address delivery may not reach, the signature cannot work with the method or has an option its scheme does not take (body.signature.<option>), the secret does not suit the scheme, or (a project with enforceCatalog) an eventTypes entry is not in the catalog (body.eventTypes.<i>)',
  },
  [`get ${P}/endpoints`]: { status: 200, body: 'EndpointPage', description: 'A page of endpoints' },
  [`get ${EP}`]: { status: 200, body: 'Endpoint', description: 'The endpoint' },
  [`patch ${EP}`]: {
    status: 200,
    body: 'EndpointUpdated',
    description: 'The endpoint as changed; with resumed when `active: true` re-enabled it',
    unprocessable:
      'the URL is an address delivery may not reach, the signature cannot work with the method or has an option its scheme does not take (body.signature.<option>), a new scheme cannot sign with the current secret (body.signature.scheme), (a project with enforceCatalog) an eventTypes entry is not in the catalog (body.eventTypes.<i>), or a new method or scheme does not fit the kept custom Content-Type (details.headers names it)',
  },
  [`delete ${EP}`]: { status: 204, body: null, description: 'Deleted; its history is kept' },
  [`get ${EP}/secret`]: {
    status: 200,
    body: 'EndpointSecrets',
    description: 'The endpoint with its secret and the secrets valid now',
  },
  [`post ${EP}/secret/rotate`]: {
    status: 200,
    body: 'EndpointSecrets',
    description: 'The endpoint with its new secret, and the secrets valid now, the new one first',
    conflict: 'HERALD_ERR_CONFLICT: the secret given is already the current one (details.field: body.secret)',
    unprocessable: 'the secret given does not suit the endpoint’s scheme (body.secret)',
  },
  [`post ${EP}/enable`]: {
    status: 200,
    body: 'EndpointEnabled',
    description: 'The endpoint, active, and how many parked deliveries resumed',
  },
  [`post ${EP}/recover`]: {
    status: 202,
    body: 'Recovered',
    description:
      'How many failed deliveries were made due again, and where to go on when the time, or a disable of the endpoint meanwhile, cut it short',
    conflict: ENDPOINT_DISABLED,
    unprocessable: 'since is after until (body.since)',
  },
  [`post ${EP}/replay`]: {
    status: 202,
    body: 'Replayed',
    description:
      'How many deliveries were made for events the endpoint had none for, and where to go on when the limit or the time cut it short',
    conflict: ENDPOINT_DISABLED,
    unprocessable: 'since is after until (body.since)',
  },
  [`post ${EP}/test`]: {
    status: 202,
    body: 'TestSend',
    description: 'The test event and its delivery, stored',
    conflict: ENDPOINT_DISABLED,
    unprocessable: 'no example to send (body.eventType)',
  },
  [`get ${EP}/attempts`]: {
    status: 200,
    body: 'AttemptPage',
    description: 'A page of the endpoint’s attempts, newest first',
    unprocessable: SINCE_AFTER_UNTIL,
  },
  [`get ${EP}/stats`]: {
    status: 200,
    body: 'EndpointStats',
    description: 'Attempts per time bucket',
    unprocessable: `${SINCE_AFTER_UNTIL}, or too many buckets for the range (querystring.bucket)`,
  },
  [`post ${P}/events`]: {
    status: 202,
    body: 'EventAccepted',
    description:
      'The event and its deliveries, stored; for a repeated idempotency key, the original event (Idempotent-Replayed: true), which a key of scope send is answered without its payload, callbackUrl and deliveries (EventWithheld)',
    headers: {
      'Idempotent-Replayed': {
        description: '`true` when the idempotency key was seen before: nothing was created',
        schema: { type: 'string', enum: ['true'] },
      },
    },
    unprocessable:
      'the type is not in the catalog the project enforces, or the callbackUrl is an address delivery may not reach',
  },
  [`post ${P}/events/batch`]: {
    status: 202,
    body: 'EventBatch',
    description: 'Every event and its deliveries, stored, in request order',
    unprocessable:
      'an event’s type is not in the catalog the project enforces, or its callbackUrl is an address delivery may not reach (body.events.<i>…)',
  },
  [`get ${P}/events`]: {
    status: 200,
    body: 'EventPage',
    description: 'A page of events, newest first, without deliveries',
    unprocessable: SINCE_AFTER_UNTIL,
  },
  [`get ${P}/events/{event}`]: {
    status: 200,
    body: 'EventRead',
    description:
      'The event with each delivery’s status; with ?deliveries=false, the event alone (deliveryCount, no deliveries field)',
  },
  [`get ${P}/events/{event}/deliveries`]: {
    status: 200,
    body: 'DeliveryPage',
    description:
      'A page of the event’s deliveries in id order (as the event lists them), optionally in one status',
  },
  [`get ${P}/events/{event}/attempts`]: {
    status: 200,
    body: 'AttemptPage',
    description: 'A page of the event’s attempts, newest first',
  },
  [`get ${P}/endpoints/{endpoint}/deliveries`]: {
    status: 200,
    body: 'EndpointDeliveryPage',
    description:
      'A page of the endpoint’s pending (or parked) deliveries in due order; the first page also counts both',
  },
  [`get ${P}/deliveries/{delivery}`]: {
    status: 200,
    body: 'Delivery',
    description: 'The delivery, as its event lists it: status, attempts so far, next attempt, in flight',
  },
  [`post ${P}/deliveries/{delivery}/retry`]: {
    status: 202,
    body: 'Delivery',
    description: 'The delivery, pending and due now',
    conflict:
      'HERALD_ERR_ENDPOINT_DISABLED or HERALD_ERR_ENDPOINT_DELETED: its endpoint is disabled or gone; HERALD_ERR_DELIVERY_IN_FLIGHT: an attempt of it is being sent',
  },
  [`get ${P}/attempts/{attempt}`]: {
    status: 200,
    body: 'Attempt',
    description: 'The attempt: request sent, response, error',
  },
  [`get ${P}/operational-events`]: {
    status: 200,
    body: 'OperationalEventPage',
    description: 'A page of operational events, newest first',
  },
  [`post ${P}/portal-links`]: {
    status: 201,
    body: 'PortalLink',
    description: 'The link and its token',
  },
  [`delete ${P}/portal-links`]: {
    status: 204,
    body: null,
    description:
      'Revoked: every link of the project issued until now is refused (401) from now on, by every process; links created afterwards work',
  },
  'get /healthz': { status: 200, body: 'Health', description: 'The process is alive' },
  'get /readyz': {
    status: 200,
    body: 'Readiness',
    description: 'Started, and the database answers',
    other: {
      503: {
        description:
          'Not ready: starting (or stopping); the database unreachable, read-only (a standby), or (SQLite) its file deleted or replaced; or the endpoint secrets sealed with another encryption key than this process has. A request reaching a process that is shutting down gets HERALD_ERR_SHUTTING_DOWN',
        content: { 'application/json': { schema: { oneOf: [ref('Readiness'), ref('Error')] } } },
      },
    },
  },
  'get /metrics': {
    status: 200,
    body: null,
    text: true,
    description: 'Prometheus text format',
    other: { 404: errorResponse('HERALD_ERR_NOT_FOUND: this process serves no metrics') },
  },
};
