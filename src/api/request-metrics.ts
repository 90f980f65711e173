/**
 * Counts every request the app answers, by method, route pattern and status, and times it: one
 * onResponse hook, registered only when the process has metrics (src/metrics.ts records them).
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';

type FrameworkErrors = NonNullable<FastifyServerOptions['frameworkErrors']>;
/** Herald's `clientErrorHandler` (src/api/errors.ts): it returns the status it answered, or null. */
type ClientErrors = (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket) => number | null;

/** What the hook records into: `Metrics.recordRequest` (src/metrics.ts). */
export interface RequestRecorder {
  /** `route` is a route pattern or UNMATCHED_ROUTE, never a raw URL; `seconds` from request to last byte. */
  recordRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /** The app serves `method` on `route` (its pattern): the series alerts watch start at 0. */
  knowRoute?(method: string, route: string): void;
}

/**
 * The `route` label of a request no route matched (the 404 of an unknown path, or of a method the
 * path does not have): one label for them all, or every probed URL would be a series of its own.
 */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The `method` label of what Node refused before a request existed (malformed HTTP, headers too
 * large or too slow): its method was never parsed, or not trusted.
 */
export const UNKNOWN_METHOD = 'unknown';

/**
 * Adds the hook to `app` (before its routes are registered, so it covers them all). The label is the
 * pattern the router matched (`/api/v1/projects/:project/events`), so ids never reach it and the
 * series stay as few as the routes. A callback hook, not an async one: no promise per request.
 * Each route the app registers afterwards is made known to the recorder, with its methods but HEAD
 * (Fastify adds a HEAD route beside each GET one, which hardly anything calls).
 */
export function recordRequests(app: FastifyInstance, recorder: RequestRecorder): void {
  if (recorder.knowRoute) {
    const know = recorder.knowRoute.bind(recorder);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') know(method, route.url);
    });
  }
  app.addHook('onResponse', (request, reply, done) => {
    recorder.recordRequest(
      request.method,
      request.routeOptions.url ?? UNMATCHED_ROUTE,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
}

/**
 * Fastify's `frameworkErrors` handler (a URL it cannot decode, a path parameter too long), counting
 * what it answers as `unmatched`: those requests never reach the router, so no hook runs for them.
 * Their duration is observed as 0 (Fastify keeps no start time for them); they cost next to nothing.
 */
export function countFrameworkErrors(
  handler: FrameworkErrors,
  recorder: Partial<RequestRecorder> | undefined,
): FrameworkErrors {
  if (!recorder?.recordRequest) return handler;
  const counted = recorder as RequestRecorder;
  return (error, request, reply) => {
    const answered = handler(error, request, reply);
    counted.recordRequest(request.method, UNMATCHED_ROUTE, reply.statusCode, 0);
    return answered;
  };
}

/**
 * Fastify's `clientErrorHandler` (what Node refuses before a request exists: malformed HTTP, 408 of
 * headers too slow, 431 of headers too large), counting what it answers as method `unknown`, route
 * `unmatched`: no request object, and so no hook, exists for them. A flood of them (a scanner, a
 * client sending huge cookies) shows in `herald_http_requests_total` like any other refusal.
 * Duration 0, as for the framework errors above. A connection already gone is not counted.
 */
export function countClientErrors(handler: ClientErrors, recorder: Partial<RequestRecorder> | undefined) {
  if (!recorder?.recordRequest) return handler;
  const counted = recorder as RequestRecorder;
  return function countedClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket) {
    const status = handler.call(this, error, socket);
    if (status !== null) counted.recordRequest(UNKNOWN_METHOD, UNMATCHED_ROUTE, status, 0);
    return status;
  };
}

/**
 * What `limitConnections` (connection-limits.ts) calls for each connection it answers 503
 * HERALD_ERR_BUSY before the HTTP server sees it: counted as method `unknown`, route `unmatched`,
 * duration 0, like what Node refuses. Without it a process at its connection bound, refusing new
 * clients, showed nothing in `herald_http_requests_total` (nor in the API-errors alert on it).
 */
export function countConnectionRefusals(
  recorder: Partial<RequestRecorder> | undefined,
): (() => void) | undefined {
  if (!recorder?.recordRequest) return undefined;
  const counted = recorder as RequestRecorder;
  return () => counted.recordRequest(UNKNOWN_METHOD, UNMATCHED_ROUTE, 503, 0);
}
