/** What one HTTP try means for its delivery and its endpoint (DESIGN "Delivery semantics"). Pure. */
import type { ErrorKind } from './types.ts';

export interface Classification {
  outcome: 'succeeded' | 'failed';
  /** Whether a failed attempt may be retried (everything but 410 Gone). */
  retryable: boolean;
  effect: 'success' | 'failure' | 'gone';
}

/** A classification plus the error the attempt records (null only on success). */
export interface ResultClassification extends Classification {
  error: { kind: ErrorKind; message: string } | null;
}

/**
 * Whether a failed attempt disables its endpoint (DESIGN "Auto-disable"): a 410 at once, any other
 * failure when it brings the consecutive failures to the threshold. `consecutiveFailures` counts
 * this attempt. Null: the endpoint stays as it is.
 */
export function disableReason(
  effect: Classification['effect'],
  consecutiveFailures: number,
  threshold: number,
): 'gone' | 'consecutive_failures' | null {
  if (effect === 'gone') return 'gone';
  if (effect === 'failure' && consecutiveFailures >= threshold) return 'consecutive_failures';
  return null;
}

/** Classifies a response status (null when no response arrived). Redirects are failures: never followed. */
export function classifyStatus(status: number | null): Classification {
  if (status !== null && status >= 200 && status < 300)
    return { outcome: 'succeeded', retryable: false, effect: 'success' };
  if (status === 410) return { outcome: 'failed', retryable: false, effect: 'gone' };
  return { outcome: 'failed', retryable: true, effect: 'failure' };
}

/** The part of a SendResult (src/delivery/send-types.ts) classification reads. */
export interface ClassifiableResult {
  response: { status: number; headers?: Readonly<Record<string, string>> } | null;
  error: { kind: ErrorKind; message: string } | null;
}

/** The most of a redirect's Location an attempt's error message quotes. */
const LOCATION_SHOWN = 200;

/**
 * What a 304 records: it answers a conditional request (If-None-Match, If-Modified-Since), which
 * Herald never sends, so there is no redirect to follow; until 2026-12-08 it said "Herald does not
 * follow redirects", which sent its owner looking for a Location.
 */
const NOT_MODIFIED =
  'HTTP 304 Not Modified: an answer to a conditional request, which Herald never sends (no If-None-Match or If-Modified-Since); only a 2xx is a delivery';

/**
 * What a non-2xx status records: the status, and for a redirect that Herald does not follow it and
 * where it points (a moved endpoint is the usual cause: its owner can act on that, not on "HTTP 301").
 * The receiver's Location is in the attempt's response headers anyway. A 304, and a 3xx without a
 * Location (which points nowhere, so there is nothing to follow either), say so instead.
 */
function statusMessage(status: number, headers: Readonly<Record<string, string>> | undefined): string {
  if (status < 300 || status > 399) return `HTTP ${status}`;
  if (status === 304) return NOT_MODIFIED;
  const location = headers?.location?.split('\n')[0]?.trim();
  if (!location) return `HTTP ${status} without a Location: it points nowhere, and only a 2xx is a delivery`;
  const shown = location.length > LOCATION_SHOWN ? `${location.slice(0, LOCATION_SHOWN)}…` : location;
  return `HTTP ${status}: Herald does not follow redirects; the receiver points to ${shown} (if the endpoint moved there, change its URL)`;
}

/**
 * Classifies a whole SendResult: a transport error fails (retryable, counts against the endpoint);
 * a response is judged by its status, and a non-2xx one records error kind `http_status`.
 */
export function classifyResult(result: ClassifiableResult): ResultClassification {
  if (result.error || !result.response) {
    return {
      outcome: 'failed',
      retryable: true,
      effect: 'failure',
      error: result.error ?? { kind: 'internal', message: 'no response and no error' },
    };
  }
  const { status, headers } = result.response;
  const c = classifyStatus(status);
  return {
    ...c,
    error: c.outcome === 'failed' ? { kind: 'http_status', message: statusMessage(status, headers) } : null,
  };
}

