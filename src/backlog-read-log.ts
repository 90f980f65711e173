/**
 * The warning of a /metrics scrape that could not read the delivery backlog (herald_store_up 0):
 * one line at once, then at most one per LINE_INTERVAL_MS per kind (the file gone, the database out
 * of reach, any other error by its code and message) with the number of failed reads since
 * (`failedSinceLastLine`), as every other failure that repeats (docs/operations.md "Logs"). A read
 * serves the scrapes of the next second (metrics.ts), so before this an outage wrote a line a
 * second for as long as it lasted while something scraped that often.
 *
 * An outage's first failed read (the database out of reach) waits for the next connection a pool of
 * this thread opens (whenDatabaseReached), and then one info line says the outage is over, how long
 * it lasted (from that read) and how many reads failed, as the API's and the dispatcher's do: a
 * process only scraped (an `api` process without traffic) otherwise wrote its warnings and never
 * that they ended.
 */
import { errorKind, LINE_INTERVAL_MS, lineDue } from './api/line-throttle.ts';
import type { Logger } from './logger.ts';
import { isDatabaseFileGone } from './store/sqlite/database-file-watch.ts';
import { isStoreUnreachable, REACHED_AGAIN_LINE, whenDatabaseReached } from './store/store-unavailable.ts';

const EVERY = `(logged at most once per ${LINE_INTERVAL_MS / 1000} s, with the number since)`;

/** An error's code and message, without its stack. */
function causeOf(error: unknown): { code: unknown; message: unknown } {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code, message };
}

/** `onCollectError` of createMetrics (src/metrics.ts) for a process logging to `logger`. */
export function backlogReadLog(logger: Logger): (error: unknown) => void {
  const lines = {}; // this process's throttles (line-throttle.ts keys them by an object)
  let outage: { startedAt: number; failedReads: number } | null = null;
  const outageFailed = () => {
    if (outage) {
      outage.failedReads++;
      return;
    }
    const current = { startedAt: Date.now(), failedReads: 1 };
    outage = current;
    whenDatabaseReached(() => {
      outage = null;
      const outageMs = Date.now() - current.startedAt;
      logger.info(
        { outageMs, failedReads: current.failedReads },
        `metrics: ${REACHED_AGAIN_LINE} (it could not be for ${Math.round(outageMs / 1000)} s; ${current.failedReads} reads of the delivery backlog failed meanwhile)`,
      );
    });
  };
  return (error) => {
    const gone = isDatabaseFileGone(error);
    const unreachable = !gone && isStoreUnreachable(error);
    if (unreachable) outageFailed();
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
      logger.warn(
        { cause: causeOf(error), ...since },
        `metrics: cannot read the delivery backlog: the database cannot be reached ${EVERY}`,
      );
    } else {
      logger.warn({ err: error, ...since }, `metrics: cannot read the delivery backlog ${EVERY}`);
    }
  };
}
