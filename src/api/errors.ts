/**
 * The API's errors: one base class, one subclass per kind, stable codes (`HERALD_ERR_…`), an HTTP
 * status, `cause` kept. The error handler turns every failure into
 * `{"error": {"code", "message", "details"?}}`; bad input never becomes a 5xx.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isParentRowGone } from '../store/store-unavailable.ts';
import { connectionOf, trackConnectionRequests } from './connection-requests.ts';
import { drainIdleConnectionsOnClose } from './drain-idle-connections.ts';
import { LINE_INTERVAL_MS, lineDue } from './line-throttle.ts';
import { isLingering, lingerThenClose } from './lingering-close.ts';
import { noStoreForApi } from './no-store.ts';
import { SEGMENT_TOO_LONG } from './path-segment-length.ts';
import { REQUEST_ID_HEADER, serverErrorBody } from './request-id.ts';
import { storeUnavailable, throttledLog } from './store-failure-answers.ts';
import { logUnauthorized } from './unauthorized-log.ts';
import { logUnhandledError } from './unhandled-error-log.ts';
import { validationWords } from './validation-words.ts';

// Not `import … from 'node:http'`: Node fills an ES module's view of node:http by reading every
// export, which loads its built-in fetch (undici, ~0.03 s of CPU at start) for http.WebSocket and
// friends. Fastify's require() of it does not.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export interface HeraldErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Sent as the Retry-After header (seconds): nothing was stored, send the same request then. */
  retryAfterSeconds?: number;
}

/** Any error the API answers on purpose: `status` and `code` go to the client as they are. */
export class HeraldError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, code: string, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** 404: the resource does not exist, or belongs to a project the caller may not see. */
export class NotFoundError extends HeraldError {
  constructor(what: string, options?: HeraldErrorOptions) {
    super(404, 'HERALD_ERR_NOT_FOUND', `${what} not found`, options);
    this.name = 'NotFoundError';
  }
}

/** 401: no bearer token, or one that is not valid. */
export class UnauthorizedError extends HeraldError {
  constructor() {
    super(401, 'HERALD_ERR_UNAUTHORIZED', 'missing or invalid bearer token (Authorization: Bearer <token>)');
    this.name = 'UnauthorizedError';
  }
}

/** 403: a valid token that may not do this (a project key on an operator route). */
export class ForbiddenError extends HeraldError {
  constructor(message = 'this route needs the admin token', options: HeraldErrorOptions = {}) {
    super(403, 'HERALD_ERR_FORBIDDEN', message, options);
    this.name = 'ForbiddenError';
  }
}

/** 400: input that is malformed (wrong type, out of range, bad URL or time); names the field. */
export class ValidationError extends HeraldError {
  readonly field: string;
  constructor(field: string, message: string, options: HeraldErrorOptions = {}) {
    super(400, 'HERALD_ERR_VALIDATION', `${field}: ${message}`, {
      ...options,
      details: { field, ...options.details },
    });
    this.name = 'ValidationError';
    this.field = field;
  }
}

/** 422: well-formed input Herald cannot act on (unknown type under an enforced catalog, no example…). */
export class UnprocessableError extends HeraldError {
  readonly field: string;
  constructor(field: string, message: string, options: HeraldErrorOptions = {}) {
    super(422, 'HERALD_ERR_UNPROCESSABLE', `${field}: ${message}`, {
      ...options,
      details: { field, ...options.details },
    });
    this.name = 'UnprocessableError';
    this.field = field;
  }
}

/** 409: the request clashes with the current state (uid taken, endpoint disabled…). */
export class ConflictError extends HeraldError {
  constructor(message: string, options: HeraldErrorOptions & { code?: string } = {}) {
    super(409, options.code ?? 'HERALD_ERR_CONFLICT', message, options);
    this.name = 'ConflictError';
  }
}

