/**
 * Readiness of a process whose dispatcher cannot open the endpoint secrets any more. With
 * PostgreSQL, a process started with a new HERALD_ENCRYPTION_KEY seals every secret again with it
 * (main.ts, at start); a process still running with the old key then cannot sign what it claims.
 * The dispatcher hands those deliveries back (dispatcher.ts, a failed read releases the batch: no
 * attempt is recorded), and this turns the finding into a 503 on /readyz, so that a load balancer
 * or an orchestrator sees it, and one log line that says what to do. The first claim whose
 * secrets open again (the secrets were sealed back with this process's key) makes it ready again.
 *
 * Fed by the store's cipher (open-store.ts `onSealedSecretOpen`): every sealed secret opened or
 * refused for want of the key; other errors (the database, a corrupt value) are not reported.
 */

/** The /readyz status while the secrets do not open. */
export const SEALED_WITH_ANOTHER_KEY = 'secrets sealed with another key';

/** What to do about it: the log line of the change. */
export const SEALED_WITH_ANOTHER_KEY_MESSAGE =
  'not ready: the endpoint secrets are sealed with an encryption key this process was not given ' +
  '(a process started with a new HERALD_ENCRYPTION_KEY sealed them again). The deliveries it claims ' +
  'are handed back, unattempted, for a process with the current key, and /readyz answers 503 ' +
  `{"status": "${SEALED_WITH_ANOTHER_KEY}"}: restart this process with the current HERALD_ENCRYPTION_KEY ` +
  '(and its present key in HERALD_ENCRYPTION_KEY_PREVIOUS until every process has restarted)';

/**
 * How long after a sealed secret opened a refusal is still taken for one endpoint's secret rather
 * than this process's key (the claim loop's pause after a mismatch, claim-loop.ts, waits as long).
 */
export const OPENED_LATELY_MS = 10_000;

/**
 * Calls `onChange` only when a report differs from the one before, starting from "opened" (a
 * process is refused at start unless its keys open every secret). One message per change, not per
 * secret, is what crosses from the dispatcher thread. A refusal while secrets opened in the last
 * OPENED_LATELY_MS is not a change: this process's key opens the secrets, but not that one (an
 * endpoint created by an `api` process still on the old key during a rotation, or a value damaged in
 * the database). Reported, it made readiness flip twice per claim in a mix of both, each flip a log
 * line: a dozen lines a second. The dispatcher's error log says it once per 10 s instead.
 */
export function onSecretKeyChange(
  onChange: (opened: boolean) => void,
  now: () => number = Date.now,
): (opened: boolean) => void {
  let last = true;
  let openedAt = Number.NEGATIVE_INFINITY;
  return (opened) => {
    if (opened) openedAt = now();
    else if (now() - openedAt < OPENED_LATELY_MS) return;
    if (opened === last) return;
    last = opened;
    onChange(opened);
  };
}

export interface SecretKeyReadiness {
  /** One sealed secret opened (true) or was sealed with a key this process lacks (false). */
  report(opened: boolean): void;
  /** The /readyz status while unready for this reason; null while the secrets open. */
  notReady(): string | null;
}

export interface ReadinessLogger {
  error(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export function createSecretKeyReadiness(logger: ReadinessLogger): SecretKeyReadiness {
  let reason: string | null = null;
  // Fed with changes already (onSecretKeyChange, in the dispatcher's thread or in main.ts).
  const report = (opened: boolean) => {
    if ((reason === null) === opened) return;
    reason = opened ? null : SEALED_WITH_ANOTHER_KEY;
    if (opened) {
      logger.info({}, 'endpoint secrets open with this process’s encryption key again: /readyz answers 200');
    } else {
      logger.error({ readyz: SEALED_WITH_ANOTHER_KEY }, SEALED_WITH_ANOTHER_KEY_MESSAGE);
    }
  };
  return { report, notReady: () => reason };
}
