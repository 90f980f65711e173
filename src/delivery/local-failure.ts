/**
 * An attempt this process could not make for want of file descriptors or memory, or because the
 * delivery proxy failed (SendResult.local): nothing reached the receiver, so the dispatcher hands
 * the delivery back instead of recording it.
 */

/** When such a delivery is due again. */
export const LOCAL_FAILURE_RETRY_MS = 1_000;

/** What the dispatcher reports for it: its code makes store-error-log.ts log it (out of files, or the proxy), throttled. */
export class LocalResourceError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'LocalResourceError';
    this.code = code;
  }
}
