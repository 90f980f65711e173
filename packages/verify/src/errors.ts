/**
 * The SDK's two error classes. Every error carries a stable `code` to branch on; messages are for
 * humans and may change. No error message ever contains a secret or a signature.
 */

/** Why a request was refused. */
export type VerifyErrorCode =
  /** A header the scheme needs is absent (or empty). */
  | 'HERALD_VERIFY_MISSING_HEADER'
  /** A header or the body is not in the scheme's format (bad timestamp, bad base64, not JSON, …). */
  | 'HERALD_VERIFY_MALFORMED'
  /** No signature matches any of the secrets. */
  | 'HERALD_VERIFY_BAD_SIGNATURE'
  /** The signed timestamp is older than the tolerance (a replay, or a very slow queue). */
  | 'HERALD_VERIFY_TIMESTAMP_TOO_OLD'
  /** The signed timestamp is further in the future than the tolerance (clock skew). */
  | 'HERALD_VERIFY_TIMESTAMP_TOO_NEW'
  /** The body is larger than the adapter's limit. */
  | 'HERALD_VERIFY_BODY_TOO_LARGE'
  /** The body ended before it was complete: the sender closed the connection (or it failed). */
  | 'HERALD_VERIFY_BODY_INCOMPLETE'
  /** The receiver is misconfigured (no secret, unknown scheme, no URL for hmac-sha1-url, parsed body, …). */
  | 'HERALD_VERIFY_CONFIG';

const VERIFY_STATUS: Record<VerifyErrorCode, number> = {
  HERALD_VERIFY_MISSING_HEADER: 400,
  HERALD_VERIFY_MALFORMED: 400,
  HERALD_VERIFY_BAD_SIGNATURE: 401,
  HERALD_VERIFY_TIMESTAMP_TOO_OLD: 401,
  HERALD_VERIFY_TIMESTAMP_TOO_NEW: 401,
  HERALD_VERIFY_BODY_TOO_LARGE: 413,
  HERALD_VERIFY_BODY_INCOMPLETE: 400,
  HERALD_VERIFY_CONFIG: 500,
};

/** Thrown when an incoming webhook cannot be trusted (or the receiver is misconfigured). */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code: VerifyErrorCode;
  /** The HTTP status an adapter answers with. */
  readonly status: number;

  constructor(code: VerifyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = VERIFY_STATUS[code];
  }
}

/** Why a request could not be signed. */
export type SignErrorCode =
  /** A secret has the wrong format for the scheme (a `standard` secret must be base64, optionally `whsec_`). */
  | 'HERALD_SIGN_INVALID_SECRET'
  /** The scheme needs a secret (or a static key) and none was given. */
  | 'HERALD_SIGN_NO_SECRET'
  /** The scheme cannot be combined with the method (e.g. `sha256-body` with GET: there is no body). */
  | 'HERALD_SIGN_UNSUPPORTED'
  /** The input is incomplete or invalid (no URL, unknown scheme, …). */
  | 'HERALD_SIGN_INVALID_INPUT';

/** Thrown by `sign()` when the input cannot produce a valid request. */
export class WebhookSigningError extends Error {
  override readonly name = 'WebhookSigningError';
  readonly code: SignErrorCode;

  constructor(code: SignErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
