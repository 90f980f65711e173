/**
 * Wires the body budget (body-budget.ts) into the API: a request with a body reserves its size
 * before the body is read (preParsing, after authentication: strangers reserve nothing), and gives
 * it back once answered or abandoned. No room within the wait: 503 `HERALD_ERR_BUSY`, Retry-After 1,
 * one warn line per 10 s at most.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BODY_WAIT_MS, createBodyBudget } from './body-budget.ts';

const WARN_EVERY_MS = 10_000;

interface Held {
  release?: () => void;
  abort: AbortController;
}

/** What a request's body will take: its Content-Length, or the body limit when it is chunked; 0 without a body. */
function bodyBytes(request: FastifyRequest, maxBodyBytes: number): number {
  const length = request.headers['content-length'];
  if (length !== undefined) return Math.min(Number(length) || 0, maxBodyBytes);
  return request.headers['transfer-encoding'] !== undefined ? maxBodyBytes : 0;
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
  const held = new WeakMap<FastifyRequest, Held>();
  let warnedAt = Number.NEGATIVE_INFINITY;

  app.addHook('preParsing', async (request, reply, payload) => {
    const bytes = bodyBytes(request, maxBodyBytes);
    if (bytes === 0) return payload;
    const hold: Held = { abort: new AbortController() };
    held.set(request, hold);
    const release = await budget.reserve(bytes, hold.abort.signal);
    if (release) {
      hold.release = release;
      return payload;
    }
    if (hold.abort.signal.aborted) return payload; // the client left: nothing to answer
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
      .send({
        error: {
          code: 'HERALD_ERR_BUSY',
          message: 'the server is taking in as many request bodies as it may at once; retry shortly',
        },
      });
    return payload;
  });
  const giveBack = async (request: FastifyRequest) => {
    const hold = held.get(request);
    if (!hold) return;
    held.delete(request);
    hold.abort.abort();
    hold.release?.();
  };
  app.addHook('onResponse', giveBack);
  app.addHook('onRequestAbort', giveBack);
}
