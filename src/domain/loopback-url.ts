/**
 * Whether a URL names this machine: where `herald listen` may forward without --allow-remote, and
 * (less its `*.localhost` names, config/client-connection.ts) where the CLI may send the admin token
 * a local `herald serve` saved.
 */
import { isIP } from 'node:net';

/**
 * True for `localhost` (and `*.localhost`, which resolvers keep on loopback), 127.0.0.0/8, `::1`
 * and 127.x written as IPv4-mapped IPv6. Names are not resolved: any other name is another host.
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) {
    if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(.+)$/.exec(host)?.[1];
    if (mapped === undefined) return false;
    if (isIP(mapped) === 4) return mapped.startsWith('127.');
    // WHATWG URLs write ::ffff:127.0.0.1 as ::ffff:7f00:1.
    return /^7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(mapped);
  }
  return false;
}
