/**
 * Verification: checks an incoming request against one scheme and returns its content.
 * Framework-free; the adapters in ./adapters feed it raw bodies.
 */
import { asBytes, bytesToText } from './encoding.ts';
import { WebhookVerificationError } from './errors.ts';
import { parseForm } from './form.ts';
import { readHeader } from './headers.ts';
import { nodeHash } from './node-hash.ts';
import { schemeByName } from './schemes/index.ts';
import type { HashProvider, HeaderSource, SchemeOptions, SignatureScheme } from './types.ts';

/** Default allowed distance between the signed timestamp and now, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface VerifyInput {
  scheme: SignatureScheme;
  /**
   * The raw body exactly as received (never a re-serialised parsed object). '' for GET. Bytes are a
   * Uint8Array (a Buffer), any ArrayBufferView (by its bytes) or an ArrayBuffer (`await
   * request.arrayBuffer()`), from any realm (a vm context, as under Jest).
   */
  payload: string | ArrayBufferView | ArrayBufferLike;
  headers: HeaderSource;
  /** The endpoint secret… */
  secret?: string | undefined;
  /** …or several: during a rotation, any of them may have signed. */
  secrets?: readonly string[] | undefined;
  /** Full URL the request was made to, query string included (`hmac-sha1-url`, and GET content). */
  url?: string | undefined;
  /**
   * The request's HTTP method (the adapters pass it). A GET's content is the query of `url`; any
   * other method's is the body, an empty form body (`hmac-sha1-url`) being `{}` whatever the query.
   * Without it, an empty body is taken for a GET's.
   */
  method?: string | undefined;
  options?: SchemeOptions | undefined;
  /**
   * Allowed clock distance in seconds for schemes with a timestamp (default 300; Infinity: no
   * limit). NaN or a negative number is a configuration error.
   */
  toleranceSeconds?: number | undefined;
  /**
   * The current time (a Date or epoch milliseconds); defaults to the clock. An invalid one is a
   * configuration error.
   */
  now?: Date | number | undefined;
  hash?: HashProvider | undefined;
}

/** A verified webhook. */
export interface VerifiedWebhook<T = unknown> {
  /**
   * The `webhook-id` header, trimmed (the event id, the same across retries), or null if absent,
   * empty or only spaces.
   */
  id: string | null;
  /** The signed timestamp in Unix seconds, for schemes that sign one. */
  timestamp: number | null;
  /**
   * The content: the parsed JSON envelope; for form bodies (`hmac-sha1-url`) an object of the form
   * fields as strings; for GET (empty body) with `hmac-sha1-url` (which signs the URL) or `none`, the
   * URL's query fields as strings; null for GET without `url`, or with a scheme that signs only the
   * (empty) body: its query is not covered by the signature.
   */
  payload: T;
}

/**
 * Verifies a webhook and returns its parsed content. Throws {@link WebhookVerificationError}
 * with a stable `code` when it is not authentic, not fresh, or not well formed.
 */
export function verify<T = unknown>(input: VerifyInput): T {
  return verifyWebhook<T>(input).payload;
}

/** Like {@link verify}, also returning the webhook id and signed timestamp. */
export function verifyWebhook<T = unknown>(input: VerifyInput): VerifiedWebhook<T> {
  // What the types promise, checked for JavaScript callers: a TypeError would carry no code.
  if (typeof input !== 'object' || input === null) {
    throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', 'verify() takes one object of settings');
  }
  const scheme = schemeByName(input.scheme);
  if (!scheme) throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', `Unknown scheme ${input.scheme}`);
  if (typeof input.headers !== 'object' || input.headers === null) {
    throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', "headers must be the request's headers");
  }
  const options = input.options ?? {};
  const secrets = input.secrets ?? (input.secret != null ? [input.secret] : []);
  if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string')) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'secret must be a string, and secrets an array of strings',
    );
  }
  const hasStaticKey = scheme.name === 'hmac-sha1-url' && options.key !== undefined;
  // An empty key (`key: process.env.PPG_PROJECT_ID`, set but empty) is one anyone can sign with
  // from the request alone: refused as an empty secret is. Herald never signs with one.
  if (hasStaticKey && (typeof options.key !== 'string' || options.key === '')) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'options.key must be a non-empty string (PushPushGo: your project id), or left out to use the secret',
    );
  }
  if (scheme.needsSecret && !hasStaticKey && (secrets.length === 0 || secrets.some((s) => !s))) {
    throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', `Scheme ${scheme.name} needs a secret`);
  }
  const body = typeof input.payload === 'string' ? input.payload : asBytes(input.payload);
  if (body === null) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'payload must be the raw body (string or bytes), not a parsed object',
    );
  }
  const now = clockOf(input.now);
  const toleranceSeconds = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // NaN (`Number(process.env.UNSET)`, an invalid Date) compares false with everything, so the
  // timestamp checks would pass whatever the age: a replay guard that silently turns off.
  if (!(toleranceSeconds >= 0)) {
    throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', 'toleranceSeconds must be 0 or more seconds');
  }
  if (!Number.isFinite(now))
    throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', 'now is not a valid time');
  const text = typeof body === 'string' ? body : bytesToText(body);
  const result = scheme.verify({
    headers: input.headers,
    body,
    text,
    url: input.url ?? null,
    secrets,
    options,
    nowSeconds: Math.floor(now / 1000),
    toleranceSeconds,
    hash: input.hash ?? nodeHash,
  });
  return {
    // Trimmed, as `standard` signs it: untrimmed, a replay padded with a space verified and was
    // new to a de-duplicator; spaces only are no id.
    id: readHeader(input.headers, 'webhook-id')?.trim() || null,
    timestamp: result.timestamp,
    // A GET request's query is content only where the scheme signs the URL (or nothing is signed).
    payload: parseContent(
      result.content,
      scheme.bodyFormat === 'form',
      scheme.name === 'hmac-sha1-url' || scheme.name === 'none' ? input.url : undefined,
      result.content === '' && (input.method === undefined || input.method.toUpperCase() === 'GET'),
    ) as T,
  };
}

/**
 * `now` in epoch milliseconds: the clock when it is not given. From JavaScript a string (an ISO
 * date, `process.env.NOW`) or null reached `.getTime()` and threw a bare TypeError with no code.
 */
function clockOf(now: unknown): number {
  if (now === undefined) return Date.now();
  if (typeof now === 'number') return now;
  if (now instanceof Date) return now.getTime();
  throw new WebhookVerificationError(
    'HERALD_VERIFY_CONFIG',
    `now must be a Date or epoch milliseconds, not ${now === null ? 'null' : typeof now}`,
  );
}

/**
 * The content of a verified request: a GET's (`fromQuery`: an empty body, and the method GET or
 * not given) from the query of `url` (null when the scheme does not sign the URL: `url`
 * undefined); any other from the body, form fields or JSON. An empty form body of a POST is `{}`,
 * not its URL's query fields, which are not its content.
 */
function parseContent(content: string, form: boolean, url: string | undefined, fromQuery: boolean): unknown {
  if (fromQuery) {
    if (url === undefined) return null;
    try {
      return Object.fromEntries(new URL(url).searchParams);
    } catch (error) {
      throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', 'url is not an absolute URL', {
        cause: error,
      });
    }
  }
  if (form) return Object.fromEntries(parseForm(content));
  try {
    return JSON.parse(content);
  } catch (error) {
    throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', 'Body is not JSON', { cause: error });
  }
}