/**
 * 409 `HERALD_ERR_ENDPOINT_DISABLED`: a manual lever (retry, recover, test send) on a disabled
 * endpoint, whatever disabled it (`active: false`, failures, a 410): the deliveries it made due
 * would be parked again at once. Enable the endpoint first.
 */
export function endpointDisabled(endpoint: { id: string }): ConflictError {
  return new ConflictError('the endpoint is disabled: enable it first', {
    code: 'HERALD_ERR_ENDPOINT_DISABLED',
    details: { endpointId: endpoint.id },
  });
}

/**
 * 413 `HERALD_ERR_TOO_MANY_DELIVERIES`: the request's events would create more deliveries than
 * HERALD_MAX_DELIVERIES_PER_REQUEST (the store counted them on the fan-out it would write, and
 * stored nothing). Sending it again does not help: fewer events per request, or a higher setting.
 */
export function tooManyDeliveries(
  field: 'body' | 'body.events',
  counted: { limit: number; deliveries: number },
): HeraldError {
  const { limit, deliveries } = counted;
  const what =
    field === 'body'
      ? `this event would create ${deliveries} deliveries (one per matching endpoint, plus its callbackUrl)`
      : `these events would create ${deliveries} deliveries (one per matching endpoint of each event, plus one per callbackUrl)`;
  const todo =
    field === 'body'
      ? 'the project has more matching endpoints than one event may reach: narrow their eventTypes, or have the operator raise HERALD_MAX_DELIVERIES_PER_REQUEST'
      : 'send fewer events per request, or have the operator raise HERALD_MAX_DELIVERIES_PER_REQUEST';
  return new HeraldError(
    413,
    'HERALD_ERR_TOO_MANY_DELIVERIES',
    `${field}: ${what}, over the limit of ${limit} per request (HERALD_MAX_DELIVERIES_PER_REQUEST); nothing of this request was stored: ${todo}`,
    { details: { field, limit, deliveries } },
  );
}

/** Retry-After of a schema check this server was too busy to run: as its other HERALD_ERR_BUSY answers. */
export const SCHEMA_CHECK_BUSY_RETRY_AFTER_S = 1;

/**
 * 503 `HERALD_ERR_BUSY`: the schema check of `field` could not be run now (it did not end within its
 * wall-clock bound, the machine too busy to give it its CPU time, or its child process did not
 * start). That is this server's state, not the input's: nothing was stored; send it again.
 */
export function schemaCheckBusy(field: string, message: string): HeraldError {
  return new HeraldError(503, 'HERALD_ERR_BUSY', `${field}: ${message}`, {
    retryAfterSeconds: SCHEMA_CHECK_BUSY_RETRY_AFTER_S,
  });
}

export const invalid = (field: string, message: string) => new ValidationError(field, message);
export const unprocessable = (field: string, message: string) => new UnprocessableError(field, message);
export const conflict = (field: string, message: string, cause?: unknown) =>
  new ConflictError(message, { details: { field }, cause });

/** Fastify's own error codes → ours (all client mistakes: never a 5xx). */
const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'HERALD_ERR_BODY_TOO_LARGE'], // over config.maxBodyBytes
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE'], // not application/json
  // Content-type JSON and no body; not raised since body-parsers.ts emptyBodyAsNone takes it as no body.
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'HERALD_ERR_MALFORMED_JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'HERALD_ERR_BAD_REQUEST'], // length header ≠ body
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'HERALD_ERR_MALFORMED_JSON'], // JSON.parse failed
};

/** Schema failures are 400 naming the field, in words (validation-words.ts). */
function fromValidation(error: FastifyError): HeraldError {
  const { field, message, details } = validationWords(error.validation?.[0], error.validationContext);
  return new ValidationError(field, message, { cause: error, ...(details ? { details } : {}) });
}

