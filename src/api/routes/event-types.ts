import type { FastifyInstance } from 'fastify';
import { eventTypeNameProblem } from '../../domain/event-type-name.ts';
import type { Json } from '../../domain/types.ts';
import { adminOnly, callerOf } from '../auth.ts';
import { invalid, NotFoundError, unprocessable } from '../errors.ts';
import { createEventTypeSchemaChecker } from '../event-type-schema-check.ts';
import { pageOf } from '../parse.ts';
import {
  eventTypeBody,
  eventTypeNameParams,
  eventTypeParams,
  type PageQuerystring,
  pageQuerystring,
} from '../schemas.ts';
import { eventTypeJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

export function eventTypeRoutes(app: FastifyInstance, { store }: RouteContext) {
  // Off this thread, with a time limit: a schema's pattern may backtrack without end on its example.
  const schemas = createEventTypeSchemaChecker();
  app.addHook('onClose', () => schemas.close());
  app.put<{
    Params: { name: string };
    Body: { description?: string; schema?: Json; example?: Json; deprecated?: boolean };
  }>(
    '/api/v1/event-types/:name',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['event-types'],
        summary: 'Create or update a catalog entry (admin)',
        params: eventTypeNameParams,
        body: eventTypeBody,
      },
    },
    async (request) => {
      const { name } = request.params;
      // The name rule endpoint filters follow: an entry no filter could name is refused.
      const notAName = eventTypeNameProblem(name);
      if (notAName)
        throw invalid('params.name', `${JSON.stringify(name)} is not an event-type name: ${notAName}`);
      const { schema, example } = request.body;
      if (schema !== undefined || example !== undefined) {
        // A field left out keeps its stored value, which the other must still agree with.
        const stored = schema === undefined || example === undefined ? await store.getEventType(name) : null;
        const problem = await schemas.check(
          schema !== undefined ? schema : (stored?.schema ?? null),
          example !== undefined ? example : (stored?.example ?? null),
        );
        if (problem?.field === 'schema') throw invalid('body.schema', problem.message);
        if (problem && example === undefined) {
          throw unprocessable('body.schema', `the stored example ${problem.message}`);
        }
        if (problem) throw unprocessable('body.example', problem.message);
      }
      return eventTypeJson(await store.upsertEventType({ name, ...request.body }, Date.now()));
    },
  );
  app.get<{ Querystring: PageQuerystring }>(
    '/api/v1/event-types',
    {
      schema: {
        tags: ['event-types'],
        summary: 'List the catalog',
        querystring: pageQuerystring,
      },
    },
    async (request) => {
      callerOf(request); // any valid token (the onRequest hook has checked; this keeps it so)
      const page = await store.listEventTypes(pageOf(request.query));
      return { data: page.data.map(eventTypeJson), nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: { name: string } }>(
    '/api/v1/event-types/:name',
    { schema: { tags: ['event-types'], summary: 'Get a catalog entry', params: eventTypeParams } },
    async (request) => {
      callerOf(request);
      const t = await store.getEventType(request.params.name);
      if (!t) throw new NotFoundError('event type');
      return eventTypeJson(t);
    },
  );
}