/** Error codes (undici and Node) → error kind. */
const KIND_BY_CODE: Readonly<Record<string, ErrorKind>> = {
  UND_ERR_CONNECT_TIMEOUT: 'timeout', // connect took longer than the connector's timeout
  UND_ERR_HEADERS_TIMEOUT: 'timeout', // no response headers within headersTimeout
  UND_ERR_BODY_TIMEOUT: 'timeout', // response body stalled longer than bodyTimeout
  UND_ERR_ABORTED: 'timeout', // request aborted: our only abort source is the attempt deadline
  ETIMEDOUT: 'timeout', // kernel-level connect/read timeout
  ECONNREFUSED: 'connect', // nothing listens there
  EHOSTUNREACH: 'connect', // no route to host
  ENETUNREACH: 'connect', // no route to network
  ENETDOWN: 'connect', // local network interface down
  EADDRNOTAVAIL: 'connect', // cannot bind/reach address
  ENOTFOUND: 'dns', // name does not resolve (getaddrinfo EAI_NONAME)
  EAI_AGAIN: 'dns', // resolver temporarily failed
  EAI_FAIL: 'dns', // resolver failed for good
  EAI_NODATA: 'dns', // name exists, no address for it
  ENODATA: 'dns', // dns module: no data
  ESERVFAIL: 'dns', // dns module: server failure
  ECONNRESET: 'reset', // peer reset the connection
  ECONNABORTED: 'reset', // connection aborted on the way
  EPIPE: 'reset', // peer closed while we wrote
  UND_ERR_SOCKET: 'reset', // socket closed under undici (peer closed mid-response)
  UND_ERR_CLOSED: 'reset', // pool/client closed under the request
  EPROTO: 'tls', // OpenSSL handshake failure surfaced as a socket error
  HPE_INVALID_CONSTANT: 'protocol', // response is not HTTP
  UND_ERR_HEADERS_OVERFLOW: 'protocol', // response headers larger than allowed
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'protocol', // body length differs from content-length
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'protocol', // request body length differs from its header
  UND_ERR_INVALID_ARG: 'protocol', // request undici cannot send (e.g. a header value with CR/LF)
  UND_ERR_NOT_SUPPORTED: 'protocol', // a feature the response needs that undici lacks
  UND_ERR_RESPONSE_STATUS_CODE: 'protocol', // status line undici refuses
  ERR_INVALID_URL: 'protocol', // URL that does not parse
  ERR_ASSERTION: 'protocol', // undici asserts on what llhttp let through (e.g. status line `HTTP/1.1 099`)
  HERALD_ERR_BLOCKED: 'blocked', // refused by the SSRF guard (sender's BlockedAddressError), or by the proxy (403)
  HERALD_ERR_PROXY_CONNECT: 'connect', // the proxy could not reach the receiver (502, 503 to CONNECT)
  HERALD_ERR_PROXY_TIMEOUT: 'timeout', // the proxy timed out reaching the receiver (504 to CONNECT)
};

/** Code patterns → kind, for families too large to list one by one. */
const KIND_BY_CODE_PATTERN: readonly [RegExp, ErrorKind][] = [
  [/^(CERT_|ERR_TLS_|ERR_SSL_)/, 'tls'], // certificate checks and TLS handshake errors
  [/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|DEPTH_ZERO/, 'tls'], // OpenSSL verify codes
  [/^HPE_/, 'protocol'], // llhttp parse errors: malformed response
  [/^EAI_/, 'dns'], // any other getaddrinfo failure
];

/** Error names → kind, for errors without a code. */
const KIND_BY_NAME: Readonly<Record<string, ErrorKind>> = {
  TimeoutError: 'timeout', // AbortSignal.timeout fired
  AbortError: 'timeout', // our overall attempt timer aborted the request
  HTTPParserError: 'protocol', // undici's llhttp refused the response; its `code` is often unset
};

/**
 * undici's socket errors for an answer it cannot read (lib/dispatcher/client-h1.js), which its
 * code alone (UND_ERR_SOCKET) would make a `reset`: the receiver broke HTTP, it did not cut the
 * connection. Each with what the attempt records instead of undici's two words.
 */
const UNREADABLE_ANSWERS: Readonly<Record<string, string>> = {
  // An interim 100 is allowed unasked (RFC 9110 15.2), but undici closes the connection on it, so
  // the final answer after it is never read.
  'bad response':
    'the receiver sent 100 Continue, which Herald does not ask for (it sends no Expect: 100-continue) and cannot read past, or an answer to no request: the request may have been processed; answer with the final status alone',
  'bad upgrade': 'the receiver answered 101 Switching Protocols to a request that asked for no upgrade',
};

/** What an attempt records for an answer undici could not read (UNREADABLE_ANSWERS), else null. */
export function unreadableAnswer(error: unknown): string | null {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'UND_ERR_SOCKET') return null;
  return Object.hasOwn(UNREADABLE_ANSWERS, error.message) ? UNREADABLE_ANSWERS[error.message]! : null;
}

/** Maps a thrown error to an error kind, looking through `cause` chains; unknown errors are `connect`. */
export function errorKindFromError(error: unknown): ErrorKind {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (unreadableAnswer(e) !== null) return 'protocol';
    const err = e as { code?: unknown; name?: unknown; cause?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    const byCode = Object.hasOwn(KIND_BY_CODE, code) ? KIND_BY_CODE[code] : undefined;
    if (byCode) return byCode;
    for (const [pattern, kind] of KIND_BY_CODE_PATTERN) if (code && pattern.test(code)) return kind;
    const name = typeof err.name === 'string' ? err.name : '';
    const byName = Object.hasOwn(KIND_BY_NAME, name) ? KIND_BY_NAME[name] : undefined;
    if (byName) return byName;
    e = err.cause;
  }
  return 'connect';
}
