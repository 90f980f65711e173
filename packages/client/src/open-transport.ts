/**
 * A HeraldClient's Transport from its options: the URL and token checked (a TypeError naming the
 * option), the undici Pool to the URL's origin, and the call settings with their defaults.
 */
import { Pool } from 'undici';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, type HeraldClientOptions } from './client-options.ts';
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
  return {
    pool: new Pool(url.origin, { connections: options.connections ?? 8 }),
    // Herald's address is its root (or a proxy's path prefix): the client adds /api/v1 itself, so a
    // URL copied with it (`…/api/v1`, as the docs write the API's paths) would get 404 on every call.
    base: url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, ''),
    auth: `Bearer ${options.token}`,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_RETRIES,
    parseJson: options.parseJson ?? JSON.parse,
  };
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
