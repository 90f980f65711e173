/**
 * How the API logs the requests it refuses a credential it knows for what the route needs (403):
 * a project API key for its scope (key-scope.ts: a send-only key used to read, a read-only one to
 * change things), a project API key of any scope on what needs the admin token, a portal link on a route it may not use (portal-access.ts: sending events,
 * reading keys, making links). Neither wrote anything, so an operator could not see a leaked key
 * or link probing what it may not do, nor a client given too narrow a key. As 401s are
 * (unauthorized-log.ts): one warning at most per interval per server and kind of caller, with the
 * number of refusals since the last one and the callers and routes they were most for. A key is
 * named by its id and prefix (what GET …/api-keys lists), a portal link by its project, a route by
 * its pattern (no ids, no query string): never a token, nor any header of the request.
 */
import type { FastifyRequest } from 'fastify';
import { LINE_INTERVAL_MS, lineDue } from './line-throttle.ts';
import { TopCounts } from './top-counts.ts';

/** Caller and route pairs named in a line. */
const TOP_REFUSALS = 5;
/** Pairs counted per line; past it, the others are counted together. */
const MAX_PAIRS = 1_000;

/** The project API key refused (the caller identify() found). */
export interface RefusedKey {
  projectId: string;
  keyId: string;
  prefix: string;
  scope: string;
}

/** A kind of caller whose refusals are one line: what names it in a pair, and the line's words. */
interface RefusalKind<F extends string> {
  /** Its throttle (line-throttle.ts), and its window's name. */
  name: string;
  /** The field counting refusals since the last line. */
  countField: string;
  /** What names the caller in a pair, in this order; the route comes last. */
  fields: readonly F[];
  message: (count: number, first: Record<F | 'route', string>) => string;
}

const every = `(logged at most once per ${LINE_INTERVAL_MS / 1000} s)`;

const KEY_SCOPE: RefusalKind<keyof RefusedKey> = {
  name: 'scope refused',
  countField: 'scopeRefused',
  fields: ['keyId', 'prefix', 'projectId', 'scope'],
  message: (count, first) =>
    `requests answered 403 for their API key's scope: ${count} since the last line, most by key ${first.keyId} (${first.prefix}…, scope ${first.scope}) on ${first.route} ${every}`,
};

/**
 * A project key on what no key may do: an operator route (`GET /api/v1/projects`), or an operator's
 * field of its project (backlogLimit, another uid). Its own line: logged as refused for its scope,
 * a `full` key's refusal read as if another scope would do, where the admin token is what is needed.
 */
const ADMIN_ONLY: RefusalKind<keyof RefusedKey> = {
  name: 'admin only refused',
  countField: 'adminOnlyRefused',
  fields: KEY_SCOPE.fields,
  message: (count, first) =>
    `requests answered 403 to a project API key on a route or field that needs the admin token: ${count} since the last line, most by key ${first.keyId} (${first.prefix}…, scope ${first.scope}) on ${first.route} ${every}`,
};

const PORTAL: RefusalKind<'projectId'> = {
  name: 'portal refused',
  countField: 'portalRefused',
  fields: ['projectId'],
  message: (count, first) =>
    `requests answered 403 to a portal link on a route it may not use: ${count} since the last line, most by a link to project ${first.projectId} on ${first.route} ${every}`,
};

interface Window {
  count: number;
  /** By JSON of the kind's fields' values, then the route. */
  pairs: TopCounts;
}

/** By server, then by kind's name. */
const windows = new WeakMap<object, Map<string, Window>>();

const fresh = (): Window => ({ count: 0, pairs: new TopCounts(MAX_PAIRS) });

/** A request was refused: counted, and a line written when one of its kind is due. */
function logRefusal<F extends string>(
  request: FastifyRequest,
  kind: RefusalKind<F>,
  caller: Record<F, string>,
): void {
  const server = request.server.server;
  let byKind = windows.get(server);
  if (!byKind) {
    byKind = new Map();
    windows.set(server, byKind);
  }
  const window = byKind.get(kind.name) ?? fresh();
  byKind.set(kind.name, window);
  window.count++;
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  window.pairs.add(JSON.stringify([...kind.fields.map((field) => caller[field]), route]));
  if (!lineDue(server, kind.name)) return;
  byKind.set(kind.name, fresh());
  const names = [...kind.fields, 'route' as const];
  const topRefusals = window.pairs.top(TOP_REFUSALS).map(([pair, count]) => {
    const values = JSON.parse(pair) as string[];
    const named = Object.fromEntries(names.map((name, i) => [name, values[i]!]));
    return { ...(named as Record<F | 'route', string>), count };
  });
  const other = window.pairs.other;
  request.log.warn(
    {
      [kind.countField]: window.count,
      topRefusals,
      pairs: window.pairs.distinct,
      ...(other > 0 ? { fromOtherPairs: other } : {}),
    },
    kind.message(window.count, topRefusals[0]!),
  );
}

/** A request was refused for its key's scope (checkRouteAccess). */
export const logScopeRefusal = (request: FastifyRequest, key: RefusedKey): void =>
  logRefusal(request, KEY_SCOPE, key);

/**
 * A key was refused what only the admin token may do, whatever its scope: an operator route
 * (checkRouteAccess), an operator's field of its project (routes/projects.ts).
 */
export const logAdminOnlyRefusal = (request: FastifyRequest, key: RefusedKey): void =>
  logRefusal(request, ADMIN_ONLY, key);

/** A portal link was refused on a route that does not let portal links in (checkRouteAccess). */
export const logPortalRefusal = (request: FastifyRequest, link: { projectId: string }): void =>
  logRefusal(request, PORTAL, link);
