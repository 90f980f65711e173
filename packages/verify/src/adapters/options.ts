import { WebhookVerificationError } from '../errors.ts';
import type { VerifyInput } from '../verify.ts';

/** Verification settings an adapter takes: everything but what it reads from the request. */
export type AdapterVerifyOptions = Omit<VerifyInput, 'payload' | 'headers' | 'url' | 'method'>;

/**
 * Default largest body an adapter reads: 10 MiB. That covers, with a margin of over 1 MiB, the
 * largest body Herald sends for an event it accepted under its default `HERALD_MAX_BODY_BYTES`
 * of 1 MiB (L below), which is far larger than the event:
 *
 * - L bounds the whole request, `{"type":"…","payload":…}`, of which at least 22 bytes are syntax.
 *   Herald takes it only as valid UTF-8 (an older Herald decoded an invalid byte as U+FFFD, 3
 *   bytes), and stores `JSON.stringify(payload)`, which writes numbers out (`1e20`, 4 bytes, is sent as
 *   `100000000000000000000`, 21). A string grows at most 3x (escapes only shrink, and
 *   JSON.stringify escapes nothing the request did not have to); an array of `1e20` 4.4x.
 * - JSON bodies (`standard`, `hmac-sha256`, `stripe`, `github`, `none`): at most 4.4 L plus the
 *   envelope's fields (type, timestamp, id: under 100 bytes).
 * - `sha256-body` sends base64 of that, 4/3 of it: 5.87 L, plus 65 bytes of signature.
 * - `hmac-sha1-url` form-encodes the envelope's fields: every UTF-8 byte but `A-Za-z0-9*-._` is
 *   sent as `%XX`: at most 4.8 L (numbers), and 9 L from an older Herald, which sent an invalid
 *   byte as `%EF%BF%BD` (the 22 bytes of syntax, worth 198 sent, pay for the envelope's under 100
 *   bytes of fields).
 *
 * Measured with Herald's own request builder at L = 1 MiB (`event-data` envelope): an array of
 * `1e20` sends 5,033,124 bytes by `hmac-sha1-url`, 6,151,685 by `sha256-body` and 4,613,714 as
 * JSON; a string of `é` 3 MiB by `hmac-sha1-url`; an older Herald's string of invalid bytes
 * 9,437,040 by `hmac-sha1-url`.
 * So `maxBodyBytes: 10 * HERALD_MAX_BODY_BYTES` covers every scheme of any Herald (README).
 */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The adapter's options, checked for JavaScript callers: without them (`verifyNodeRequest(req)`)
 * taking them apart threw a bare TypeError, with no code. `caller` is how the adapter is called.
 */
export function adapterOptions<T extends object>(options: T | undefined, caller: string): T {
  if (typeof options !== 'object' || options === null) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      `${caller} takes an object of settings, such as { scheme: 'standard', secret }`,
    );
  }
  return options;
}

/**
 * The request an adapter was given, checked for JavaScript callers: without one
 * (`verifyNodeRequest(undefined, options)`), or with something else, reading its headers threw a
 * bare TypeError, with no code. `caller` is how the adapter is called, `what` what it takes, and
 * `fits` whether the request (with `headers`) is what the adapter reads (never printed: the
 * message names only the kind of thing it was given, a Fetch API Request given to the node adapter
 * among them).
 */
export function adapterRequest<T extends object>(
  request: T | undefined,
  caller: string,
  what: string,
  fits: (request: object, headers: object) => boolean = () => true,
): T {
  const headers: unknown =
    typeof request === 'object' && request !== null ? Reflect.get(request, 'headers') : undefined;
  if (typeof headers !== 'object' || headers === null || !fits(request as object, headers)) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      `${caller} takes ${what}; it was given ${kindOf(request)}`,
    );
  }
  return request as T;
}

/** Whether `headers` are a Fetch API Request's (a `Headers`, read by `get`) rather than node:http's. */
export const fetchHeaders = (headers: object): boolean => typeof Reflect.get(headers, 'get') === 'function';

/** Whether `request` is a stream its body can be read from (a node:http request). */
export const readable = (request: object): boolean =>
  typeof Reflect.get(request, Symbol.asyncIterator) === 'function';

/** What a value is, in a few words, without its contents. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  const headers: unknown = Reflect.get(value, 'headers');
  if (typeof headers !== 'object' || headers === null) return 'an object without request headers';
  if (fetchHeaders(headers)) return 'a Fetch API Request';
  return readable(value) ? 'a node:http request' : 'an object with headers and no body stream';
}

/** The JSON an adapter answers a refused webhook with. */
export function errorBody(error: { code: string; message: string }): {
  error: { code: string; message: string };
} {
  return { error: { code: error.code, message: error.message } };
}
