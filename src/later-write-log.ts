/**
 * The lines of a store's later writes (park-batch.ts) that fail: an enable's resuming or a
 * disable's parking of a large backlog, tried again after a pause until it goes through. The first
 * failure of a loop is one warn line naming the endpoint and the cause (its code and message: no
 * stack, no payload), the first write that goes through after it one info line; at most one of each
 * per LINE_INTERVAL_MS and step, with the number held back since (`sinceLastLine`): an
 * outage fails every loop under way at once, 58 endpoints' after a bulk disable.
 */
import { LINE_INTERVAL_MS, lineDue } from './api/line-throttle.ts';
import type { LaterLoop, LaterWriteReport } from './store/park-batch.ts';

interface LaterWriteLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

const EVERY = `(logged at most once per ${LINE_INTERVAL_MS / 1000} s)`;

const WHAT = {
  resume: 'resuming the parked deliveries of an enabled endpoint',
  park: 'parking the pending deliveries of a disabled endpoint',
} as const;

const WHILE = {
  resume: 'the rest stay parked meanwhile',
  park: 'meanwhile the dispatcher parks the rest as it claims them',
} as const;

/** A store's `laterWrites` (SqliteStoreOptions, PostgresStoreOptions) logging to `logger`. */
export function laterWriteLog(logger: LaterWriteLogger): LaterWriteReport {
  const lines = {}; // this store's throttles (line-throttle.ts keys them by an object)
  const fields = (loop: LaterLoop, since: number) => ({
    projectId: loop.projectId,
    endpointId: loop.endpointId,
    ...(since > 0 ? { sinceLastLine: since } : {}),
  });
  return {
    failed(loop, error) {
      const due = lineDue(lines, `failed ${loop.step}`);
      if (!due) return;
      const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
      logger.warn(
        { ...fields(loop, due.since), cause: { code, message: String(message ?? error) } },
        `store: ${WHAT[loop.step]} failed; trying again after 1 s, then 2, 4… up to 30 s between tries; ${WHILE[loop.step]} ${EVERY}`,
      );
    },
    through(loop, failures) {
      const due = lineDue(lines, `through ${loop.step}`);
      if (!due) return;
      logger.info(
        { ...fields(loop, due.since), failedTries: failures },
        `store: ${WHAT[loop.step]} goes through again after ${failures} failed ${failures === 1 ? 'try' : 'tries'} ${EVERY}`,
      );
    },
  };
}