/** Any thrown value → the HeraldError the client sees; null for a genuine server fault. */
export function toHeraldError(error: unknown): HeraldError | null {
  if (error instanceof HeraldError) return error;
  const e = error as Partial<FastifyError>;
  if (e.validation) return fromValidation(e as FastifyError);
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new HeraldError(mapped[0], mapped[1], e.message ?? 'bad request', { cause: error });
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code =
      error instanceof SyntaxError || /JSON/i.test(e.message ?? '')
        ? 'HERALD_ERR_MALFORMED_JSON'
        : 'HERALD_ERR_BAD_REQUEST';
    return new HeraldError(status, code, e.message ?? 'bad request', { cause: error });
  }
  return null;
}

/**
 * A body over the route's limit: Fastify's own message ("Request body is too large") names neither
 * the limit nor what to do, and a client sending batches needs both.
 */
function bodyTooLarge(error: unknown, request: FastifyRequest): HeraldError | null {
  if ((error as Partial<FastifyError>).code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return null;
  const limitBytes = request.routeOptions.bodyLimit;
  // A batch can be split; one event (or endpoint, or catalog entry) cannot: it must be smaller.
  const what = request.routeOptions.url?.endsWith('/events/batch')
    ? 'send the batch as several smaller requests'
    : 'send less in it, or have the operator raise the limit';
  return new HeraldError(
    413,
    'HERALD_ERR_BODY_TOO_LARGE',
    `body: larger than the limit of ${limitBytes} bytes (HERALD_MAX_BODY_BYTES); ${what}`,
    { details: { field: 'body', limitBytes }, cause: error },
  );
}

/** What a body may be sent as (build-app.ts registers a parser for it alone). */
const ACCEPTED_CONTENT_TYPES = ['application/json'] as const;

/**
 * A body of a type no parser takes (a form, text…), or a body without a Content-Type: Fastify's own
 * message ("Unsupported Media Type") does not say what to send instead.
 */
function unsupportedMediaType(error: unknown): HeraldError | null {
  if ((error as Partial<FastifyError>).code !== 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return null;
  return new HeraldError(
    415,
    'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE',
    `headers.content-type: must be ${ACCEPTED_CONTENT_TYPES.join(' or ')} (with no charset, or charset=utf-8): the body must be JSON`,
    { details: { field: 'headers.content-type', accepted: [...ACCEPTED_CONTENT_TYPES] }, cause: error },
  );
}

/**
 * A route that needs a body got none (no body, or an empty one: body-parsers.ts emptyBodyAsNone).
 * Ajv's own word would be `body: must be object`; this says the body is missing, and what it must hold.
 */
function missingBody(error: unknown, request: FastifyRequest): HeraldError | null {
  const e = error as Partial<FastifyError>;
  if (!e.validation || e.validationContext !== 'body' || request.body !== undefined) return null;
  const required = (request.routeOptions.schema?.body as { required?: unknown } | undefined)?.required;
  const fields = Array.isArray(required) && required.length > 0 ? ` with ${required.join(', ')}` : '';
  return new ValidationError('body', `is required: send a JSON object${fields}`, { cause: error });
}

/**
 * A query parameter sent more than once (`?limit=1&limit=2`): the query parser makes it an array,
 * and the schema's word for that would be `must be a string`. Says what happened instead, for any
 * parameter of any route.
 */
function repeatedQueryParameter(error: unknown, request: FastifyRequest): HeraldError | null {
  const e = error as Partial<FastifyError>;
  if (!e.validation || e.validationContext !== 'querystring') return null;
  const { field } = validationWords(e.validation[0], 'querystring');
  const name = field.slice('querystring.'.length);
  const value = name ? (request.query as Record<string, unknown> | undefined)?.[name] : undefined;
  if (!Array.isArray(value)) return null;
  return new ValidationError(field, `was given ${value.length} times: send it once`, { cause: error });
}

/**
 * A write that lost a race with a delete: the route found its project (and endpoint), and the store
 * then found the row gone (a foreign key violation, SQLite or PostgreSQL). Answered with the 404 a
 * request sent after the delete gets: the endpoint when the route names one (deleted with its
 * project, or on its own), else the project. One place for every write keyed by a project.
 */
function parentGone(error: unknown, request: FastifyRequest): HeraldError | null {
  if (!isParentRowGone(error)) return null;
  const params = (request.params ?? {}) as Record<string, unknown>;
  return new NotFoundError(params.endpoint !== undefined ? 'endpoint' : 'project', { cause: error });
}

/** The request announces a body (a length other than 0, or chunks). */
export const hasBody = (request: FastifyRequest) =>
  request.headers['transfer-encoding'] !== undefined || (request.headers['content-length'] ?? '0') !== '0';

/** Fastify error handler: `{"error": {"code", "message", "details"?}}` for everything, and `requestId` in a 5xx's. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const known =
    parentGone(error, request) ??
    bodyTooLarge(error, request) ??
    unsupportedMediaType(error) ??
    missingBody(error, request) ??
    repeatedQueryParameter(error, request) ??
    toHeraldError(error);
  // Refused before its body was read (a wrong token, a content type not taken): kept alive, the
  // connection would have the server read and discard the whole body first (100 MB announced by a
  // stranger: 100 MB read for a 401). Closed, a refusal costs no more than the headers. A body
  // already read (a validation error) keeps its connection.
  if (!request.raw.complete && hasBody(request)) reply.header('connection', 'close');
  if (known) {
    if (known.status === 401) logUnauthorized(request); // throttled: unauthorized-log.ts
    if (known.retryAfterSeconds !== undefined) reply.header('retry-after', String(known.retryAfterSeconds));
    const body = {
      code: known.code,
      message: known.message,
      ...(known.details ? { details: known.details } : {}),
    };
    return reply
      .code(known.status)
      .send(known.status >= 500 ? serverErrorBody(request, body) : { error: body });
  }
  // The database could not take the write; nothing of the request was stored, so the client may
  // send it again (an event keeps its idempotency key's meaning): 503 with a hint, not a 500.
  const unavailable = storeUnavailable(error, request.method);
  if (unavailable) {
    const { code, message, retryAfterS, details, log } = unavailable;
    if (log.throttled) throttledLog(request, error, log.level, log.throttled);
    else request.log[log.level]({ err: error }, message);
    return reply
      .code(503)
      .header('retry-after', String(retryAfterS))
      .send(serverErrorBody(request, details ? { code, message, details } : { code, message }));
  }
  logUnhandledError(request, error);
  return reply
    .code(500)
    .send(serverErrorBody(request, { code: 'HERALD_ERR_INTERNAL', message: 'internal error' }));
}

/**
 * No route for this method and path. The path is not repeated back: a misplaced credential
 * (`/api/v1/projects/hk_…/…`) would otherwise come back in the error message.
 */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({
    error: {
      code: 'HERALD_ERR_NOT_FOUND',
      message: `no ${request.method} route at this path (the API is listed at /openapi.json)`,
    },
  });
}

/** Retry-After of the 503 a closing server answers: another instance, or this one restarted, takes it. */
const SHUTTING_DOWN_RETRY_AFTER_S = 1;

/**
 * Requests that reach a server after it began to close (a kept-alive connection still in use, or a
 * pipelined request) get 503 in Herald's error shape with Retry-After, instead of Fastify's own
 * body (its `return503OnClosing`, which the app must turn off). Nothing of them is run or stored.
 * Fastify still answers them with `Connection: close`. Idle kept-alive connections stay open a
 * moment for that (drain-idle-connections.ts), rather than being reset under a request on its way.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  drainIdleConnectionsOnClose(app.server);
  app.addHook('preClose', (done) => {
    closingServers.add(app.server);
    done();
  });
  // Requests read and not yet answered, per connection: more than one when a client pipelines.
  trackConnectionRequests(app);
  app.addHook('onRequest', (request, reply, done) => {
    if (!refusedWhileClosing(request, reply)) done();
  });
  // A request already in flight when the close began is answered as usual, but with
  // `Connection: close`: its client goes elsewhere for the next one, and the server's close
  // does not wait out that connection's keep-alive timeout (5 s) before deliveries are stopped.
  // Not while a request pipelined behind it waits: the last one's answer (a 503) closes it instead.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (
      closingServers.has(request.server.server) &&
      connectionOf(request.raw.socket)?.newest === request.raw
    ) {
      reply.header('connection', 'close');
    }
    done(null, payload);
  });
}

/** The HTTP servers whose app has begun to close (refuseWhileClosing's preClose). */
const closingServers = new WeakSet<object>();

/**
 * Whether the request's server has begun to close, in which case it is answered 503 here and
 * nothing else of it may run. Also asked by what runs a request later than its onRequest hook: one
 * a pipelining client sent before the close, held until an earlier answer was taken
 * (pipelined-requests.ts), is refused as one that came after.
 */
export function refusedWhileClosing(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!closingServers.has(request.server.server)) return false;
  reply
    .code(503)
    .header('retry-after', String(SHUTTING_DOWN_RETRY_AFTER_S))
    .send(
      serverErrorBody(request, {
        code: 'HERALD_ERR_SHUTTING_DOWN',
        message: 'this server is shutting down; send the request again',
      }),
    );
  return true;
}

