import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Json, Project } from '../../domain/types.ts';
import type { NewEventInput, Store } from '../../store/store.ts';
import { projectFor } from '../auth.ts';
import { notFound, unprocessable } from '../errors.ts';
import { pageOf, parseHttpUrl, parseTime } from '../parse.ts';
import { batchBody, eventBody, idParams, pageQuery } from '../schemas.ts';
import { attemptJson, eventJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

interface EventInput {
  type: string;
  payload: Json;
  idempotencyKey?: string;
  test?: boolean;
  callbackUrl?: string;
}

const EV = '/api/v1/projects/:project/events';

/** Validates what the schema cannot (URL, catalog) and builds store input. `prefix` names fields in errors. */
async function toNewEvent(
  store: Store,
  project: Project,
  e: EventInput,
  prefix: string,
  headerKey?: string,
): Promise<NewEventInput> {
  if (project.enforceCatalog && !(await store.getEventType(e.type))) {
    throw unprocessable(
      `${prefix}.type`,
      `"${e.type}" is not in the event-type catalog (the project enforces it)`,
    );
  }
  return {
    type: e.type,
    payload: e.payload,
    test: e.test ?? false,
    idempotencyKey: e.idempotencyKey ?? headerKey ?? null,
    callbackUrl: e.callbackUrl ? parseHttpUrl(`${prefix}.callbackUrl`, e.callbackUrl) : null,
  };
}

const headerKey = (request: FastifyRequest): string | undefined => {
  const v = request.headers['idempotency-key'];
  return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined;
};

export function eventRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.post<{ Params: { project: string }; Body: EventInput }>(
    EV,
    {
      schema: {
        tags: ['events'],
        summary: 'Send an event: stored and fanned out before 202',
        params: idParams('project'),
        body: eventBody,
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project, { portal: false });
      const input = await toNewEvent(store, project, request.body, 'body', headerKey(request));
      const [accepted] = await store.acceptEvents(project.id, [input], Date.now());
      if (accepted!.duplicate) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(eventJson(accepted!.event, accepted!.deliveries));
    },
  );

  app.post<{ Params: { project: string }; Body: { events: EventInput[] } }>(
    `${EV}/batch`,
    {
      schema: {
        tags: ['events'],
        summary: 'Send up to 1000 events at once',
        params: idParams('project'),
        body: batchBody(app.heraldConfig),
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project, { portal: false });
      const inputs = await Promise.all(
        request.body.events.map((e, i) => toNewEvent(store, project, e, `body.events.${i}`)),
      );
      const accepted = await store.acceptEvents(project.id, inputs, Date.now());
      return reply.code(202).send({ data: accepted.map((a) => eventJson(a.event, a.deliveries)) });
    },
  );

  app.get<{
    Params: { project: string };
    Querystring: { limit?: string; cursor?: string; type?: string; since?: string; until?: string };
  }>(
    EV,
    {
      schema: {
        tags: ['events'],
        summary: 'List events, newest first',
        params: idParams('project'),
        querystring: {
          type: 'object',
          properties: {
            ...pageQuery,
            type: { type: 'string', maxLength: 200 },
            since: { type: 'string' },
            until: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const q = request.query;
      const page = await store.listEvents(project.id, {
        ...pageOf(q),
        type: q.type,
        since: parseTime('querystring.since', q.since),
        until: parseTime('querystring.until', q.until),
      });
      return { data: page.data.map((e) => eventJson(e)), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { project: string; event: string } }>(
    `${EV}/:event`,
    {
      schema: {
        tags: ['events'],
        summary: 'Get an event with the status of each delivery',
        params: idParams('project', 'event'),
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const found = await store.getEvent(project.id, request.params.event);
      if (!found) throw notFound('event');
      return eventJson(found.event, found.deliveries);
    },
  );

  app.get<{ Params: { project: string; event: string }; Querystring: { limit?: string; cursor?: string } }>(
    `${EV}/:event/attempts`,
    {
      schema: {
        tags: ['events'],
        summary: 'Every attempt made for an event',
        params: idParams('project', 'event'),
        querystring: { type: 'object', properties: pageQuery },
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      if (!(await store.getEvent(project.id, request.params.event))) throw notFound('event');
      const page = await store.listAttempts(project.id, {
        ...pageOf(request.query),
        eventId: request.params.event,
      });
      return { data: page.data.map(attemptJson), nextCursor: page.nextCursor };
    },
  );
}
