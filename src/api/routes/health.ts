import type { FastifyInstance } from 'fastify';
import { isDatabaseFileGone } from '../../store/sqlite/database-file-watch.ts';
import type { Store } from '../../store/store.ts';
import { isStoreReadOnly } from '../../store/store-unavailable.ts';
import type { MetricsSource } from '../build-app.ts';

/**
 * Where a process is in its life, for /readyz: `starting` until main says it is ready, `stopping`
 * from the start of its shutdown (a SIGTERM, and through HERALD_SHUTDOWN_DELAY_MS) on.
 */
export type Readiness = 'starting' | 'ready' | 'stopping';

export interface HealthOptions {
  store: Store;
  metrics: MetricsSource | undefined;
  readiness: () => Readiness;
  /** Why a started process is not ready although its database answers (e.g. secret-key-readiness.ts); null: no reason. */
  notReady?: () => string | null;
}

/**
 * Gives `app` its setReady and setStopping (build-app.ts declares them), and returns where it
 * stands. A stop is for good: setReady does not take it back.
 */
export function decorateReadiness(app: FastifyInstance): () => Readiness {
  let readiness: Readiness = 'starting';
  app.decorate('setReady', (value: boolean) => {
    if (readiness !== 'stopping') readiness = value ? 'ready' : 'starting';
  });
  app.decorate('setStopping', () => {
    readiness = 'stopping';
  });
  return () => readiness;
}

/** Liveness, readiness (startup finished, nothing making it unready, store reachable) and Prometheus metrics. */
export function healthRoutes(app: FastifyInstance, { store, metrics, readiness, notReady }: HealthOptions) {
  // `security: []`: no token needed (the OpenAPI document's default is the bearer token).
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'The process is alive', security: [] } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: { tags: ['health'], summary: 'Ready to serve: started and the database answers', security: [] },
    },
    async (_request, reply) => {
      const state = readiness();
      if (state !== 'ready') return reply.code(503).send({ status: state });
      const reason = notReady?.();
      if (reason) return reply.code(503).send({ status: reason });
      try {
        await store.ping();
        return { status: 'ready' };
      } catch (error) {
        const status = isDatabaseFileGone(error)
          ? 'database file deleted or replaced'
          : isStoreReadOnly(error)
            ? 'database read-only'
            : 'database unreachable';
        return reply.code(503).send({ status });
      }
    },
  );
  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics', security: [] } },
    async (_request, reply) => {
      if (!metrics)
        return reply.code(404).send({ error: { code: 'HERALD_ERR_NOT_FOUND', message: 'metrics are off' } });
      return reply.type(metrics.contentType).send(await metrics.render());
    },
  );
}
