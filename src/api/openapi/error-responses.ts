/**
 * The OpenAPI document's shared error responses (`components.responses`): every one holds the
 * Error schema, `{"error": {"code", "message", "details"?}}` (errors.ts, docs/api.md "Errors").
 */
import { ref } from './components.ts';

const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before sending the request again',
    schema: { type: 'integer' },
  },
};

/** Sent with every answer (request-id.ts); listed on the error responses, where it is quoted. */
const requestId = {
  'X-Request-Id': {
    description:
      'The request id (unique per request, across processes): quote it when reporting a failure; the server log line has it as reqId, and a 5xx body as error.requestId. Absent from what is answered before a request exists: malformed HTTP (400), a request too slow (408) or with headers too large (431)',
    schema: { type: 'string' },
  },
};

/** A response holding the Error schema. */
export const errorResponse = (description: string, headers?: Record<string, unknown>) => ({
  description,
  headers: { ...requestId, ...headers },
  content: { 'application/json': { schema: ref('Error') } },
});

/** `components.responses` of the document, by name. */
export const ERROR_RESPONSES = {
  BadRequest: errorResponse(
    'Invalid input: HERALD_ERR_VALIDATION (details.field names the field; an unknown body field or query parameter is one), HERALD_ERR_MALFORMED_JSON, or HERALD_ERR_BAD_REQUEST (malformed HTTP, a URL with bad percent-encoding)',
  ),
  Unauthorized: errorResponse('HERALD_ERR_UNAUTHORIZED: no bearer token, or one Herald does not know'),
  NotFound: errorResponse(
    'HERALD_ERR_NOT_FOUND: no such resource in a project the token can see (another project’s resources are not found either)',
  ),
  PayloadTooLarge: errorResponse(
    'HERALD_ERR_BODY_TOO_LARGE: the body is over HERALD_MAX_BODY_BYTES (details.limitBytes); HERALD_ERR_TOO_MANY_DELIVERIES (events only): its events would create more deliveries than HERALD_MAX_DELIVERIES_PER_REQUEST (details.limit, details.deliveries). Nothing was stored',
  ),
  UnsupportedMediaType: errorResponse(
    'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE: a body that is not application/json (charset utf-8 or none), or a compressed one (a Content-Encoding other than identity: nothing is decompressed)',
  ),
  TooManyRequests: errorResponse(
    'HERALD_ERR_RATE_LIMITED: over HERALD_API_RATE_LIMIT for this token or client address; HERALD_ERR_BACKLOG_FULL (new events, test sends and replays only): the project has its backlogLimit, else HERALD_PROJECT_BACKLOG_LIMIT, deliveries pending. Nothing was done: send it again after Retry-After',
    retryAfter,
  ),
  Unavailable: errorResponse(
    'HERALD_ERR_BUSY, HERALD_ERR_DATABASE_UNAVAILABLE, HERALD_ERR_STORAGE_FULL, HERALD_ERR_RESOURCES (this server is out of file descriptors), HERALD_ERR_DATABASE_FILE_GONE (SQLite: the database file was deleted or replaced since the server started; its operator must restore it) or HERALD_ERR_SHUTTING_DOWN: nothing of the request was stored (but for a HERALD_ERR_DATABASE_UNAVAILABLE whose details.stored is "unknown": the connection to the database was lost while the request was written, so send it again only with the same Idempotency-Key); send it again after Retry-After (HERALD_ERR_SECRET_KEY: this server cannot open the endpoint secrets, sealed with another encryption key)',
    retryAfter,
  ),
  OtherError: errorResponse(
    'Any other error, in the same shape: 408 HERALD_ERR_REQUEST_TIMEOUT (headers or body too slow), 414 HERALD_ERR_URI_TOO_LONG (a path segment over 200 characters), 431 HERALD_ERR_HEADERS_TOO_LARGE (headers over 16 KiB), 500 HERALD_ERR_INTERNAL (a bug; error.requestId names the server log line)',
  ),
};

export type ErrorResponseName = keyof typeof ERROR_RESPONSES;

export const responseRef = (name: ErrorResponseName) => ({ $ref: `#/components/responses/${name}` });
