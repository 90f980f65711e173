/**
 * How the API logs the requests it answers 401 (no token, or one Herald does not know): a brute
 * force or a client with a revoked key wrote nothing at any level, so it could not be seen in the
 * log. One warning at most per interval per server, with the number of 401s since the last one and
 * the client addresses they came from most (request.ip: X-Forwarded-For only from a trusted
 * proxy). Never a token: no header of the request is written.
 */
import type { FastifyRequest } from 'fastify';
import { LINE_INTERVAL_MS, lineDue } from './line-throttle.ts';
import { TopCounts } from './top-counts.ts';

/** Addresses named in a line. */
const TOP_ADDRESSES = 5;
/** Addresses counted per line; past it, the others are counted together (a spread attack). */
const MAX_ADDRESSES = 1_000;

interface Window {
  count: number;
  byAddress: TopCounts;
}

const windows = new WeakMap<object, Window>();

const fresh = (): Window => ({ count: 0, byAddress: new TopCounts(MAX_ADDRESSES) });

/** A request was answered 401: counted, and a line written when one is due. */
export function logUnauthorized(request: FastifyRequest): void {
  const server = request.server.server;
  const window = windows.get(server) ?? fresh();
  windows.set(server, window);
  window.count++;
  window.byAddress.add(request.ip);
  if (!lineDue(server, 'unauthorized')) return;
  windows.set(server, fresh());
  const topAddresses = window.byAddress.top(TOP_ADDRESSES).map(([address, count]) => ({ address, count }));
  const other = window.byAddress.other;
  request.log.warn(
    {
      unauthorized: window.count,
      topAddresses,
      addresses: window.byAddress.distinct,
      ...(other > 0 ? { fromOtherAddresses: other } : {}),
    },
    `requests answered 401 (no token, or one Herald does not know): ${window.count} since the last line, most from ${topAddresses.map((a) => a.address).join(', ')} (logged at most once per ${LINE_INTERVAL_MS / 1000} s)`,
  );
}
