/**
 * A HeraldClient's Transport from its options: the URL, token, timeoutMs and retries checked (a
 * TypeError naming the option), the undici Pool to the URL's origin, and the call settings with
 * their defaults.
 */
import { Pool } from 'undici';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, type HeraldClientOptions, shown } from './client-options.ts';
import type { Transport } from './transport.ts';

export function openTransport(options: HeraldClientOptions): Transport {
  // Unset (`process.env.HERALD_URL!`), empty or without its scheme: Node's "Invalid URL" alone
  // did not say which option.
  const url = parseUrl(options.url);
  if (url === null) {
    throw new TypeError(
      `url: expected an absolute http:// or https:// URL (Herald's root), got ${
        options.url === undefined ? 'undefined' : JSON.stringify(options.url)
      }`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`url: expected http:// or https://, got ${url.protocol}`);
  }
  if (!options.token) throw new TypeError('token: required (the admin token or a project API key)');
  const problem = headerProblem(options.token);
  if (problem !== null) throw new TypeError(`token: ${problem}`);
  return {
    pool: new Pool(url.origin, { connections: options.connections ?? 8 }),
    // Herald's address is its root (or a proxy's path prefix): the client adds /api/v1 itself, so a
    // URL copied with it (`…/api/v1`, as the docs write the API's paths) would get 404 on every call.
    base: url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, ''),
    auth: `Bearer ${options.token}`,
    timeoutMs: checkedTimeoutMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    retries: checkedRetries(options.retries ?? DEFAULT_RETRIES),
    parseJson: options.parseJson ?? JSON.parse,
  };
}

/**
 * Why `token` cannot go in the Authorization header (what undici refuses in a header value: a line
 * end read with it from a file, a typographic quote copied with it), or null. Undici refused it on
 * every call before sending it, and the call was tried again as after a network error ('invalid
 * authorization header', 3 tries, as if it may have been stored). Names the character and its
 * place, never the token.
 */
function headerProblem(token: string): string | null {
  const at = String(token).search(/[^\t\x20-\x7e\x80-\xff]/);
  if (at === -1) return null;
  const code = String(token).codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0');
  return (
    `holds U+${code} at character ${at + 1}, which an HTTP header cannot carry (Herald's tokens are ` +
    'printable ASCII without spaces): a line end read with it from a file, or a character copied with it?'
  );
}

/**
 * The longest deadline Node's timers keep (2^31 - 1 ms, ~24.8 days): undici's headers and body
 * timeouts past it fire after 1 ms, and AbortSignal.timeout refuses Infinity and NaN.
 */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** timeoutMs as every call uses it, or a TypeError naming the option (rather than each call failing). */
function checkedTimeoutMs(value: unknown): number {
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TIMEOUT_MS)
    return value as number;
  throw new TypeError(
    `timeoutMs: expected a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${shown(value)}`,
  );
}

/** retries: a whole number from 0, or Infinity (tries until timeoutMs runs out). */
function checkedRetries(value: unknown): number {
  if ((Number.isInteger(value) && (value as number) >= 0) || value === Number.POSITIVE_INFINITY)
    return value as number;
  throw new TypeError(
    `retries: expected a whole number from 0 (or Infinity: until timeoutMs runs out), got ${shown(value)}`,
  );
}

/**
 * `URL.parse` as Node 20.18 and 22.1 have it (null for what is not a URL), written out: the
 * package runs from Node 20.18.1 (undici's floor), and Node 21 and 22.0 have no `URL.parse`.
 */
function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
