/**
 * This thread's database outage, as the parts of a process that use its pools count it: the API's
 * requests answered 503, the dispatcher's failed store calls, the failed reads of the delivery
 * backlog for /metrics. The first failure of any part starts it; the next connection a pool of this
 * thread opens ends it (whenDatabaseReached), with one info line saying how long it lasted and what
 * failed meanwhile in each part. Before 2026-12-07 each part kept an outage of its own and wrote a
 * line of its own, so a worker whose dispatcher runs on this thread and that was scraped for metrics
 * wrote two "reached again" lines for one outage, each with its own length and count. A dispatcher
 * on a thread of its own (dispatcher-thread.ts) has pools, an outage and a line of its own, which
 * says it is the dispatcher's.
 */
import { REACHED_AGAIN_LINE, whenDatabaseReached } from './store-unavailable.ts';

/** A part of a process that counts its failures during an outage. */
export type OutagePart = 'api' | 'dispatcher' | 'metrics';

/** The log the line goes to: the logger of the part that failed first. */
export interface OutageLog {
  info(fields: object, message: string): void;
}

/** What failed, in words, for a count of 1 and for any other. */
type Words = readonly [one: string, many: string];

/** Per part, in the order the line lists them: its field, the line's prefix when it is the only part, and its count in words. */
const PARTS: Record<OutagePart, { field: string; prefix: string; alone: Words; among: Words }> = {
  api: {
    field: 'refused',
    prefix: '',
    alone: ['request was answered 503', 'requests were answered 503'],
    among: ['request was answered 503', 'requests were answered 503'],
  },
  dispatcher: {
    field: 'failedCalls',
    prefix: 'dispatcher: ',
    alone: ['store call failed', 'store calls failed'],
    among: ['store call of the dispatcher failed', 'store calls of the dispatcher failed'],
  },
  metrics: {
    field: 'failedReads',
    prefix: 'metrics: ',
    alone: ['read of the delivery backlog failed', 'reads of the delivery backlog failed'],
    among: [
      'read of the delivery backlog (metrics) failed',
      'reads of the delivery backlog (metrics) failed',
    ],
  },
};

/** `1 store call failed`, `2 store calls failed`. */
const inWords = (n: number, [one, many]: Words) => `${n} ${n === 1 ? one : many}`;
const ORDER = Object.keys(PARTS) as OutagePart[];

/**
 * The line saying an outage of `outageMs` is over, with the failures of each part counted: worded
 * as that part's when only one part failed ("metrics: … 3 reads of the delivery backlog failed
 * meanwhile"), else one line naming each part's count.
 */
export function reachedAgainLine(
  outageMs: number,
  counts: ReadonlyMap<OutagePart, number>,
): { fields: Record<string, number>; message: string } {
  const parts = ORDER.filter((part) => (counts.get(part) ?? 0) > 0);
  const fields: Record<string, number> = { outageMs };
  for (const part of parts) fields[PARTS[part].field] = counts.get(part) as number;
  const lasted = `it could not be for ${Math.round(outageMs / 1000)} s`;
  const only = parts.length === 1 ? (parts[0] as OutagePart) : null;
  if (only) {
    const { prefix, alone } = PARTS[only];
    return {
      fields,
      message: `${prefix}${REACHED_AGAIN_LINE} (${lasted}; ${inWords(fields[PARTS[only].field] as number, alone)} meanwhile)`,
    };
  }
  const each = parts.map((part) => inWords(counts.get(part) as number, PARTS[part].among));
  const listed = each.length > 1 ? `${each.slice(0, -1).join(', ')} and ${each.at(-1)}` : each.join('');
  return { fields, message: `${REACHED_AGAIN_LINE} (${lasted}; meanwhile ${listed})` };
}

interface Outage {
  startedAt: number;
  now: () => number;
  log: OutageLog;
  counts: Map<OutagePart, number>;
}

/** This thread's outage under way (one failure counted, the database not reached since), or null. */
let outage: Outage | null = null;

/**
 * Counts one failure of `part` for the database out of reach. The first of an outage (of any part)
 * waits for the next connection a pool of this thread opens, and then `log` (that first part's)
 * gets the one line of reachedAgainLine. `now` is the part's clock (a test's).
 */
export function countOutageFailure(part: OutagePart, log: OutageLog, now: () => number = Date.now): void {
  if (outage) {
    outage.counts.set(part, (outage.counts.get(part) ?? 0) + 1);
    return;
  }
  const current: Outage = { startedAt: now(), now, log, counts: new Map([[part, 1]]) };
  outage = current;
  whenDatabaseReached(() => {
    outage = null;
    const { fields, message } = reachedAgainLine(current.now() - current.startedAt, current.counts);
    current.log.info(fields, message);
  });
}
