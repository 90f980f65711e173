/**
 * Builds Herald's HTTP app: API v1, health, metrics, OpenAPI, docs, dashboard. Never listens
 * (src/main.ts does); tests call `app.inject()`.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config/config-types.ts';
import { portalLinksRoute } from '../dashboard/portal-links-route.ts';
import { derivePortalKey } from '../dashboard/portal-token.ts';
import { dashboardPlugin } from '../dashboard/serve.ts';
import { openFileLimit } from '../delivery/fd-limit.ts';
import type { Handoff } from '../delivery/handoff.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { AcceptRecorder } from './accept-events.ts';
import {
  ANSWER_BYTES_PER_CALLER,
  answerBytesInFlight,
  limitAnswersInFlight,
  SCRAPE_BYTES_IN_FLIGHT,
} from './answers-in-flight.ts';
import { checkRouteAccess, createAuthContext, identify, needsAuth, visibleProject } from './auth.ts';
import { BacklogGate } from './backlog-gate.ts';
import { limitBodiesInFlight } from './bodies-in-flight.ts';
import { depthLimitedJsonParser, emptyBodyAsNone, identityEncodingOnly, utf8Body } from './body-parsers.ts';
import { closeQuerystrings } from './closed-querystrings.ts';
import { connectionBounds, limitConnections } from './connection-limits.ts';
import {
  clientErrorHandler,
  errorHandler,
  frameworkErrorHandler,
  notFoundHandler,
  refuseWhileClosing,
  UnauthorizedError,
} from './errors.ts';
import { answerExpectContinue } from './expect-continue.ts';
import { closeInactiveUnlessAnswering } from './inactivity-close.ts';
import { isRouteAccess, ROUTE_ACCESS } from './key-scope.ts';
import { lazyChildLoggerFactory } from './lazy-request-logger.ts';
import { lazySerializers } from './lazy-serializers.ts';
import { lazyValidators } from './lazy-validators.ts';
import { lingerAfterEarlyAnswers } from './lingering-close.ts';
import { sayNoStore } from './no-store.ts';
import { MAX_SEGMENT_UNITS, refuseLongPathSegments } from './path-segment-length.ts';
import { limitPipelinedRequests } from './pipelined-requests.ts';
import { portalDeclarationError } from './portal-access.ts';
import { registerApiRateLimit } from './rate-limit.ts';
import { nextRequestId, sendRequestIds } from './request-id.ts';
import {
  countClientErrors,
  countConnectionRefusals,
  countFrameworkErrors,
  type RequestRecorder,
  recordRequests,
} from './request-metrics.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { attemptRoutes } from './routes/attempts.ts';
import type { RouteContext } from './routes/context.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { eventRoutes } from './routes/events.ts';
import { decorateReadiness, healthRoutes } from './routes/health.ts';
import { installationRoutes } from './routes/installation.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { operationalEventRoutes } from './routes/operational-events.ts';
import { projectRoutes } from './routes/projects.ts';

/**
 * What /metrics serves (src/metrics.ts), and where the app counts its requests and the events it
 * accepts when the source takes them (tests pass a source that only renders).
 */
export interface MetricsSource extends Partial<RequestRecorder>, Partial<AcceptRecorder> {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface BuildAppOptions {
  store: Store;
  config: Config;
  logger?: Logger;
  metrics?: MetricsSource;
  /** Woken after writes that make work due (the store wakes it too; this is for API-only callers). */
  dispatcher?: { wake(): void; readonly handoff?: Handoff | null };
  /** /readyz answers 503 with this status while it returns one (routes/health.ts). */
  notReady?: () => string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    heraldConfig: Config;
    /** /readyz answers 200 only after main says so (503 `starting` before). */
    setReady(ready: boolean): void;
    /** The process is shutting down: /readyz answers 503 `stopping` from now on. */
    setStopping(): void;
  }
}

const DIST_DIR = join(import.meta.dirname, '../../dist/dashboard');

/**
 * Server options that keep slow clients from holding sockets (slowloris), for every Fastify
 * instance Herald listens with (the worker role's probe server too): docs/api.md "Limits".
 */
