import type { FastifyInstance } from 'fastify';
import type { Json } from '../../domain/types.ts';
import { callerOf, requireAdmin } from '../auth.ts';
import { notFound } from '../errors.ts';
import { pageOf } from '../parse.ts';
import { eventTypeBody, pageQuery } from '../schemas.ts';
import { eventTypeJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

const typeName = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export function eventTypeRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.put<{
    Params: { name: string };
    Body: { description?: string; schema?: Json; example?: Json; deprecated?: boolean };
  }>(
    '/api/v1/event-types/:name',
    {
      schema: {
        tags: ['event-types'],
        summary: 'Create or update a catalog entry',
        params: typeName,
        body: eventTypeBody,
      },
    },
    async (request) => {
      requireAdmin(request);
      return eventTypeJson(
        await store.upsertEventType({ name: request.params.name, ...request.body }, Date.now()),
      );
    },
  );
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/api/v1/event-types',
    {
      schema: {
        tags: ['event-types'],
        summary: 'List the catalog',
        querystring: { type: 'object', properties: pageQuery },
      },
    },
    async (request) => {
      callerOf(request);
      const page = await store.listEventTypes(pageOf(request.query));
      return { data: page.data.map(eventTypeJson), nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: { name: string } }>(
    '/api/v1/event-types/:name',
    { schema: { tags: ['event-types'], summary: 'Get a catalog entry', params: typeName } },
    async (request) => {
      callerOf(request);
      const t = await store.getEventType(request.params.name);
      if (!t) throw notFound('event type');
      return eventTypeJson(t);
    },
  );
}
