/**
 * API rate limiting per credential (HERALD_API_RATE_LIMIT), with @fastify/rate-limit's counters:
 * a fixed window per key, kept in this process's memory (each process counts on its own).
 *
 * - The key is who calls: the admin token, one project API key (by key id), a portal link's
 *   project (every link of a project shares one budget); the client address for anything
 *   unauthenticated (the dashboard's files, /openapi.json, /docs).
 * - Requests refused with 401 count against their client address, and an address whose budget
 *   is spent gets 429 before its token is even looked up, so guessing tokens is throttled too.
 * - /healthz, /readyz and /metrics are never limited: orchestrators and scrapers poll them.
 *
 * Over the limit: `429` with `Retry-After` (seconds) and the usual error body,
 * `{"error": {"code": "HERALD_ERR_RATE_LIMITED", "message", "details"}}`, before any body is read
 * (a request with one gets `Connection: close`). Answers within the limit
 * carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds).
 */
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRateLimitConfig } from '../config/config-types.ts';
import { needsAuth } from './auth.ts';
import { HeraldError, hasBody } from './errors.ts';

/** Probes and scrapes: never limited. */
const EXEMPT = new Set(['/healthz', '/readyz', '/metrics']);
/**
 * Keys remembered per counter (least recently used ones are forgotten first, and a forgotten key
 * starts a fresh window). Credentials and client addresses are counted apart, so that clients
 * without a credential, whose addresses anyone with many of them can make up, cannot push a
 * credential's spent budget out: in one shared table 10,001 addresses did, and the credential got
 * its whole budget again at once.
 */
const KEYS_KEPT = 10_000;

/** 429: a credential (or client address) went over HERALD_API_RATE_LIMIT. */
export class RateLimitedError extends HeraldError {
  constructor(limit: ApiRateLimitConfig, retryAfterSeconds: number, who: string) {
    super(
      429,
      'HERALD_ERR_RATE_LIMITED',
      `too many requests for this ${who}: at most ${limit.max} per ${limit.windowMs / 1000} s; retry in ${retryAfterSeconds} s`,
      { details: { limit: limit.max, windowSeconds: limit.windowMs / 1000, retryAfterSeconds } },
    );
    this.name = 'RateLimitedError';
  }
}

/** By the route matched (not the raw URL, which may be absolute-form or percent-encoded). */
const exempt = (request: FastifyRequest) => !request.is404 && EXEMPT.has(request.routeOptions.url ?? '');
const ipKey = (request: FastifyRequest) => `ip:${normalizeIP(request.ip)}`;

/** The budget a request draws from: its credential, else its client address. */
export function rateLimitKey(request: FastifyRequest): string {
  const caller = request.caller;
  if (!caller) return ipKey(request);
  if (caller.kind === 'admin') return 'admin';
  if (caller.kind === 'project') return `key:${caller.keyId}`;
  return `portal:${caller.projectId}`;
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Registers the limiter on the root instance. Call it before the authentication hook is added
 * (src/api/build-app.ts): its address check must run first. The per-credential check runs in
 * preParsing, after authentication has named the caller and before any body is read.
 */
export function registerApiRateLimit(app: FastifyInstance, limit: ApiRateLimitConfig | null): void {
  if (!limit) return;
  app.register(fastifyRateLimit, { global: false, max: limit.max, timeWindow: limit.windowMs });
  // Created on first use: app.createRateLimit exists once the plugin above has loaded.
  let byCredential: Check | null = null;
  let byAddress: Check | null = null;
  let failures: Check | null = null;
  const counter = (keyGenerator: (request: FastifyRequest) => string): Check =>
    app.createRateLimit({
      max: limit.max,
      timeWindow: limit.windowMs,
      keyGenerator,
      ...{ cache: KEYS_KEPT }, // LocalStore size; not in the option types
    });

  const refuse = (reply: FastifyReply, ttlMs: number, who: string): never => {
    const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
    // Its body is not read yet. Kept alive, the connection would have the server read all of it
    // (and discard it) before the next request: 100 MB in ~1 s on loopback, as much as the client
    // sends within HERALD_REQUEST_TIMEOUT_MS. Closed, a refused client costs no more than its headers.
    if (hasBody(reply.request)) reply.header('connection', 'close');
    reply.header('retry-after', String(retryAfter));
    reply.header('x-ratelimit-limit', String(limit.max));
    reply.header('x-ratelimit-remaining', '0');
    reply.header('x-ratelimit-reset', String(retryAfter));
    throw new RateLimitedError(limit, retryAfter, who);
  };

  // 1. An address that keeps failing authentication is refused before its token is looked up.
  app.addHook('onRequest', async (request, reply) => {
    if (!needsAuth(request)) return;
    failures ??= counter(ipKey);
    const state = await failures(request, { increment: false });
    if (!state.isAllowed && state.remaining <= 0 && state.ttl > 0) refuse(reply, state.ttl, 'client address');
  });

  // 2. Every request but the probes draws from its caller's budget.
  app.addHook('preParsing', async (request, reply) => {
    if (exempt(request)) return;
    byCredential ??= counter(rateLimitKey);
    byAddress ??= counter(rateLimitKey);
    const state = await (request.caller ? byCredential : byAddress)(request);
    if (state.isAllowed) return;
    if (state.isExceeded) refuse(reply, state.ttl, request.caller ? 'credential' : 'client address');
    reply.header('x-ratelimit-limit', String(limit.max));
    reply.header('x-ratelimit-remaining', String(state.remaining));
    reply.header('x-ratelimit-reset', String(state.ttlInSeconds));
  });

  // 3. A refused token counts against its address.
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 401 || request.caller || !needsAuth(request)) return;
    failures ??= counter(ipKey);
    await failures(request);
  });
}
