/** An answer of Herald's API other than 2xx: its status and the `{error: {code, message, details}}` body. */
export class HeraldApiError extends Error {
  readonly status: number;
  /** Herald's error code, e.g. `HERALD_ERR_VALIDATION`, `HERALD_ERR_NOT_FOUND` (`http_<status>` when the body had none). */
  readonly code: string;
  readonly details: unknown;
  /** The request this answered, e.g. `POST /api/v1/projects/my-game/events` (set by the client). */
  request?: string;
  /**
   * Set by `sendEvents` only: how many of its events, the first ones, were stored before the batch
   * this answer refused (nothing of any batch after it was sent; nothing of that batch was stored
   * either, but for a 503 whose `details.stored` is "unknown": then it may have been).
   */
  stored?: number;
  /**
   * Set by `sendEvents` only, when the answer names one event (`details.field` `body.events.N…`,
   * N counted within its batch), or is a 413 to a batch of that one event (too large, or fanning
   * out too widely, on its own): that event's index in the list given to `sendEvents`.
   */
  eventIndex?: number;
  /**
   * The server's id of the request, from a 5xx answer's body (`error.requestId`): quote it when
   * reporting the failure, its operator finds the log line with it (`reqId`). Undefined otherwise.
   */
  requestId?: string;
  /**
   * The answer's `Retry-After`, in seconds (an HTTP-date, a proxy's, as the whole seconds until
   * then): how long Herald asked to wait before sending the request again (429, and the 503s:
   * busy, full disk, database unavailable…). The client waits it
   * out itself within `retries` and `timeoutMs` when it is at most 10 s; this is what is left to the
   * caller. Undefined when the answer had none.
   */
  retryAfter?: number;
  constructor(status: number, code: string, message: string, details?: unknown, requestId?: string) {
    super(`${status} ${code}: ${message}${requestId === undefined ? '' : ` (request ${requestId})`}`);
    this.name = 'HeraldApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    if (requestId !== undefined) this.requestId = requestId;
  }
}

/**
 * The error for a non-2xx answer to `request` (`POST /api/v1/…`), from its status and body text
 * (JSON or not), and its Retry-After in seconds when it had one.
 */
export function apiError(status: number, text: string, request: string, retryAfter?: number): HeraldApiError {
  const error = fromBody(status, text);
  error.request = request;
  if (retryAfter !== undefined) error.retryAfter = retryAfter;
  return error;
}

function fromBody(status: number, text: string): HeraldApiError {
  try {
    const body = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; details?: unknown; requestId?: unknown };
    };
    const e = body?.error;
    if (e && typeof e.message === 'string') {
      // The field the answer names (details.field), before its words when they do not start with
      // it: a 409 for a taken uid said only "a project with this uid exists".
      const field = (e.details as { field?: unknown } | null | undefined)?.field;
      const named =
        typeof field === 'string' && field !== '' && !e.message.startsWith(`${field}: `)
          ? `${field}: ${e.message}`
          : e.message;
      return new HeraldApiError(
        status,
        typeof e.code === 'string' ? e.code : `http_${status}`,
        named,
        e.details,
        typeof e.requestId === 'string' ? e.requestId : undefined,
      );
    }
  } catch {
    // not JSON: fall through
  }
  return new HeraldApiError(status, `http_${status}`, text.slice(0, 200) || 'no body');
}

/**
 * A 2xx answer that is not Herald's: what answered is not Herald's API (a wrong base URL, a proxy's
 * page, another service on the port). `code` is `HERALD_CLIENT_NOT_JSON` when the body is not JSON,
 * `HERALD_CLIENT_UNEXPECTED_SHAPE` when it is JSON of another shape than Herald sends for the call
 * (a list without a `data` array, an object without an `id`: `expected` says what was wanted). The
 * request was received by whatever answered, so it may have done something with it.
 */
