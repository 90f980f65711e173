/**
 * The HTTP server of a `--role worker` process: /healthz, /readyz and /metrics, nothing else.
 */
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Config } from '../config/config-types.ts';
import { openFileLimit } from '../delivery/fd-limit.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { slowClientLimits } from './build-app.ts';
import { connectionBounds, limitConnections } from './connection-limits.ts';
import { clientErrorHandler, errorHandler, frameworkErrorHandler, refuseWhileClosing } from './errors.ts';
import { nextRequestId, sendRequestIds } from './request-id.ts';
import {
  countClientErrors,
  countConnectionRefusals,
  countFrameworkErrors,
  recordRequests,
} from './request-metrics.ts';
import { decorateReadiness, healthRoutes } from './routes/health.ts';

/**
 * A worker's HTTP server: /healthz, /readyz and /metrics only, answering everything else (and
 * requests that arrive while it shuts down) in the API's error shape (docs/api.md).
 */
export function buildWorkerApp(
  config: Config,
  store: Store,
  logger: Logger,
  metrics: Metrics | undefined,
  notReady?: () => string | null,
): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    ...slowClientLimits(config),
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: countFrameworkErrors(frameworkErrorHandler, metrics),
    clientErrorHandler: countClientErrors(clientErrorHandler, metrics),
    return503OnClosing: false,
    genReqId: nextRequestId, // request-id.ts, as the API's
    requestIdHeader: false,
  }) as unknown as FastifyInstance;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(workerNotFound);
  // Bounded as the API's (connection-limits.ts): a worker's own sockets are its deliveries, and
  // without it one client holding idle connections to the probe port took every file descriptor.
  limitConnections(
    app.server,
    connectionBounds(openFileLimit()),
    config.trustProxy,
    countConnectionRefusals(metrics),
  );
  if (metrics) recordRequests(app, metrics); // its scrapes and probes, as the API counts its requests
  sendRequestIds(app);
  refuseWhileClosing(app);
  const readiness = decorateReadiness(app);
  healthRoutes(app, { store, metrics, readiness, ...(notReady ? { notReady } : {}) });
  return app;
}

/** A worker's 404: the API's error shape, naming the only routes a worker has. */
function workerNotFound(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({
    error: {
      code: 'HERALD_ERR_NOT_FOUND',
      message: `no ${request.method} route at this path (a worker serves only /healthz, /readyz and /metrics)`,
    },
  });
}
