import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseCidr } from '../../domain/address-classifier.ts';
import { ID_PREFIX } from '../../domain/ids.ts';
import type { DeliveryStatus } from '../../domain/types.ts';
import { acceptEvents } from '../accept-events.ts';
import { sendAccepted } from '../accepted-answer.ts';
import { callerOf, projectFor } from '../auth.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { type EventInput, eventLookups, idempotencyKeyHeader, toNewEvent } from '../event-input.ts';
import { scopeCovers } from '../key-scope.ts';
import { pageOf } from '../parse.ts';
import { parseTimeRange } from '../parse-time.ts';
import { LIMITS } from '../schemas/common.ts';
import {
  batchBody,
  eventBody,
  eventDeliveriesQuerystring,
  eventListQuerystring,
  eventQuerystring,
  idParams,
  type PageQuerystring,
} from '../schemas.ts';
import { deliveryJson, eventJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

const EV = '/api/v1/projects/:project/events';

/**
 * Whether the caller may read the project's events: a send-only key may not, and is not shown a
 * repeated idempotency key's original event whole (accepted-answer.ts repeatJson).
 */
const mayRead = (request: FastifyRequest) => {
  const caller = callerOf(request);
  return caller.kind !== 'project' || scopeCovers(caller.scope, 'read');
};

/**
 * The `Idempotency-Key` header, described for /openapi.json. Checked by idempotencyKeyHeader (its
 * messages name the header), so nothing here constrains it.
 */
const idempotencyKeyHeaderSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description:
        "The event's idempotency key, instead of the body field idempotencyKey (printable ASCII, 1 to " +
        `${LIMITS.idempotencyKeyLength} characters; ` +
        'a body key that differs is 400). Within 24 h the same key answers 202 with the original ' +
        'event and the header idempotent-replayed: true, and creates nothing (to a send-only key: ' +
        'its id, type and time, not its payload, callback URL or deliveries).',
    },
  },
} as const;

/**
 * Ingest and read events. A repeated idempotency key (24 h) answers 202 with the original event,
 * creates nothing, and says so in the `Idempotent-Replayed: true` header.
 */
export function eventRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store, config } = ctx;
  /** Where a callbackUrl may point when its host is an address (parsed once, not per event). */
  const allow = config.delivery.allowNetworks.map(parseCidr);
  /** Now in the time leases are stored in, for the deliveries' inFlight (Store.leaseNow). */
  const leaseNow = () => store.leaseNow?.() ?? Date.now();

  app.post<{ Params: { project: string }; Body: EventInput }>(
    EV,
    {
      config: { access: 'send', portal: false },
      schema: {
        tags: ['events'],
        summary: 'Send an event: stored and fanned out before the 202',
        params: idParams('project'),
        headers: idempotencyKeyHeaderSchema,
        body: eventBody,
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const input = await toNewEvent(
        eventLookups(store, project.id),
        project,
        request.body,
        'body',
        allow,
        idempotencyKeyHeader(request),
      );
      const [accepted] = await acceptEvents(ctx, project, [input], 'body');
      if (accepted!.duplicate) reply.header('idempotent-replayed', 'true');
      return sendAccepted(reply, [accepted!], false, !mayRead(request), leaseNow);
    },
  );

  app.post<{ Params: { project: string }; Body: { events: EventInput[] } }>(
    `${EV}/batch`,
    {
      config: { access: 'send', portal: false },
      schema: {
        tags: ['events'],
        summary: `Send up to ${config.maxBatchEvents} events at once; results in request order`,
        params: idParams('project'),
        body: batchBody(config),
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      if (idempotencyKeyHeader(request) !== undefined) {
        // One key cannot stand for many events; ignoring it would store a retried batch twice.
        throw new ValidationError(
          'headers.idempotency-key',
          'applies to a single event: give each event of a batch its own idempotencyKey',
        );
      }
      const inputs = [];
      const lookups = eventLookups(store, project.id); // a type asked of the store once per batch
      for (const [i, e] of request.body.events.entries()) {
        inputs.push(await toNewEvent(lookups, project, e, `body.events.${i}`, allow));
      }
      const accepted = await acceptEvents(ctx, project, inputs, 'body.events');
      return sendAccepted(reply, accepted, true, !mayRead(request), leaseNow);
    },
  );

  app.get<{
    Params: { project: string };
    Querystring: PageQuerystring & { type?: string; since?: string; until?: string; idempotencyKey?: string };
  }>(
    EV,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['events'],
        summary: 'List events, newest first',
        params: idParams('project'),
        querystring: eventListQuerystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const q = request.query;
      const page = await store.listEvents(project.id, {
        ...pageOf(q, ID_PREFIX.event),
        type: q.type,
        ...parseTimeRange(q),
        idempotencyKey: q.idempotencyKey,
      });
      return { data: page.data.map((e) => eventJson(e)), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { project: string; event: string }; Querystring: { deliveries?: 'true' | 'false' } }>(
    `${EV}/:event`,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['events'],
        summary: 'Get an event with the status of each delivery (or without them: ?deliveries=false)',
        params: idParams('project', 'event'),
        querystring: eventQuerystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      if (request.query.deliveries === 'false') {
        const event = await store.getEventWithoutDeliveries(project.id, request.params.event);
        if (!event) throw new NotFoundError('event');
        return eventJson(event);
      }
      const found = await store.getEvent(project.id, request.params.event);
      if (!found) throw new NotFoundError('event');
      return eventJson(found.event, { deliveries: found.deliveries, leaseNow: leaseNow() });
    },
  );

  // What GET …/events/:event lists whole, a page at a time: an event may fan out to
  // HERALD_MAX_DELIVERIES_PER_REQUEST deliveries, tens of MB in one answer.
  app.get<{
    Params: { project: string; event: string };
    Querystring: PageQuerystring & { status?: DeliveryStatus };
  }>(
    `${EV}/:event/deliveries`,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['events'],
        summary: 'List an event’s deliveries a page at a time, in id order, optionally in one status',
        params: idParams('project', 'event'),
        querystring: eventDeliveriesQuerystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const page = await store.listEventDeliveries(project.id, request.params.event, {
        ...pageOf(request.query, ID_PREFIX.delivery),
        status: request.query.status,
      });
      if (!page) throw new NotFoundError('event');
      const now = leaseNow();
      return { data: page.data.map((d) => deliveryJson(d, now)), nextCursor: page.nextCursor };
    },
  );
}
