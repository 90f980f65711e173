import type { FastifyInstance } from 'fastify';
import { projectFor } from '../auth.ts';
import { ConflictError, endpointDisabled, NotFoundError } from '../errors.ts';
import { idParams } from '../schemas.ts';
import { deliveryJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

/** POST …/deliveries/:delivery/retry: one delivery, due now. */
export function deliveryRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store } = ctx;

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
