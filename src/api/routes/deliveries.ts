import type { FastifyInstance } from 'fastify';
import { decodeDueCursor } from '../../store/due-cursor.ts';
import { projectFor } from '../auth.ts';
import { ConflictError, endpointDisabled, invalid, NotFoundError } from '../errors.ts';
import { pageOf } from '../parse.ts';
import { endpointDeliveriesQuerystring, idParams, type PageQuerystring } from '../schemas.ts';
import { deliveryJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';
import { endpointFor } from './endpoints.ts';

/**
 * Each state of an endpoint's waiting deliveries is counted up to this many index entries (both
 * counts of an endpoint with 200,000 pending: 0.6 ms on SQLite here, 1.6 ms on PostgreSQL): enough
 * to tell a hiccup from an outage, cheap enough for every first page.
 */
export const BACKLOG_COUNT_CAP = 10_000;

/**
 * GET …/deliveries/:delivery: one delivery's state; POST …/deliveries/:delivery/retry: due now;
 * GET …/endpoints/:endpoint/deliveries: what waits for one endpoint.
 */
export function deliveryRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store } = ctx;

  // The endpoint's queue: its deliveries pending (or parked) in due order, for a customer asking
  // what is still to come and when; what is done is in its attempt history.
  app.get<{
    Params: { project: string; endpoint: string };
    Querystring: PageQuerystring & { status?: 'pending' | 'parked' };
  }>(
    '/api/v1/projects/:project/endpoints/:endpoint/deliveries',
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['deliveries'],
        summary: 'What waits for an endpoint: its pending (or parked) deliveries in due order, with counts',
        params: idParams('project', 'endpoint'),
        querystring: endpointDeliveriesQuerystring,
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      // Its cursors are a due time and an id (due-cursor.ts), not an id alone: checked here.
      const page = pageOf(request.query);
      if (page.cursor !== null && decodeDueCursor(page.cursor) === null) {
        throw invalid('querystring.cursor', 'is not a cursor Herald returned for this list');
      }
      const status = request.query.status ?? 'pending';
      const found = await store.listEndpointDeliveries(project.id, endpoint.id, { ...page, status });
      const leaseNow = store.leaseNow?.() ?? Date.now();
      const answer = { data: found.data.map((d) => deliveryJson(d, leaseNow)), nextCursor: found.nextCursor };
      if (page.cursor !== null) return answer;
      const counts = await store.countEndpointBacklog(project.id, endpoint.id, BACKLOG_COUNT_CAP);
      return { ...answer, counts: { ...counts, atMost: BACKLOG_COUNT_CAP } };
    },
  );

  // What GET …/events/:event lists for each of its deliveries, for one of them: a screen waiting on
  // one attempt reads this row, not an event that may have fanned out to thousands of endpoints.
  app.get<{ Params: { project: string; delivery: string } }>(
    '/api/v1/projects/:project/deliveries/:delivery',
    {
      config: { access: 'read', portal: true },
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
      return deliveryJson(delivery, store.leaseNow?.() ?? Date.now());
    },
  );

  app.post<{ Params: { project: string; delivery: string } }>(
    '/api/v1/projects/:project/deliveries/:delivery/retry',
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['deliveries'],
        summary: 'Retry (or resend) one delivery now; 409 when its endpoint is disabled',
        params: idParams('project', 'delivery'),
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const deliveryId = request.params.delivery;
      // The store checks the delivery's endpoint (and its project's delete) in the write itself: a
      // delete or disable at the same time comes wholly before or after it. Looked at here first,
      // one between the look and the write was retried all the same (202) and its delivery
      // reopened, as was a callback its project's delete had closed, and then sent.
      const updated = await store.retryDelivery(project.id, deliveryId, Date.now());
      if (!updated) {
        if (!(await store.getProject(project.id))) throw new NotFoundError('project');
        throw new NotFoundError('delivery');
      }
      if (updated === 'endpoint-deleted') {
        throw new ConflictError('the delivery’s endpoint was deleted', {
          code: 'HERALD_ERR_ENDPOINT_DELETED',
        });
      }
      if (updated === 'endpoint-disabled') {
        const endpointId = (await store.getDelivery(project.id, deliveryId))?.endpointId;
        if (!endpointId) throw new NotFoundError('delivery');
        throw endpointDisabled({ id: endpointId });
      }
      if (updated === 'in-flight') {
        throw new ConflictError('an attempt of this delivery is being sent: retry once it is recorded', {
          code: 'HERALD_ERR_DELIVERY_IN_FLIGHT',
          details: { deliveryId },
        });
      }
      ctx.wake();
      return reply.code(202).send(deliveryJson(updated, store.leaseNow?.() ?? Date.now()));
    },
  );
}
