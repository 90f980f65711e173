import type { FastifyInstance } from 'fastify';
import { eventTypeNameProblem } from '../../domain/event-type-name.ts';
import type { Json } from '../../domain/types.ts';
import { callerOf } from '../auth.ts';
import { catalogCursorIn, catalogCursorOut } from '../catalog-cursor.ts';
import { ConflictError, invalid, NotFoundError, schemaCheckBusy, unprocessable } from '../errors.ts';
import { EVENT_TYPE_PUT_ATTEMPTS, upsertEventTypeChecked } from '../event-type-checked-write.ts';
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

export function eventTypeRoutes(app: FastifyInstance, { store, config }: RouteContext) {
  // Off this thread, with a time limit: a schema's pattern may backtrack without end on its example.
  const schemas = createEventTypeSchemaChecker({ wallMs: config.schemaCheckWallMs });
  app.addHook('onClose', () => schemas.close());
  /**
   * 400/422 when the pair does not go together, 503 when this server could not check it now;
   * `sentExample` undefined: the example is the stored one.
   */
  const checkPair = async (schema: Json | null, example: Json | null, sentExample: Json | undefined) => {
    const problem = await schemas.check(schema, example);
    if (problem?.busy) throw schemaCheckBusy('body.schema', problem.message);
    if (problem?.field === 'schema') throw invalid('body.schema', problem.message);
    if (problem && sentExample === undefined) {
      throw unprocessable('body.schema', `the stored example ${problem.message}`);
    }
    if (problem) throw unprocessable('body.example', problem.message);
  };
  app.put<{
    Params: { name: string };
    Body: { description?: string; schema?: Json; example?: Json; deprecated?: boolean } | null;
  }>(
    '/api/v1/event-types/:name',
    {
      config: { access: 'operator', portal: false },
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
      const body = request.body ?? {};
      const { schema, example } = body;
      const input = { name, ...body };
      // A field left out keeps its stored value, which the other must still agree with: checked
      // off this thread, so the write goes ahead only if that value is still the one checked (a
      // PUT of the other field may come in between), else it is read and checked again.
      if ((schema === undefined) === (example === undefined)) {
        if (schema !== undefined) await checkPair(schema, example ?? null, example);
        return eventTypeJson(await store.upsertEventType(input, Date.now()));
      }
      const written = await upsertEventTypeChecked(store, input, (s, e) => checkPair(s, e, example));
      if (written) return eventTypeJson(written);
      const field = example === undefined ? 'body.schema' : 'body.example';
      throw new ConflictError(
        `${field}: the event type's stored ${example === undefined ? 'example' : 'schema'} changed ${EVENT_TYPE_PUT_ATTEMPTS} times while this one was checked against it: send the PUT again`,
        { details: { field } },
      );
    },
  );
  app.get<{ Querystring: PageQuerystring }>(
    '/api/v1/event-types',
    {
      config: { access: 'any', portal: true },
      schema: {
        tags: ['event-types'],
        summary: 'List the catalog',
        querystring: pageQuerystring,
      },
    },
    async (request) => {
      callerOf(request); // any valid token (the onRequest hook has checked; this keeps it so)
      const asked = pageOf(request.query);
      const page = await store.listEventTypes({ ...asked, cursor: catalogCursorIn(asked.cursor) });
      return { data: page.data.map(eventTypeJson), nextCursor: catalogCursorOut(page.nextCursor) };
    },
  );
  app.get<{ Params: { name: string } }>(
    '/api/v1/event-types/:name',
    {
      config: { access: 'any', portal: true },
      schema: { tags: ['event-types'], summary: 'Get a catalog entry', params: eventTypeParams },
    },
    async (request) => {
      callerOf(request);
      const t = await store.getEventType(request.params.name);
      if (!t) throw new NotFoundError('event type');
      return eventTypeJson(t);
    },
  );
}
