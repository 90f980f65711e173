/**
 * One call to Herald's API over the client's undici Pool: one deadline for every try and every
 * wait between them, tries again after 429 and 503 (their Retry-After; a 503 that may have stored
 * the request, HERALD_ERR_DATABASE_UNAVAILABLE or a proxy's, only when it is safe to repeat), after a refused connection
 * (nothing was sent), once after a try cut off while its request was being written (nothing was
 * stored), and after other network errors for requests that are safe to repeat; every answer that is not 2xx becomes a HeraldApiError, and
 * a 2xx whose body is not JSON, or not of the shape asked for, a HeraldResponseError.
 */
import type { Dispatcher, Pool } from 'undici';
import { type AnswerShape, shapeMismatch } from './answer-shape.ts';
import { apiError, type HeraldApiError, HeraldNetworkError, HeraldResponseError } from './errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export type RequestOptions = {
  body?: unknown;
  /** The body, already serialised as JSON (instead of `body`). */
  json?: string;
  query?: Query;
  headers?: Record<string, string>;
  repeatable?: boolean;
  /**
   * Ends the call when it aborts, at once (a request under way, or a wait between tries): it
   * throws HeraldNetworkError `HERALD_CLIENT_ABORTED` with the signal's reason as `cause`, and
   * nothing is sent after it.
   */
  signal?: AbortSignal;
  /**
   * What a 2xx answer must look like (answer-shape.ts): one that does not throws
   * HeraldResponseError `HERALD_CLIENT_UNEXPECTED_SHAPE` instead of reaching the caller. Unchecked
   * when absent.
   */
  expect?: AnswerShape;
  /**
   * Called with the headers of the 2xx answer (`idempotent-replayed: true` on a replay), and
   * whether the request was sent again after a try that may have been stored: then a replay
   * answers this very call's event. `afterNetworkError`: a try got no answer;
   * `afterDatabaseUnavailable`: a try was answered 503 HERALD_ERR_DATABASE_UNAVAILABLE with
   * `details.stored` "unknown", Herald's answer when PostgreSQL's connection was lost while the
   * request's transaction was committing, a commit that may have gone through (docs/api.md "Errors").
   */
  onHeaders?: (
    headers: Record<string, string | string[] | undefined>,
    sent: { afterNetworkError: boolean; afterDatabaseUnavailable: boolean },
  ) => void;
};

/** What every call of one client shares. */
export interface Transport {
  pool: Pool;
  /** The base URL's path, without a trailing slash. */
  base: string;
  /** The `authorization` header. */
  auth: string;
  timeoutMs: number;
  /** Tries after the first. */
  retries: number;
  parseJson: (text: string) => unknown;
}

/** A longer Retry-After (a full disk says 60 s) is not waited for: the error goes to the caller. */
const MAX_RETRY_WAIT_MS = 10_000;
/**
 * Whether a 503 says its try may have been stored: `details.stored` "unknown", Herald's answer
 * when PostgreSQL's connection was lost while the request's transaction was committing (the commit
 * may have gone through without its answer). Every other 503 stored nothing.
 */
function mayBeStored(error: HeraldApiError): boolean {
  return (error.details as { stored?: unknown } | null | undefined)?.stored === 'unknown';
}
/**
 * Wait before retrying a network error: 200 ms, then 400, 800…, each between half and one and a
 * half times that at random, so that the calls a restarting Herald refused or dropped together (of
 * one client, or of many) do not all come back in the same instant.
 */
const NETWORK_BACKOFF_MS = 200;
const networkBackoff = (attempt: number): number => NETWORK_BACKOFF_MS * 2 ** attempt * (0.5 + Math.random());

