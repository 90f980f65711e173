/**
 * The API's errors: one class, stable codes, an HTTP status, `cause` kept. The error handler turns
 * every failure into `{"error": {"code", "message", "details"?}}`; bad input never becomes a 5xx.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export class HeraldError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HeraldError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new HeraldError(404, 'HERALD_ERR_NOT_FOUND', `${what} not found`);
export const unauthorized = () =>
  new HeraldError(
    401,
    'HERALD_ERR_UNAUTHORIZED',
    'missing or invalid bearer token (Authorization: Bearer <token>)',
  );
export const forbidden = (message = 'this route needs the admin token') =>
  new HeraldError(403, 'HERALD_ERR_FORBIDDEN', message);
export const invalid = (field: string, message: string) =>
  new HeraldError(400, 'HERALD_ERR_VALIDATION', `${field}: ${message}`, { field });
export const unprocessable = (field: string, message: string) =>
  new HeraldError(422, 'HERALD_ERR_UNPROCESSABLE', `${field}: ${message}`, { field });
export const conflict = (field: string, message: string) =>
  new HeraldError(409, 'HERALD_ERR_CONFLICT', message, { field });

/** Fastify's own error codes → ours. */
const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'HERALD_ERR_BODY_TOO_LARGE'], // over maxBodyBytes
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE'], // not application/json
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'HERALD_ERR_MALFORMED_JSON'], // content-type JSON, no body
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'HERALD_ERR_BAD_REQUEST'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'HERALD_ERR_MALFORMED_JSON'],
};

/** The field a validation error is about, as a dotted path (`body.url`, `querystring.limit`). */
function validationField(error: FastifyError): string {
  const first = error.validation?.[0];
  const context = error.validationContext ?? 'body';
  if (!first) return context;
  const path = (first.instancePath ?? '').split('/').filter(Boolean).join('.');
  const missing =
    (first.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const leaf = missing.missingProperty ?? missing.additionalProperty;
  return [context, path, leaf].filter(Boolean).join('.');
}

export function errorHandler(
  error: FastifyError | HeraldError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof HeraldError) {
    return reply.code(error.status).send({
      error: {
        code: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      },
    });
  }
  if (error.validation) {
    const field = validationField(error);
    const first = error.validation[0];
    const params = first?.params as { additionalProperty?: string } | undefined;
    const message = params?.additionalProperty ? 'is not a known field' : (first?.message ?? 'is invalid');
    return reply.code(400).send({
      error: { code: 'HERALD_ERR_VALIDATION', message: `${field}: ${message}`, details: { field } },
    });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return reply.code(mapped[0]).send({ error: { code: mapped[1], message: error.message } });
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code =
      error instanceof SyntaxError || /JSON/i.test(error.message)
        ? 'HERALD_ERR_MALFORMED_JSON'
        : 'HERALD_ERR_BAD_REQUEST';
    return reply.code(status).send({ error: { code, message: error.message } });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.code(500).send({ error: { code: 'HERALD_ERR_INTERNAL', message: 'internal error' } });
}
