/**
 * Every API route refuses query parameters it does not declare, as its bodies refuse unknown
 * fields: a typo in a filter (`?stauts=failed`, `?typ=t.ok`) would otherwise be ignored and answer
 * the unfiltered list as if it were the filtered one. 400 naming the parameter
 * (`querystring.stauts: is not a known field`, validation-words.ts).
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

/** The routes this applies to: the API (the dashboard's pages and /docs take what browsers send). */
const API_PREFIX = '/api/';

type Querystring = { type?: unknown; properties?: Record<string, unknown>; additionalProperties?: unknown };

/**
 * The route's querystring schema with `additionalProperties: false`; a route that declares none
 * gets one that takes no parameter at all.
 */
export function closedQuerystring(declared: Querystring | undefined): Querystring {
  return { type: 'object', properties: {}, ...declared, additionalProperties: false };
}

/** Closes the querystring of every API route registered after this (call before the routes). */
export function closeQuerystrings(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.url.startsWith(API_PREFIX)) return;
    const schema = (route.schema ?? {}) as { querystring?: Querystring };
    route.schema = { ...schema, querystring: closedQuerystring(schema.querystring) };
  });
}
