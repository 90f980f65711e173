/** What a HeraldClient (client.ts) is given, and the defaults of what it may be left without. */

export interface HeraldClientOptions {
  /**
   * Herald's base URL, e.g. `http://127.0.0.1:8080` (or `https://example.com/herald` behind a proxy
   * that serves it under a path). A trailing `/api/v1` is dropped: the client adds it to every call.
   */
  url: string;
  /**
   * The admin token, or a project API key (which sees only its project). One holding a character an
   * HTTP header cannot carry (a line end read with it from a file) throws a TypeError.
   */
  token: string;
  /** Connections kept to Herald (default 8). */
  connections?: number | undefined;
  /**
   * Give up on a request after this long (default 30 s): one deadline per request, its tries and
   * the waits between them included, which is the whole call but for `sendEvents`, whose batch
   * requests each have their own (a call's `signal` bounds it all). Then it throws
   * HeraldNetworkError `HERALD_CLIENT_TIMEOUT`. A whole
   * number from 1 to 2^31 - 1 (the longest Node's timers keep); another value throws a TypeError
   * when the client is made.
   */
  timeoutMs?: number | undefined;
  /**
   * Events per batch request in `sendEvents` (default 1000, Herald's default limit). A whole number
   * from 1; another value throws a TypeError when the client is made.
   */
  batchSize?: number | undefined;
  /**
   * Bytes per request body in `sendEvents` and `sendEvent` (default 1,048,576: Herald's default
   * HERALD_MAX_BODY_BYTES); a batch is split further to stay under it. A whole number from 1;
   * another value throws a TypeError when the client is made.
   */
  maxBodyBytes?: number | undefined;
  /**
   * Tries after the first (default 2) for answers that stored nothing — 429 and 503, after their
   * `Retry-After` (at most MAX_RETRY_WAIT_MS) — and a refused connection (nothing was sent) and,
   * for requests that are safe to repeat, other network errors: reads, PUT and DELETE, and events
   * that all carry an idempotency key. A whole number, or Infinity (until `timeoutMs` runs out).
   */
  retries?: number | undefined;
  /**
   * Give every event sent without an `idempotencyKey` one of its own (`auto-` and a random UUID),
   * default true: then `sendEvent` and `sendEvents` are safe to send again after a network error
   * (a connection reset or a timeout after Herald stored the event), and are; Herald answers the
   * repeat with the event it stored. `false` sends events as given: one without a key is not sent
   * again after a network error (it may have been stored), and the caller cannot tell.
   */
  autoIdempotencyKeys?: boolean | undefined;
  /**
   * How answers are decoded (default `JSON.parse`). Herald keeps the digits of payload numbers a
   * double cannot hold (64-bit ids); pass a parser that keeps them too (a `JSON.parse` reviver
   * with `context.source` and `JSON.rawJSON`, Node 21+) to read them back exactly.
   */
  parseJson?: ((text: string) => unknown) | undefined;
}

/**
 * What one call may be given, as every method's last argument (`request`'s options take `signal`
 * too): `signal` ends the call at once when it aborts, whether a request is under way or the call
 * is waiting to try again, with HeraldNetworkError `HERALD_CLIENT_ABORTED` (the signal's `reason`
 * as its `cause`); nothing is sent after it. A call cut during a request may still have been
 * stored (`tries` > 0), as after a timeout.
 */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_BATCH = 1000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_RETRIES = 2;

/**
 * `batchSize` and `maxBodyBytes` as sendEvents uses them, their defaults for those left out, or a
 * TypeError naming the option. Until 2026-12-08 any value was taken: a batchSize of 0, a negative
 * or 2.5 sent 2,500 events in 2,500 or 834 requests, NaN (an unset variable through Number()) in
 * one; a maxBodyBytes of NaN cut no batch for its size, 0 or a negative refused every event.
 */
export function batchLimits(options: HeraldClientOptions): { batchSize: number; maxBodyBytes: number } {
  return {
    batchSize: wholeFromOne('batchSize', options.batchSize ?? DEFAULT_BATCH, 'events'),
    maxBodyBytes: wholeFromOne('maxBodyBytes', options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'bytes'),
  };
}

function wholeFromOne(name: string, value: unknown, unit: string): number {
  if (Number.isInteger(value) && (value as number) >= 1) return value as number;
  throw new TypeError(`${name}: expected a whole number of ${unit} from 1, got ${shown(value)}`);
}

/** An option's value as a TypeError about it quotes it: a string in quotes ('5000', from the environment). */
export const shown = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);
