/**
 * How a dispatcher's failed store calls are logged. A database outage fails every claim, record and
 * release the same way, several times a second in every process: one warn line without a stack,
 * then at most one per interval with the number of failures in between (thousands of stacks say
 * nothing more, and fill the disk the outage may already be about). Any other failure is a bug or
 * a data problem: each is logged at error level with its stack. What a stop left unfinished
 * (`during: 'shutdown'`) is one warn line. Secrets sealed with a key this process lacks fail every
 * claim the same way too: one error line without a stack per interval (secret-key-readiness.ts
 * logs what to do, once, and /readyz says it meanwhile). A SQLite file deleted or replaced under the
 * process (database-file-watch.ts) fails every call too: one error line per interval.
 */
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import { isDatabaseFileGone } from '../store/sqlite/database-file-watch.ts';
import { isStoreUnreachable } from '../store/store-unavailable.ts';

export interface StoreErrorLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The dispatcher's `onError` hook (dispatcher.ts) for `logger`. */
export function storeErrorLog(
  logger: StoreErrorLogger,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (error: unknown, during: string) => void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let since = 0;
  let keyLoggedAt = Number.NEGATIVE_INFINITY;
  let keySince = 0;
  return (error, during) => {
    // Not a store call: what a stop left unfinished (dispatcher.ts), worth a line, not a stack.
    if (during === 'shutdown') {
      logger.warn({ during }, `dispatcher: ${(error as Error).message}`);
      return;
    }
    if (isSecretKeyMismatch(error)) {
      const t = now();
      if (t - keyLoggedAt < intervalMs) {
        keySince++;
        return;
      }
      logger.error(
        {
          during,
          cause: { message: error.message },
          ...(keySince > 0 ? { failedSinceLastLine: keySince } : {}),
        },
        `dispatcher: cannot open the endpoint secrets of the claimed deliveries (sealed with another encryption key); handed them back for a process with the current HERALD_ENCRYPTION_KEY: restart this one with it (logged at most once per ${intervalMs / 1000} s)`,
      );
      keyLoggedAt = t;
      keySince = 0;
      return;
    }
    const gone = isDatabaseFileGone(error);
    if (!gone && !isStoreUnreachable(error)) {
      logger.error({ err: error, during }, 'dispatcher: store call failed');
      return;
    }
    const t = now();
    if (t - loggedAt < intervalMs) {
      since++;
      return;
    }
    const { code, message } = error as { code?: unknown; message?: unknown };
    // The SQLite file deleted or replaced under the process: every store call fails until restart.
    if (gone) {
      logger.error(
        // The file's name in `cause` too: a caller that words its own line (retention) keeps it.
        { during, cause: { message }, ...(since > 0 ? { failedSinceLastLine: since } : {}) },
        `dispatcher: ${error.message} (logged at most once per ${intervalMs / 1000} s)`,
      );
      loggedAt = t;
      since = 0;
      return;
    }
    logger.warn(
      { during, cause: { code, message }, ...(since > 0 ? { failedSinceLastLine: since } : {}) },
      `dispatcher: the database cannot be reached; backing off and trying again (logged at most once per ${intervalMs / 1000} s)`,
    );
    loggedAt = t;
    since = 0;
  };
}
