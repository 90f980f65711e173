import type { FastifyInstance } from 'fastify';
import { projectFor } from '../auth.ts';
import { ConflictError, endpointDisabled, NotFoundError } from '../errors.ts';
import { idParams } from '../schemas.ts';
import { deliveryJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

/** GET …/deliveries/:delivery: one delivery's state; POST …/deliveries/:delivery/retry: due now. */
export function deliveryRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store } = ctx;

  // What GET …/events/:event lists for each of its deliveries, for one of them: a screen waiting on
  // one attempt reads this row, not an event that may have fanned out to thousands of endpoints.
  app.get<{ Params: { project: string; delivery: string } }>(
    '/api/v1/projects/:project/deliveries/:delivery',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Get one delivery: its status, attempts so far, next attempt, and whether one is in flight',
        params: idParams('project', 'delivery'),
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const delivery = await store.getDelivery(project.id, request.params.delivery);
      if (!delivery) throw new NotFoundError('delivery');
      return deliveryJson(delivery);
    },
  );

  app.post<{ Params: { project: string; delivery: string } }>(
    '/api/v1/projects/:project/deliveries/:delivery/retry',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Retry (or resend) one delivery now; 409 when its endpoint is disabled',
        params: idParams('project', 'delivery'),
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const delivery = await store.getDelivery(project.id, request.params.delivery);
      if (!delivery) throw new NotFoundError('delivery');
      if (delivery.endpointId) {
        const endpoint = await store.getEndpoint(project.id, delivery.endpointId);
        if (!endpoint) {
          throw new ConflictError('the delivery’s endpoint was deleted', {
            code: 'HERALD_ERR_ENDPOINT_DELETED',
          });
        }
        if (endpoint.status === 'disabled') throw endpointDisabled(endpoint);
      }
      const updated = await store.retryDelivery(project.id, delivery.id, Date.now());
      if (!updated) throw new NotFoundError('delivery');
      if (updated === 'in-flight') {
        throw new ConflictError('an attempt of this delivery is being sent: retry once it is recorded', {
          code: 'HERALD_ERR_DELIVERY_IN_FLIGHT',
          details: { deliveryId: delivery.id },
        });
      }
      ctx.wake();
      return reply.code(202).send(deliveryJson(updated));
    },
  );
}