export class HeraldResponseError extends Error {
  readonly code: 'HERALD_CLIENT_NOT_JSON' | 'HERALD_CLIENT_UNEXPECTED_SHAPE';
  readonly status: number;
  /** The request, e.g. `GET /api/v1/projects`. */
  readonly request: string;
  /** The start of the body (up to 200 characters). */
  readonly body: string;
  /** With `HERALD_CLIENT_UNEXPECTED_SHAPE`, the shape the call expects, in words; else null. */
  readonly expected: string | null;
  /**
   * Set by `sendEvents` only: how many of its events, the first ones, were stored before the batch
   * this answer came to (nothing after that batch was sent; that batch itself may have been stored
   * by whatever answered it, or passed on to Herald), as HeraldApiError and HeraldNetworkError say.
   */
  stored?: number;
  constructor(status: number, request: string, body: string, cause?: unknown, expected?: string) {
    super(
      expected === undefined
        ? `${status} answer with a body that is not JSON (${request}): ${body.slice(0, 200)}`
        : `${status} answer that is not Herald's, expected ${expected} (${request}): ${body.slice(0, 200)}`,
      { cause },
    );
    this.name = 'HeraldResponseError';
    this.code = expected === undefined ? 'HERALD_CLIENT_NOT_JSON' : 'HERALD_CLIENT_UNEXPECTED_SHAPE';
    this.status = status;
    this.request = request;
    this.body = body.slice(0, 200);
    this.expected = expected ?? null;
  }
}

/** HeraldNetworkError's codes. */
export type NetworkErrorCode = 'HERALD_CLIENT_TIMEOUT' | 'HERALD_CLIENT_ABORTED' | 'HERALD_CLIENT_NETWORK';

/**
 * A call that got no answer from Herald: `HERALD_CLIENT_TIMEOUT` when the request's `timeoutMs` (one
 * deadline for the request, its tries and waits included: for each batch of a `sendEvents`) ran out, `HERALD_CLIENT_ABORTED` when
 * the caller's `signal` aborted it (`cause` is the signal's reason), `HERALD_CLIENT_NETWORK` when
 * the connection failed (refused, reset, unknown host…) and the request was not, or no longer,
 * safe to send again, or when the client was closed (its `tries` and `notStored` as for a network
 * error: a call made after close() has none). `cause` is the underlying error. Stored or not, nobody knows (but for a refused connection,
 * `cause.code` `ECONNREFUSED`, which sent nothing): only a request that is safe to repeat (a read,
 * or events with idempotency keys) may be sent again blindly.
 */
export class HeraldNetworkError extends Error {
  readonly code: NetworkErrorCode;
  /** The request, e.g. `GET /api/v1/projects`. */
  readonly request: string;
  /** How many times it was sent. */
  readonly tries: number;
  /**
   * True when no try can have been stored: each try that got no answer was refused at connect or
   * cut off while its request was still being written (`cause.code` `EPIPE`, or `cause.syscall`
   * `write`: Herald closed the connection before it had the whole request, as it does when it refuses
   * a request before reading its body, such as one over its HERALD_MAX_BODY_BYTES, whose answer
   * was then lost). False when one may have been, and for a timeout or an abort that cut a try
   * short (one between tries is true when no try before it may have been stored).
   */
  readonly notStored: boolean;
  /**
   * Set by `sendEvents` only: how many of its events, the first ones, were stored before the batch
   * that got no answer (nothing after that batch was sent; that batch itself may have been stored,
   * unless `notStored`).
   */
  stored?: number;
  constructor(
    code: NetworkErrorCode,
    request: string,
    message: string,
    tries: number,
    cause?: unknown,
    notStored = false,
  ) {
    super(`${message} (${request})`, { cause });
    this.name = 'HeraldNetworkError';
    this.code = code;
    this.request = request;
    this.tries = tries;
    this.notStored = notStored;
  }
}

/**
 * An event the client refused to send because it is larger than `maxBodyBytes` on its own: Herald
 * would refuse it with 413 (or cut the connection while it is still being sent). Nothing was sent.
 */
export class HeraldEventTooLargeError extends Error {
  readonly code = 'HERALD_CLIENT_EVENT_TOO_LARGE';
  /** Index of the event in the input (0 for `sendEvent`). */
  readonly index: number;
  /** Size of the request body it would need, in bytes (UTF-8). */
  readonly bytes: number;
  readonly maxBodyBytes: number;
  constructor(index: number, bytes: number, maxBodyBytes: number) {
    super(
      `event ${index} is ${bytes} bytes as a request body, over maxBodyBytes (${maxBodyBytes}, Herald's ` +
        'HERALD_MAX_BODY_BYTES): not sent. Send a smaller payload, or raise both limits together',
    );
    this.name = 'HeraldEventTooLargeError';
    this.index = index;
    this.bytes = bytes;
    this.maxBodyBytes = maxBodyBytes;
  }
}
