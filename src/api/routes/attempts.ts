import type { FastifyInstance } from 'fastify';
import { ID_PREFIX } from '../../domain/ids.ts';
import { projectFor } from '../auth.ts';
import { NotFoundError, UnprocessableError, ValidationError } from '../errors.ts';
import { pageOf } from '../parse.ts';
import { parseBucket, parseTime, parseTimeRange } from '../parse-time.ts';
import {
  attemptListQuerystring,
  idParams,
  type PageQuerystring,
  pageQuerystring,
  statsQuerystring,
} from '../schemas.ts';
import { attemptJson, statsJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';
import { endpointFor } from './endpoints.ts';

const P = '/api/v1/projects/:project';
/** Stats over more buckets than this are refused (a year of minutes is not a chart). */
const MAX_BUCKETS = 10_000;
const DAY_MS = 86_400_000;
/**
 * The longest range stats are counted over (`until - since`): each attempt of the range is read,
 * so a longer one would cost in proportion (a 30-day chart of 525,000 attempts: 1.2-1.4 s of reads on
 * SQLite, in steps between which other requests are served).
 */
export const MAX_STATS_RANGE_DAYS = 90;

type AttemptListQuery = PageQuerystring & {
  status?: 'succeeded' | 'failed';
  since?: string;
  until?: string;
  eventType?: string;
};

/** Attempt history: one attempt, an event's attempts, an endpoint's history and stats. */
export function attemptRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store } = ctx;

  app.get<{ Params: { project: string; attempt: string } }>(
    `${P}/attempts/:attempt`,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['attempts'],
        summary: 'One attempt: request, response, error',
        params: idParams('project', 'attempt'),
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const attempt = await store.getAttempt(project.id, request.params.attempt);
      if (!attempt) throw new NotFoundError('attempt');
      return attemptJson(attempt);
    },
  );

  app.get<{ Params: { project: string; event: string }; Querystring: PageQuerystring }>(
    `${P}/events/:event/attempts`,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['attempts'],
        summary: 'Every attempt made for an event, newest first',
        params: idParams('project', 'event'),
        querystring: pageQuerystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      // Whether it exists only: getEvent would read every delivery of an event sent to thousands.
      if (!(await store.eventExists(project.id, request.params.event))) throw new NotFoundError('event');
      const page = await store.listAttempts(project.id, {
        ...pageOf(request.query, ID_PREFIX.attempt),
        eventId: request.params.event,
      });
      return { data: page.data.map(attemptJson), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { project: string; endpoint: string }; Querystring: AttemptListQuery }>(
    `${P}/endpoints/:endpoint/attempts`,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['attempts'],
        summary: 'Attempt history of an endpoint, newest first',
        params: idParams('project', 'endpoint'),
        querystring: attemptListQuerystring,
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const q = request.query;
      const page = await store.listAttempts(project.id, {
        endpointId: endpoint.id,
        ...pageOf(q, ID_PREFIX.attempt),
        outcome: q.status,
        eventType: q.eventType,
        ...parseTimeRange(q),
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
      config: { access: 'read', portal: true },
      schema: {
        tags: ['attempts'],
        summary: 'Attempts per time bucket (default: the last 24 h in 1 h buckets)',
        params: idParams('project', 'endpoint'),
        querystring: statsQuerystring,
      },
    },
    async (request, reply) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const until = parseTime('querystring.until', request.query.until) ?? Date.now();
      const since = parseTime('querystring.since', request.query.since) ?? until - DAY_MS;
      const bucketMs = parseBucket(request.query.bucket);
      if (since > until) throw new UnprocessableError('querystring.since', 'must not be after until');
      if (until - since > MAX_STATS_RANGE_DAYS * DAY_MS) {
        throw new ValidationError(
          'querystring.since',
          `must be at most ${MAX_STATS_RANGE_DAYS} days before until`,
          { details: { limit: MAX_STATS_RANGE_DAYS } },
        );
      }
      const buckets = Math.ceil((until - since) / bucketMs);
      if (buckets > MAX_BUCKETS) {
        throw new UnprocessableError(
          'querystring.bucket',
          `too many buckets for this range: ${buckets}, over the limit of ${MAX_BUCKETS}; choose a larger bucket or a shorter range`,
          { details: { limit: MAX_BUCKETS, buckets } },
        );
      }
      // The response's 'close' before it is sent: the client left, and the chart need not be read on.
      const left = new AbortController();
      reply.raw.once('close', () => left.abort());
      if (reply.raw.closed) left.abort();
      const stats = await store.endpointStats(project.id, endpoint.id, {
        since,
        until,
        bucketMs,
        signal: left.signal,
      });
      return { data: stats.map(statsJson), bucketMs };
    },
  );
}
