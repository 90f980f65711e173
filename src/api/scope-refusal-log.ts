/**
 * How the API logs the requests it refuses a project API key for its scope (403, key-scope.ts): a
 * send-only key used to read, or a read-only one to change things, wrote nothing, so an operator
 * could not see a leaked key probing what it may not do, nor a client given too narrow a key. As
 * 401s are (unauthorized-log.ts): one warning at most per interval per server, with the number of
 * refusals since the last one and the keys and routes they were most for. A key is named by its
 * id and prefix (what GET …/api-keys lists), a route by its pattern (no ids, no query string):
 * never a token, nor any header of the request.
 */
import type { FastifyRequest } from 'fastify';
import { LINE_INTERVAL_MS, lineDue } from './line-throttle.ts';
import { TopCounts } from './top-counts.ts';

/** Key and route pairs named in a line. */
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

interface Window {
  count: number;
  /** By JSON of [keyId, prefix, projectId, scope, route]. */
  pairs: TopCounts;
}

const windows = new WeakMap<object, Window>();

const fresh = (): Window => ({ count: 0, pairs: new TopCounts(MAX_PAIRS) });

/** A request was refused for its key's scope: counted, and a line written when one is due. */
export function logScopeRefusal(request: FastifyRequest, key: RefusedKey): void {
  const server = request.server.server;
  const window = windows.get(server) ?? fresh();
  windows.set(server, window);
  window.count++;
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  window.pairs.add(JSON.stringify([key.keyId, key.prefix, key.projectId, key.scope, route]));
  if (!lineDue(server, 'scope refused')) return;
  windows.set(server, fresh());
  const topRefusals = window.pairs.top(TOP_REFUSALS).map(([pair, count]) => {
    const [keyId, prefix, projectId, scope, route] = JSON.parse(pair) as string[];
    return { keyId, prefix, projectId, scope, route, count };
  });
  const other = window.pairs.other;
  const first = topRefusals[0]!;
  request.log.warn(
    {
      scopeRefused: window.count,
      topRefusals,
      pairs: window.pairs.distinct,
      ...(other > 0 ? { fromOtherPairs: other } : {}),
    },
    `requests answered 403 for their API key's scope: ${window.count} since the last line, most by key ${first.keyId} (${first.prefix}…, scope ${first.scope}) on ${first.route} (logged at most once per ${LINE_INTERVAL_MS / 1000} s)`,
  );
}
