/**
 * Request ids: what a line written while answering a request carries as `reqId`, and what the
 * answer carries as `x-request-id` (and a 5xx's body as `error.requestId`), so that a client's
 * report of a failure leads to its log line. Fastify's own ids (`req-1`, `req-2`…) restart with
 * every process and every app: two instances, or one restarted, would give the same id to
 * different requests. Here each process draws a random prefix once, and the count is the
 * process's, across its apps: `k3v9q0zt-1a`.
 *
 * An `x-request-id` sent with the request is not taken. Any client can send one (Herald cannot
 * tell a trusted proxy's header from one a client set and the proxy passed on), and a chosen id
 * could make a request's line look like another's. A proxy that keeps ids of its own logs
 * Herald's from the answer's header next to them (nginx: `$upstream_http_x_request_id`).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** 8 base-36 characters: 41 bits, so two processes share a prefix about once in 10^12 pairs. */
const PREFIX = (randomBytes(6).readUIntBE(0, 6) % 36 ** 8).toString(36).padStart(8, '0');
let count = 0;

/** The next id of this process (Fastify's `genReqId`). */
export function nextRequestId(): string {
  count++;
  return `${PREFIX}-${count.toString(36)}`;
}

/** The response header that carries it. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Every answer says its request's id; the first hook, so that answers hooks make early say it too. */
export function sendRequestIds(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}

/**
 * The body of a 5xx answer: Herald's error with the request id (`error.requestId`), which a client
 * that reports the failure can quote. 4xx bodies go without: the client's own request is at fault.
 */
export function serverErrorBody(
  request: FastifyRequest,
  error: { code: string; message: string; details?: unknown },
): { error: { code: string; message: string; details?: unknown; requestId: string } } {
  return { error: { ...error, requestId: request.id } };
}
