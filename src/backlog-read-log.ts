/**
 * The warning of a /metrics scrape that could not read the delivery backlog (herald_store_up 0):
 * one line at once, then at most one per LINE_INTERVAL_MS per kind (the file gone, the database out
 * of reach, any other error by its code and message) with the number of failed reads since
 * (`failedSinceLastLine`), as every other failure that repeats (docs/operations.md "Logs"). A read
 * serves the scrapes of the next second (metrics.ts), so before this an outage wrote a line a
 * second for as long as it lasted while something scraped that often.
 *
 * A read that failed for the database out of reach counts for this thread's outage: its end (the
 * next connection a pool of this thread opens) is one info line saying how long it lasted and how
 * many reads failed, with the API's and the dispatcher's failures when they had some: a process only
 * scraped (an `api` process without traffic) otherwise wrote its warnings and never that they ended
 * (store/database-outage.ts).
 */
import { errorKind, LINE_INTERVAL_MS, lineDue } from './api/line-throttle.ts';
import type { Logger } from './logger.ts';
import { countOutageFailure } from './store/database-outage.ts';
import { isDatabaseFileGone } from './store/sqlite/database-file-watch.ts';
import {
  isDatabaseOutage,
  isStoreUnreachable,
  isTooManyConnections,
  TOO_MANY_CONNECTIONS_LINE,
} from './store/store-unavailable.ts';

const EVERY = `(logged at most once per ${LINE_INTERVAL_MS / 1000} s, with the number since)`;

/** An error's code and message, without its stack. */
function causeOf(error: unknown): { code: unknown; message: unknown } {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code, message };
}

/** `onCollectError` of createMetrics (src/metrics.ts) for a process logging to `logger`. */
export function backlogReadLog(logger: Logger): (error: unknown) => void {
  const lines = {}; // this process's throttles (line-throttle.ts keys them by an object)
  return (error) => {
    const gone = isDatabaseFileGone(error);
    const unreachable = !gone && isStoreUnreachable(error);
    if (unreachable && isDatabaseOutage(error)) countOutageFailure('metrics', logger);
    const due = lineDue(lines, gone ? 'gone' : unreachable ? 'unreachable' : errorKind(error));
    if (!due) return;
    const since = due.since > 0 ? { failedSinceLastLine: due.since } : {};
    // An outage: without a stack (herald_store_up says the rest).
    if (gone) {
      logger.warn(
        { cause: causeOf(error), ...since },
        `metrics: cannot read the delivery backlog: the database file is gone ${EVERY}`,
      );
    } else if (unreachable) {
      // A server at max_connections answered: said as the API and the dispatcher say it.
      const why = isTooManyConnections(error) ? TOO_MANY_CONNECTIONS_LINE : 'the database cannot be reached';
      logger.warn(
        { cause: causeOf(error), ...since },
        `metrics: cannot read the delivery backlog: ${why} ${EVERY}`,
      );
    } else {
      logger.warn({ err: error, ...since }, `metrics: cannot read the delivery backlog ${EVERY}`);
    }
  };
}