/**
 * Fastify's `frameworkErrors`: a URL that cannot be decoded (`/projects/%E0%A4`) or a path parameter
 * over `maxParamLength` answers in Herald's error shape, without echoing the URL back. It runs
 * before the onRequest hooks, so it sets the request id header itself (request-id.ts).
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const [status, code, message] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'HERALD_ERR_URI_TOO_LONG', SEGMENT_TOO_LONG.error.message]
      : [400, 'HERALD_ERR_BAD_REQUEST', 'the URL is not valid (bad percent-encoding)'];
  noStoreForApi(request, reply); // no-store.ts: an /api/ answer, not left for a cache to keep
  return reply.code(status).header(REQUEST_ID_HEADER, request.id).send({ error: { code, message } });
}

/**
 * Fastify's `clientErrorHandler`, for what fails before a request exists (headers too large or too
 * slow, malformed HTTP): answers 400/408/431 in Herald's error shape, with no-store, and closes the connection. Logs
 * the error code only: Node's parse errors carry the raw request bytes, credentials included.
 * Returns the status it answered, or null when the connection was already gone.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): 400 | 408 | 431 | null {
  if (error.code === 'ECONNRESET' || socket.destroyed) return null;
  const [status, code] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ([408, 'HERALD_ERR_REQUEST_TIMEOUT'] as const)
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ([431, 'HERALD_ERR_HEADERS_TOO_LARGE'] as const)
        : ([400, 'HERALD_ERR_BAD_REQUEST'] as const);
  const message =
    status === 408
      ? 'the request was not received in time'
      : status === 431
        ? 'the request headers are too large'
        : 'malformed HTTP request';
  // Anyone who can reach the port can send malformed HTTP: a line per request would let them fill
  // the disk of a process logging at debug. One per 10 s per kind, with the number since.
  const due = lineDue(this.server, `client ${error.code}`);
  if (due) {
    this.log.debug(
      { code: error.code, ...(due.since > 0 ? { sinceLastLine: due.since } : {}) },
      `client error: ${message} (logged at most once per ${LINE_INTERVAL_MS / 1000} s per kind, with the number since)`,
    );
  }
  const answered = socket.writable;
  if (answered) {
    const body = JSON.stringify({ error: { code, message } });
    // No request, so no URL to tell an /api/ one by: every such answer says no-store (no-store.ts).
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // Not destroyed at once: the client is likely still sending (headers past 16 KiB, a body too
    // slow), and closing over its unread bytes resets the connection, which discards the answer
    // (a 431 read 3 of 20 times by a raw socket writing 8 MiB of headers). Closed lingering.
    lingerThenClose(socket);
  } else if (!isLingering(socket)) socket.destroy();
  return answered ? status : null;
}
