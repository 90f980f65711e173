/**
 * Wires the body budget (body-budget.ts) into the API: a request with a body reserves its size
 * before the body is read (preParsing, after authentication: strangers reserve nothing), and gives
 * it back once its response is closed (sent, or the client left). No room within the wait: 503
 * `HERALD_ERR_BUSY`, Retry-After 1, and one warn line per 10 s at most.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BODY_WAIT_MS, createBodyBudget } from './body-budget.ts';
import { whenAnswerGone } from './connection-requests.ts';
import { serverErrorBody } from './request-id.ts';

const WARN_EVERY_MS = 10_000;

/** What a request's body will take: its Content-Length, or the body limit when it is chunked; 0 without a body. */
function bodyBytes(request: FastifyRequest, maxBodyBytes: number): number {
  const length = request.headers['content-length'];
  if (length !== undefined) return Math.min(Number(length) || 0, maxBodyBytes);
  return request.headers['transfer-encoding'] !== undefined ? maxBodyBytes : 0;
}

/** Whose share a request's body (body-budget.ts) or its unread answers (answers-in-flight.ts) count against: its credential, or its address. */
export function callerKey(request: FastifyRequest): string {
  const caller = request.caller;
  if (!caller) return `ip:${request.ip}`;
  if (caller.kind === 'admin') return 'admin';
  if (caller.kind === 'project') return `key:${caller.keyId}`;
  return `portal:${caller.projectId}`;
}

export function limitBodiesInFlight(
  app: FastifyInstance,
  {
    limitBytes,
    maxBodyBytes,
    waitMs = BODY_WAIT_MS,
  }: { limitBytes: number; maxBodyBytes: number; waitMs?: number },
): void {
  const budget = createBodyBudget(limitBytes, waitMs);
  let warnedAt = Number.NEGATIVE_INFINITY;

  app.addHook('preParsing', async (request, reply, payload) => {
    const bytes = bodyBytes(request, maxBodyBytes);
    if (bytes === 0) return payload;
    // Once the answer is sent, or when the client leaves first (waiting or not, pipelined or not:
    // connection-requests.ts): either way the room goes back. No hooks for requests without a body.
    const left = new AbortController();
    let release: (() => void) | null = null;
    const done = () => {
      left.abort();
      release?.();
    };
    whenAnswerGone(reply, done);
    release = await budget.reserve(bytes, callerKey(request), left.signal);
    // Gone before the room was taken (done ran first: `left` aborted), or closed before the listener
    // could matter: given back now. A pipelined answer whose client has left is never closed by
    // Node, and when it left before this hook, whenAnswerGone calls back before the room is taken.
    if (left.signal.aborted || reply.raw.closed) done();
    if (release || left.signal.aborted) return payload; // taken, or nobody left to answer
    const now = Date.now();
    if (now - warnedAt >= WARN_EVERY_MS) {
      warnedAt = now;
      const { bytes: inFlight, waiting } = budget.usage();
      request.log.warn(
        { bodyBytesInFlight: inFlight, waiting, limitBytes },
        `a request waited ${waitMs / 1000} s for room among the request bodies in flight (HERALD_MAX_BODY_BYTES_IN_FLIGHT) and was answered 503 (logged at most once per 10 s)`,
      );
    }
    reply
      .code(503)
      .header('retry-after', '1')
      .send(
        serverErrorBody(request, {
          code: 'HERALD_ERR_BUSY',
          message: 'the server is taking in as many request bodies as it may at once; retry shortly',
        }),
      );
    return payload;
  });
}
