import type { FastifyInstance } from 'fastify';
import { isDatabaseFileGone } from '../../store/sqlite/database-file-watch.ts';
import type { Store } from '../../store/store.ts';
import { isStoreReadOnly } from '../../store/store-unavailable.ts';
import type { MetricsSource } from '../build-app.ts';

export interface HealthOptions {
  store: Store;
  metrics: MetricsSource | undefined;
  isReady: () => boolean;
  /** Why a started process is not ready although its database answers (e.g. secret-key-readiness.ts); null: no reason. */
  notReady?: () => string | null;
}

/** Liveness, readiness (startup finished, nothing making it unready, store reachable) and Prometheus metrics. */
export function healthRoutes(app: FastifyInstance, { store, metrics, isReady, notReady }: HealthOptions) {
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
      if (!isReady()) return reply.code(503).send({ status: 'starting' });
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
