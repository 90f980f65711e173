/**
 * What every scheme implements, plus the checks several schemes share. A scheme is a pair of
 * small pure functions over already-shaped bytes: `sign` turns (id, timestamp, body, url, secrets)
 * into headers (and, for `sha256-body`, a new body); `verify` checks them and hands back the text
 * that carries the content.
 */
import { WebhookVerificationError } from '../errors.ts';
import type { Fields } from '../form.ts';
import { readHeader } from '../headers.ts';
import type { HashProvider, HeaderSource, SchemeOptions, SignatureScheme } from '../types.ts';

/** How a scheme's content travels in a request body. */
export type BodyFormat =
  /** `application/json`: the envelope's JSON text. */
  | 'json'
  /** `application/x-www-form-urlencoded`: the envelope's top-level fields. */
  | 'form'
  /** `text/plain`: `<base64(json)>.<hex sha256>` (GamePush). */
  | 'sha256-body';

export interface SignContext {
  /** Event id, sent as `webhook-id`. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** The body as shaped for the scheme's format (JSON or form text); '' for GET. */
  body: string;
  /** Form fields of `body` (form format only; null otherwise). Saves re-parsing what we just wrote. */
  fields: Fields | null;
  /** The final URL, query string included. */
  url: string;
  /** Secrets, newest first; at least one unless the scheme needs none. */
  secrets: readonly string[];
  options: SchemeOptions;
  hash: HashProvider;
}

export interface SignResult {
  /** Header names in lower case. */
  headers: [string, string][];
  /** A replacement body (schemes that sign inside the body). */
  body?: string;
}

export interface VerifyContext {
  headers: HeaderSource;
  /** The exact body bytes received. */
  body: string | Uint8Array;
  /** The body as UTF-8 text. */
  text: string;
  /** The URL the request was made to (needed by `hmac-sha1-url`), or null. */
  url: string | null;
  /** Candidate secrets; any one may match. */
  secrets: readonly string[];
  options: SchemeOptions;
  nowSeconds: number;
  toleranceSeconds: number;
  hash: HashProvider;
}

export interface VerifyResult {
  /** The signed timestamp (Unix seconds), for schemes that have one. */
  timestamp: number | null;
  /** The text that carries the content (JSON or form text); '' when there is no body. */
  content: string;
}

export interface Scheme {
  readonly name: SignatureScheme;
  readonly bodyFormat: BodyFormat;
  /** Whether signing needs a secret (or, for `hmac-sha1-url`, a static key). */
  readonly needsSecret: boolean;
  sign(context: SignContext): SignResult;
  /** Throws {@link WebhookVerificationError} unless the request is authentic and fresh. */
  verify(context: VerifyContext): VerifyResult;
}

/** The header's value, trimmed, or a MISSING_HEADER error when absent, empty or only spaces. */
export function requireHeader(headers: HeaderSource, name: string): string {
  const value = readHeader(headers, name)?.trim();
  if (!value) {
    throw new WebhookVerificationError('HERALD_VERIFY_MISSING_HEADER', `Missing header ${name}`);
  }
  return value;
}

const DIGITS = /^\d{1,15}$/;

/**
 * Parses a Unix-seconds timestamp and checks it is within the tolerance of now. `header` names
 * where it was read (the configured name) for the message.
 */
export function checkTimestamp(value: string, context: VerifyContext, header: string): number {
  if (!DIGITS.test(value)) {
    throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', `${header} is not Unix seconds`);
  }
  const timestamp = Number(value);
  // How far off and the tolerance, so a receiver debugging clock skew can tell an hour from a
  // second; both are public (the timestamp is in the request, the tolerance is no secret).
  const behind = context.nowSeconds - timestamp;
  const tolerance = `(tolerance ${context.toleranceSeconds} s)`;
  if (behind > context.toleranceSeconds) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_TIMESTAMP_TOO_OLD',
      `Message timestamp too old: ${behind} s behind this receiver's clock ${tolerance}`,
    );
  }
  if (-behind > context.toleranceSeconds) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_TIMESTAMP_TOO_NEW',
      `Message timestamp too new: ${-behind} s ahead of this receiver's clock ${tolerance}`,
    );
  }
  return timestamp;
}

/** The error every scheme throws when nothing matches; deliberately says nothing more. */
export function badSignature(): WebhookVerificationError {
  return new WebhookVerificationError('HERALD_VERIFY_BAD_SIGNATURE', 'No matching signature found');
}