export function slowClientLimits(config: Pick<Config, 'requestTimeoutMs' | 'headersTimeoutMs'>) {
  return {
    requestTimeout: config.requestTimeoutMs, // the whole request, headers and body
    connectionTimeout: 60_000, // a socket with no traffic at all (but one being answered: inactivity-close.ts)
    keepAliveTimeout: 5_000, // an idle keep-alive socket between requests
    http: {
      headersTimeout: config.headersTimeoutMs, // from the first byte to the end of the headers
      // Node checks both timeouts on this interval, 30 s by default: far coarser than they are.
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
      maxHeaderSize: 16 * 1024, // all headers together; more is 431
    },
  };
}

/**
 * The backlog gate (HERALD_PROJECT_BACKLOG_LIMIT, or a project's own backlogLimit), logging when a
 * project's backlog fills up and has room again. Built even when the installation has no limit: a
 * project may have its own.
 */
function backlogGate(app: FastifyInstance, store: Store, limit: number | null): BacklogGate {
  return new BacklogGate({
    limit,
    count: (projectId, atMost) => store.countPendingDeliveries(projectId, atMost),
    onChange: (projectId, full, pending, projectLimit) =>
      full
        ? app.log.warn(
            { projectId, pending, limit: projectLimit },
            'project backlog full (its backlogLimit, else HERALD_PROJECT_BACKLOG_LIMIT): its new events get 429 until some are delivered',
          )
        : app.log.info(
            { projectId, pending, limit: projectLimit },
            'project backlog has room again: its events are accepted',
          ),
  });
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const { store, config } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: config.maxBodyBytes,
    ...slowClientLimits(config),
    routerOptions: { maxParamLength: MAX_SEGMENT_UNITS }, // counted in characters: path-segment-length.ts
    frameworkErrors: countFrameworkErrors(frameworkErrorHandler, options.metrics),
    clientErrorHandler: countClientErrors(clientErrorHandler, options.metrics),
    return503OnClosing: false, // refuseWhileClosing answers in Herald's error shape instead
    // request.ip from X-Forwarded-For only when the connection comes from a trusted proxy.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    // One log line per request costs more than the request on the ingest hot path.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    // Unique across processes and restarts, and never taken from the request (request-id.ts).
    genReqId: nextRequestId,
    requestIdHeader: false,
    ajv: {
      // verbose: a failure carries the schema it failed (parentSchema), so that an unknown field is
      // answered with the known ones (validation-words.ts); it costs nothing until a check fails.
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: false,
        allowUnionTypes: true,
        verbose: true,
      },
    },
    // Each route's validators are compiled when it first validates, not all at start (lazy-validators.ts);
    // the serializer compiler loads only for a route with a response schema (lazy-serializers.ts).
    schemaController: {
      compilersFactory: { buildValidator: lazyValidators(), buildSerializer: lazySerializers() },
    },
  }) as unknown as FastifyInstance;

  app.decorate('heraldConfig', config);
  const readiness = decorateReadiness(app);
  app.decorateRequest('caller', null);
  app.setErrorHandler(errorHandler);
  // Before the routes, so it covers them all; it also counts what hooks answer early (a closing
  // server's 503, the rate limit's 429, a stranger's 401).
  const metrics = options.metrics;
  if (metrics?.recordRequest) recordRequests(app, metrics as RequestRecorder);
  sendRequestIds(app); // before refuseWhileClosing: its 503 says the id too
  sayNoStore(app); // and Cache-Control: no-store on every /api/ answer, early ones included
  refuseWhileClosing(app); // the first onRequest hook: a closing server runs nothing else
  // Then a connection's pipelined requests run a few at a time, before anything else of them runs.
  limitPipelinedRequests(app);
  refuseLongPathSegments(app); // 414 past 200 characters, as the router past 400 UTF-16 units
  // JSON only: any other content type is 415, not a string the schema then rejects. An empty JSON
  // body is no body (body-parsers.ts emptyBodyAsNone), not Fastify's FST_ERR_CTP_EMPTY_JSON_BODY. Read as
  // bytes: a body that is not UTF-8, or labelled with another charset, is refused (body-parsers.ts utf8Body),
  // and so is a compressed one (identityEncodingOnly: nothing is decompressed).
  app.removeContentTypeParser(['text/plain']);
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    identityEncodingOnly(
      utf8Body(emptyBodyAsNone(depthLimitedJsonParser(app.getDefaultJsonParser('error', 'error')))),
    ),
  );
  app.server.maxHeadersCount = 100;
  // connectionTimeout (slowClientLimits) closes no socket whose request is being answered.
  closeInactiveUnlessAnswering(app);
  // An answer given before the body was read reaches a client still writing it (lingering-close.ts).
  lingerAfterEarlyAnswers(app);
  // Connections in all and from one address, so that no client can take every file descriptor.
  limitConnections(
    app.server,
    connectionBounds(openFileLimit()),
    config.trustProxy,
    countConnectionRefusals(options.metrics),
  );
  app.setNotFoundHandler(notFoundHandler);

  // Before the authentication hook: an address that keeps failing it is refused first (rate-limit.ts).
  registerApiRateLimit(app, config.apiRateLimit);
  const portalKey = derivePortalKey(config.adminToken);
  const auth = createAuthContext(store, config.adminToken, portalKey);
  app.decorateRequest('project', null);
  // Who is calling, and whether they may see the project the path names, is settled before the
  // body is read: strangers get 401 and another project's resources 404, whatever the body holds.
  app.addHook('onRequest', async (request) => {
    if (!needsAuth(request)) return;
    // Its answers say Cache-Control: no-store, as every /api/ answer does (no-store.ts).
    request.caller = await identify(auth, request);
    if (!request.caller) throw new UnauthorizedError();
    const idOrUid = (request.params as { project?: unknown } | undefined)?.project;
    if (typeof idOrUid === 'string') request.project = await visibleProject(store, request.caller, idOrUid);
    // Then what the caller may do here (a key's scope, whether a portal link may): after the
    // project, so that another project's resource is 404 to every caller, and before the body,
    // which a refused caller learns nothing from.
    checkRouteAccess(request);
  });
  // Every /api/ route says what it needs and whether a portal link may use it, or the app does not
  // start: a route added later cannot be left open to send-only and read-only keys, or to portal
  // links, by forgetting to.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const access = route.config?.access;
    if (!isRouteAccess(access)) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no config.access (one of ${ROUTE_ACCESS.join(', ')}: src/api/key-scope.ts)`,
      );
    }
    const portal = portalDeclarationError(access, route.config?.portal);
    if (portal) throw new Error(`route ${String(route.method)} ${route.url} ${portal}`);
  });

  // Before any body is read: at most this many bytes of bodies are taken in at once (body-budget.ts).
  limitBodiesInFlight(app, { limitBytes: config.maxBodyBytesInFlight, maxBodyBytes: config.maxBodyBytes });
  // Then a client that asked whether to send its body is told to (expect-continue.ts).
  answerExpectContinue(app, config.maxBodyBytes);
  // And at most this many bytes of answers its clients have not read yet (answers-in-flight.ts).
  limitAnswersInFlight(app, {
    perCaller: ANSWER_BYTES_PER_CALLER,
    total: answerBytesInFlight(config.heapLimitBytes),
    scrapes: SCRAPE_BYTES_IN_FLIGHT,
  });

  // Before any route is registered (the OpenAPI document's included): unknown query parameters are 400.
  closeQuerystrings(app);
  openApiRoutes(app);

  const ctx: RouteContext = {
    store,
    config,
    wake: () => options.dispatcher?.wake(),
    handoff: () => options.dispatcher?.handoff ?? null,
    backlog: backlogGate(app, store, config.projectBacklogLimit),
    accepted: metrics?.recordAccepted ? (metrics as AcceptRecorder) : null,
  };
  app.register(async (api) => {
    projectRoutes(api, ctx);
    apiKeyRoutes(api, ctx);
    eventTypeRoutes(api, ctx);
    installationRoutes(api, ctx);
    endpointRoutes(api, ctx);
    eventRoutes(api, ctx);
    deliveryRoutes(api, ctx);
    attemptRoutes(api, ctx);
    operationalEventRoutes(api, ctx);
    await portalLinksRoute(api, {
      store,
      portalKey,
      publicUrl: config.publicUrl,
      callerOf: (request) => request.caller,
    });
  });
  // Inside a plugin so that swagger (registered above) sees these routes too.
  app.register(async (scope) =>
    healthRoutes(scope, {
      store,
      metrics,
      readiness,
      ...(options.notReady ? { notReady: options.notReady } : {}),
    }),
  );
  app.register(dashboardPlugin, { distDir: DIST_DIR, frameAncestors: config.frameAncestors });
  return app;
}
