import type { FastifyInstance } from 'fastify';
import { projectFor } from '../auth.ts';
import { HeraldError, notFound, unprocessable } from '../errors.ts';
import { pageOf, parseBucket, parseTime } from '../parse.ts';
import { idParams, pageQuery } from '../schemas.ts';
import { attemptJson, deliveryJson, operationalEventJson, statsJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';
import { endpointFor } from './endpoints.ts';

const P = '/api/v1/projects/:project';
const endpointParams = idParams('project', 'endpoint');

/** Delivery history and the manual levers: retry, recover, test send, stats. */
export function deliveryRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store } = ctx;

  app.post<{ Params: { project: string; delivery: string } }>(
    `${P}/deliveries/:delivery/retry`,
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Retry (or resend) one delivery now',
        params: idParams('project', 'delivery'),
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const delivery = await store.getDelivery(project.id, request.params.delivery);
      if (!delivery) throw notFound('delivery');
      if (delivery.endpointId) {
        const endpoint = await store.getEndpoint(project.id, delivery.endpointId);
        if (!endpoint)
          throw new HeraldError(409, 'HERALD_ERR_ENDPOINT_DELETED', 'the delivery’s endpoint was deleted');
        if (endpoint.status === 'disabled') {
          throw new HeraldError(
            409,
            'HERALD_ERR_ENDPOINT_DISABLED',
            'the endpoint is disabled: enable it first',
          );
        }
      }
      const updated = await store.retryDelivery(project.id, delivery.id, Date.now());
      return reply.code(202).send(deliveryJson(updated!));
    },
  );

  app.get<{ Params: { project: string; attempt: string } }>(
    `${P}/attempts/:attempt`,
    {
      schema: {
        tags: ['attempts'],
        summary: 'One attempt: request, response, error',
        params: idParams('project', 'attempt'),
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const attempt = await store.getAttempt(project.id, request.params.attempt);
      if (!attempt) throw notFound('attempt');
      return attemptJson(attempt);
    },
  );

  app.get<{
    Params: { project: string; endpoint: string };
    Querystring: {
      limit?: string;
      cursor?: string;
      status?: 'succeeded' | 'failed';
      since?: string;
      until?: string;
      eventType?: string;
    };
  }>(
    `${P}/endpoints/:endpoint/attempts`,
    {
      schema: {
        tags: ['attempts'],
        summary: 'Attempt history of an endpoint, newest first',
        params: endpointParams,
        querystring: {
          type: 'object',
          properties: {
            ...pageQuery,
            status: { type: 'string', enum: ['succeeded', 'failed'] },
            since: { type: 'string' },
            until: { type: 'string' },
            eventType: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const q = request.query;
      const page = await store.listAttempts(project.id, {
        endpointId: endpoint.id,
        ...pageOf(q),
        outcome: q.status,
        eventType: q.eventType,
        since: parseTime('querystring.since', q.since),
        until: parseTime('querystring.until', q.until),
      });
      return { data: page.data.map(attemptJson), nextCursor: page.nextCursor };
    },
  );

  app.get<{
    Params: { project: string; endpoint: string };
    Querystring: { since?: string; until?: string; bucket?: string };
  }>(
    `${P}/endpoints/:endpoint/stats`,
    {
      schema: {
        tags: ['attempts'],
        summary: 'Attempts per time bucket: succeeded, failed, latency',
        params: endpointParams,
        querystring: {
          type: 'object',
          properties: { since: { type: 'string' }, until: { type: 'string' }, bucket: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const now = Date.now();
      const until = parseTime('querystring.until', request.query.until) ?? now;
      const since = parseTime('querystring.since', request.query.since) ?? until - 86_400_000;
      const bucketMs = parseBucket(request.query.bucket);
      if ((until - since) / bucketMs > 10_000)
        throw unprocessable('querystring.bucket', 'too many buckets for this range');
      const buckets = await store.endpointStats(project.id, endpoint.id, { since, until, bucketMs });
      return { data: buckets.map(statsJson), bucketMs };
    },
  );

  app.post<{
    Params: { project: string; endpoint: string };
    Body: { since: string | number; until?: string | number };
  }>(
    `${P}/endpoints/:endpoint/recover`,
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Retry every failed delivery of the endpoint created in [since, until]',
        params: endpointParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['since'],
          properties: { since: { type: ['string', 'number'] }, until: { type: ['string', 'number'] } },
        },
      },
    },
    async (request, reply) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const since = parseTime('body.since', request.body.since)!;
      const until = parseTime('body.until', request.body.until) ?? Date.now();
      const recovered = await store.recoverDeliveries(project.id, endpoint.id, since, until, Date.now());
      return reply.code(202).send({ recovered });
    },
  );

  app.post<{ Params: { project: string; endpoint: string }; Body: { eventType?: string } | undefined }>(
    `${P}/endpoints/:endpoint/test`,
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Send the catalog example of an event type to this endpoint only',
        params: endpointParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { eventType: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (request, reply) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const wanted = request.body?.eventType;
      let type: string | null = null;
      let example = null;
      const candidates = wanted ? [wanted] : endpoint.eventTypes;
      for (const name of candidates) {
        const t = await store.getEventType(name);
        if (t && t.example !== null) {
          type = t.name;
          example = t.example;
          break;
        }
      }
      if (!type && !wanted && endpoint.eventTypes.length === 0) {
        const first = (await store.listEventTypes({ limit: 1000 })).data.find((t) => t.example !== null);
        if (first) [type, example] = [first.name, first.example];
      }
      if (!type) {
        throw unprocessable(
          'body.eventType',
          wanted
            ? `"${wanted}" has no example in the catalog`
            : 'no subscribed event type has an example in the catalog',
        );
      }
      const [accepted] = await store.acceptEvents(
        project.id,
        [
          {
            type,
            payload: example,
            test: true,
            idempotencyKey: null,
            callbackUrl: null,
            onlyEndpointId: endpoint.id,
          },
        ],
        Date.now(),
      );
      return reply.code(202).send({
        eventId: accepted!.event.id,
        deliveryId: accepted!.deliveries[0]?.id ?? null,
        eventType: type,
      });
    },
  );

  app.get<{ Params: { project: string }; Querystring: { limit?: string; cursor?: string } }>(
    `${P}/operational-events`,
    {
      schema: {
        tags: ['operational-events'],
        summary:
          'What Herald reported about this project’s endpoints (endpoint.disabled, endpoint.recovered)',
        params: idParams('project'),
        querystring: { type: 'object', properties: pageQuery },
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const page = await store.listOperationalEvents(project.id, pageOf(request.query));
      return { data: page.data.map(operationalEventJson), nextCursor: page.nextCursor };
    },
  );
}
