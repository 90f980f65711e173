/** What one HTTP try means for its delivery and its endpoint. Pure. */
import type { ErrorKind } from './types.ts';

export interface Classification {
  outcome: 'succeeded' | 'failed';
  /** Whether a failed attempt may be retried (everything but 410 Gone). */
  retryable: boolean;
  effect: 'success' | 'failure' | 'gone';
}

/** Classifies a response status (null when no response arrived). Redirects are failures: never followed. */
export function classifyStatus(status: number | null): Classification {
  if (status !== null && status >= 200 && status < 300)
    return { outcome: 'succeeded', retryable: false, effect: 'success' };
  if (status === 410) return { outcome: 'failed', retryable: false, effect: 'gone' };
  return { outcome: 'failed', retryable: true, effect: 'failure' };
}

/** Error codes (undici and Node) → error kind. */
const KIND_BY_CODE: Record<string, ErrorKind> = {
  UND_ERR_CONNECT_TIMEOUT: 'timeout', // connect took longer than the attempt's timeout
  UND_ERR_HEADERS_TIMEOUT: 'timeout', // no response headers in time
  UND_ERR_BODY_TIMEOUT: 'timeout', // response body stalled
  ETIMEDOUT: 'timeout', // kernel-level timeout
  ECONNREFUSED: 'connect', // nothing listens there
  EHOSTUNREACH: 'connect', // no route to host
  ENETUNREACH: 'connect', // no route to network
  EADDRNOTAVAIL: 'connect', // cannot bind/reach address
  ENOTFOUND: 'dns', // name does not resolve
  EAI_AGAIN: 'dns', // resolver temporarily failed
  ECONNRESET: 'reset', // peer reset the connection
  EPIPE: 'reset', // peer closed while we wrote
  UND_ERR_SOCKET: 'reset', // socket closed under undici
  UND_ERR_CLOSED: 'reset', // client closed
  HPE_INVALID_CONSTANT: 'protocol', // response is not HTTP
  UND_ERR_RESPONSE_STATUS_CODE: 'protocol',
  HERALD_ERR_BLOCKED: 'blocked', // refused by the SSRF guard
};

/** Error names → kind, for errors without a code. */
const KIND_BY_NAME: Record<string, ErrorKind> = {
  TimeoutError: 'timeout', // AbortSignal.timeout fired
  AbortError: 'timeout', // our overall attempt timer aborted the request
};

/** Maps a thrown error to an error kind, looking through `cause` chains. */
export function errorKindFromError(error: unknown): ErrorKind {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const err = e as { code?: unknown; name?: unknown; cause?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    if (code in KIND_BY_CODE) return KIND_BY_CODE[code]!;
    if (/^(CERT_|ERR_TLS_|ERR_SSL_)|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|DEPTH_ZERO/.test(code))
      return 'tls';
    if (code.startsWith('HPE_')) return 'protocol';
    const name = typeof err.name === 'string' ? err.name : '';
    if (name in KIND_BY_NAME) return KIND_BY_NAME[name]!;
    e = err.cause;
  }
  return 'connect';
}