export async function sendRequest<T>(
  t: Transport,
  method: Method,
  path: string,
  options: RequestOptions,
): Promise<T> {
  const full = path.startsWith('/api/') ? path : `/api/v1${path.startsWith('/') ? '' : '/'}${path}`;
  const headers: Record<string, string> = { authorization: t.auth, ...options.headers };
  let body: string | undefined = options.json;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const repeatable = options.repeatable ?? (method === 'GET' || method === 'PUT' || method === 'DELETE');
  let afterNetworkError = false;
  let afterDatabaseUnavailable = false;
  // Tries that may have reached Herald: not those whose connection was refused, which carried no
  // request (Herald not running). A HeraldNetworkError's `tries` counts these, so 0 says nothing
  // was sent (the CLI then says Herald could not be reached, not that it may have stored it).
  let sent = 0;
  // Whether a try that got no answer may have been stored: not one refused at connect, nor one cut
  // off while its request was still being written (cutOffWhileWriting). Said by the
  // HeraldNetworkError (`notStored`), as is `tries`.
  let mayHaveStored = false;
  // Tries cut off while being written: the first is sent again (its answer may be read this time),
  // a second ends the call.
  let cutOffs = 0;
  const request = `${method} ${t.base}${full}`;
  // One deadline for the whole call: every try, and every wait between tries, within timeoutMs.
  const deadline = Date.now() + t.timeoutMs;
  // Both count the tries as `sent` does (refused ones not), and are `notStored` only between tries
  // (nothing under way) when no try so far may have been stored: after refused connections alone,
  // "aborted, 1 try" said a request may have reached a Herald that was not running.
  const timedOut = (tries: number, cause?: unknown, notStored = false) =>
    new HeraldNetworkError(
      'HERALD_CLIENT_TIMEOUT',
      request,
      `no answer within timeoutMs, ${t.timeoutMs} ms, ${tries} ${tries === 1 ? 'try' : 'tries'}`,
      tries,
      cause,
      notStored,
    );
  const caller = options.signal;
  const aborted = (tries: number, notStored = false) =>
    new HeraldNetworkError(
      'HERALD_CLIENT_ABORTED',
      request,
      `aborted by the caller's signal, ${tries} ${tries === 1 ? 'try' : 'tries'}`,
      tries,
      caller?.reason,
      notStored,
    );
  for (let attempt = 0; ; attempt++) {
    // Before every try: an abort during the wait before it, or before the call, sends nothing more.
    if (caller?.aborted) throw aborted(sent, !mayHaveStored);
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut(sent, undefined, !mayHaveStored);
    const timeout = AbortSignal.timeout(left);
    const signal = caller ? AbortSignal.any([timeout, caller]) : timeout;
    let status: number;
    let responseHeaders: Dispatcher.ResponseData['headers'];
    let text: string;
    let answered = false;
    try {
      const res = await t.pool.request({
        method,
        path: t.base + full + queryString(options.query),
        headers,
        body,
        headersTimeout: left,
        bodyTimeout: left,
        signal,
      });
      answered = true;
      sent++;
      status = res.statusCode;
      responseHeaders = res.headers;
      text = await res.body.text();
    } catch (error) {
      // This try, cut short, may have reached Herald (unless its answer had come: counted then).
      if (caller?.aborted) throw aborted(answered ? sent : sent + 1);
      if (signal.aborted || Date.now() >= deadline || isUndiciTimeout(error)) {
        throw timedOut(answered ? sent : sent + 1, error);
      }
      // close() was called: this try was not sent, and no later one would be. Its tries counted as
      // a network error's (`sent`): until 2026-12-08 by `attempt`, refused ones too, and never
      // notStored, so a call close() did not wait for (made after it), refused while Herald was
      // down, said "1 try", as if it may have been stored.
      if (isClosedPool(error)) {
        throw new HeraldNetworkError(
          'HERALD_CLIENT_NETWORK',
          request,
          'not sent: the client is closed (close() was called)',
          sent,
          error,
          !mayHaveStored,
        );
      }
      // undici refused the request before sending any of it (a header value it cannot carry, given
      // in `headers`): the caller's mistake, and every try would be refused the same. Before, it was
      // tried again as a network error, and said as one that may have been stored.
      if (refusedBeforeSending(error)) {
        throw new TypeError(`${(error as Error).message}: not sent (${request})`, { cause: error });
      }
      // Sent or not, nobody knows: only a request that may be repeated is, while time is left.
      // A connection that was never made carried no request (Herald restarting): any may be. One
      // cut off while being written reached Herald, but not whole: nothing of it was stored, and
      // it is sent once more (the answer Herald wrote before closing was lost; it may be read this
      // time), but not after a second cut-off: Herald refuses it before reading its body.
      const cutOff = !answered && cutOffWhileWriting(error);
      if (!answered && !neverConnected(error)) sent++;
      if (cutOff) cutOffs++;
      const unstored = neverConnected(error) || cutOff;
      if (!unstored) mayHaveStored = true;
      const wait = networkBackoff(attempt);
      if (!(repeatable || unstored) || cutOffs > 1 || attempt >= t.retries || Date.now() + wait >= deadline) {
        const message = (error as Error)?.message || String(error);
        throw new HeraldNetworkError(
          'HERALD_CLIENT_NETWORK',
          request,
          cutOff ? `${message}: ${CUT_OFF}` : message,
          sent,
          error,
          !mayHaveStored,
        );
      }
      // A refused try reached nobody, a cut-off one stored nothing: a replay answering the next one
      // is not this call's own.
      if (!unstored) afterNetworkError = true;
      await sleep(wait, caller);
      continue;
    }
    if (status >= 200 && status < 300) {
      options.onHeaders?.(responseHeaders, { afterNetworkError, afterDatabaseUnavailable });
      let value: unknown;
      try {
        value = text ? t.parseJson(text) : undefined;
      } catch (error) {
        // Not Herald's API: a typed error the caller can word, rather than the parser's SyntaxError.
        throw new HeraldResponseError(status, request, text, error);
      }
      // JSON, but not what Herald answers here: rather than a TypeError (or `{}`) in the caller.
      const expected = options.expect ? shapeMismatch(options.expect, value, status) : null;
      if (expected !== null) throw new HeraldResponseError(status, request, text, undefined, expected);
      return value as T;
    }
    // A DELETE sent again after a try that may have been carried out (no answer, or a 503 whose
    // commit may have gone through): its 404 says the thing is gone, most likely by that try. The
    // call is done, as its 204 would have said; before, a delete done threw 404 to its caller.
    if (method === 'DELETE' && status === 404 && (afterNetworkError || afterDatabaseUnavailable)) {
      return undefined as T;
    }
    // 429 and 503 stored nothing: the same request is sent again after the wait asked for, when
    // that wait ends before the call's deadline. But a 503 whose details.stored is "unknown" (the
    // connection to PostgreSQL lost while the transaction was committing) may have been stored: as
    // after a network error, only a request safe to repeat is sent again (an event with its key is
    // answered with the stored one, this call's own). So may a 503 not in Herald's format, a
    // proxy's, which may come after the proxy passed the request on (Envoy's "disconnect/reset
    // before headers"): before, a POST without a key was sent again after it, and stored twice.
    const retryAfter = retryAfterSeconds(responseHeaders['retry-after']);
    const wait = retryAfter === undefined ? 1000 : retryAfter * 1000;
    const refusal = status === 503 ? apiError(status, text, request) : null;
    const unknownCommit = refusal !== null && mayBeStored(refusal);
    const foreign = refusal !== null && !refusal.code.startsWith('HERALD_ERR_');
    if (
      (status === 429 || status === 503) &&
      (repeatable || !(unknownCommit || foreign)) &&
      attempt < t.retries &&
      wait <= MAX_RETRY_WAIT_MS &&
      Date.now() + wait < deadline
    ) {
      if (unknownCommit) afterDatabaseUnavailable = true;
      // Herald may have answered the proxy, its answer lost there: as after a network error.
      if (foreign) afterNetworkError = true;
      if (unknownCommit || foreign) mayHaveStored = true;
      await sleep(wait, caller);
      continue;
    }
    throw apiError(status, text, request, retryAfter);
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** undici's own timeouts (headersTimeout / bodyTimeout), should they fire before the deadline's signal. */
function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

/**
 * A connection that failed before it was made (refused: nothing listens on the port, as while
 * Herald restarts; or undici's connect timeout): undici writes a request only on a connected
 * socket, so this try reached nobody.
 */
function neverConnected(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

/**
 * A try whose request could not be written whole: a write on its connection failed (EPIPE, or a
 * reset met while writing), and undici writes nothing else on a connection while a request on it
 * is unanswered. Herald never had all of it, so it stored nothing of it. Herald closes the
 * connection so when it refuses a request before reading its body (a body over its
 * HERALD_MAX_BODY_BYTES, a wrong token, an unknown project), and the answer it wrote first is then
 * often lost with the connection (a read error, `syscall` 'read', after the whole request was
 * written, may come after a commit: not this).
 */
function cutOffWhileWriting(error: unknown): boolean {
  const e = error as { code?: unknown; syscall?: unknown } | undefined;
  return e?.syscall === 'write' || e?.code === 'EPIPE';
}

/** What a HeraldNetworkError whose last try was cut off while being written adds to undici's words. */
const CUT_OFF =
  'Herald closed the connection before it had the whole request, so it stored nothing of it (it closes it so when it ' +
  'refuses a request before reading its body, such as a body over its HERALD_MAX_BODY_BYTES, and its answer was lost ' +
  'with the connection)';

/** undici's refusal of a request it cannot send as given (UND_ERR_INVALID_ARG): nothing was sent. */
function refusedBeforeSending(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'UND_ERR_INVALID_ARG';
}

/** undici's refusal of a request to a Pool being closed or closed. */
function isClosedPool(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED';
}

/** Waits `ms`, or until `signal` aborts (then the loop's next turn throws). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Retry-After in seconds: Herald sends seconds, a proxy or gateway before it may send an HTTP-date
 * (RFC 9110 allows either), read as the whole seconds from now until then (0 once past). Undefined
 * when absent or unreadable (a 429 or 503 is then tried again after 1 s). One sent twice comes as
 * an array (the first is read), or joined on one line by a proxy as a list (`60, 60`): the first
 * of its seconds (until 2026-12-08 read as none); an HTTP-date's comma (`Wed, 09 Dec …`) is no list.
 */
function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  const whole = (Array.isArray(header) ? header[0] : header)?.trim();
  const text = whole === undefined ? undefined : (/^(\d+)(?:\s*,\s*\d+)+$/.exec(whole)?.[1] ?? whole);
  if (text === undefined || text === '') return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined;
  // An HTTP-date names a day of the week first (`Wed, 09 Dec 2026 10:00:00 GMT`); a bare number
  // that is not finite, or other words, are not one.
  const at = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : undefined;
}
