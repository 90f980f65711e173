/**
 * How the API logs an error it answers 500 for. A broken store (a table missing or renamed, a
 * privilege revoked, a damaged database) fails every request the same way: one error line with its
 * stack per request was ~1 KB each at the request rate (3,813 lines, 3.7 MB in 20 s under 8
 * clients). The first of each kind (its code and message) is logged with its stack, then at most
 * one per interval per kind with the number answered 500 in between, and each line names the
 * route it came from (its pattern) and the Herald ids in its path (`prj_…`, `ep_…`): never other
 * path values or the query, where a misplaced credential could be.
 */
import type { FastifyRequest } from 'fastify';
import { errorKind, LINE_INTERVAL_MS, lineDue } from './line-throttle.ts';

/** A Herald id: a prefix and 26 base-32 characters (src/domain/ids.ts); not a project's uid or anything else. */
const HERALD_ID = /^[a-z]{2,4}_[0-9a-z]{26}$/;

/** The path parameters that are Herald ids, by name. */
const idsOf = (params: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries((params ?? {}) as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && HERALD_ID.test(entry[1]),
    ),
  );

export function logUnhandledError(request: FastifyRequest, error: unknown): void {
  const due = lineDue(request.server.server, `unhandled ${errorKind(error)}`);
  if (!due) return;
  request.log.error(
    {
      err: error,
      method: request.method,
      route: request.routeOptions.url ?? null,
      ...idsOf(request.params),
      ...(due.since > 0 ? { failedSinceLastLine: due.since } : {}),
    },
    `unhandled error: answered 500 (the same error is logged at most once per ${LINE_INTERVAL_MS / 1000} s, with the number since)`,
  );
}
