/**
 * Settings that name places: the listen host, the database URL, the public URL (and its default),
 * the frame ancestors and the trusted proxies' networks. Each refuses what only a later step would,
 * naming the setting.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseCidrList } from '../domain/address-classifier.ts';
import { checkHttpUrl, withoutCredentials } from '../domain/http-url.ts';
import { ConfigError } from './config-error.ts';
import { parseList, type RawSetting } from './parse-setting.ts';

export function parseHost(setting: RawSetting): string {
  const value = setting.value;
  // Hostnames and IP literals only: a scheme, port or path here is a common mix-up with the public URL.
  if (!/^[A-Za-z0-9.:_-]+$/.test(value) || value.includes('//')) {
    throw new ConfigError(setting.source, `expected a host name or IP address, got "${value}"`);
  }
  // What only the listen would refuse otherwise, after the data directory, the migrations and a
  // generated admin token: digits and dots are meant as an IPv4 address (`999.1.1.1` was looked up
  // as a name), and a colon only belongs in an IPv6 address (`localhost:8080` carries a port).
  if (/^[0-9.]+$/.test(value) && !isIPv4(value)) {
    throw new ConfigError(
      setting.source,
      `"${value}" is not an IPv4 address: four numbers from 0 to 255 separated by dots, e.g. 127.0.0.1 or 0.0.0.0`,
    );
  }
  if (value.includes(':') && !isIPv6(value)) {
    throw new ConfigError(
      setting.source,
      /^[^:]+:\d+$/.test(value)
        ? `expected a host name or IP address without a port, got "${value}": the port goes in HERALD_PORT (--port)`
        : `"${value}" is not an IPv6 address (write it without brackets, e.g. ::1 or ::)`,
    );
  }
  return value;
}

export function parseDatabaseUrl(setting: RawSetting): string {
  const value = setting.value;
  if (/^sqlite:.+/.test(value)) return value;
  if (/^postgres(ql)?:\/\/.+/.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch (cause) {
      throw new ConfigError(setting.source, 'is not a valid postgres:// URL', { cause });
    }
    const problem = queryTimeoutProblem(url);
    if (problem) throw new ConfigError(setting.source, problem);
    return value;
  }
  throw new ConfigError(setting.source, 'expected sqlite:PATH or postgres://USER:PASSWORD@HOST/DATABASE');
}

/** The largest delay Node's timers take: past it (as for anything not a number) they wait 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The server's timeouts a PostgreSQL URL may set for Herald's connections, with Herald's own value
 * (store/postgres/pool.ts POOL_BOUNDS), which the URL's replaces.
 */
const SERVER_TIMEOUTS: Readonly<Record<string, number>> = {
  lock_timeout: 15_000,
  statement_timeout: 25_000,
  idle_in_transaction_session_timeout: 10_000,
};

/**
 * What is wrong with the timeouts of a PostgreSQL URL (docs/operations.md, "PostgreSQL connections
 * that stall"), or null when nothing is. node-postgres takes them unchecked:
 * - `query_timeout`, its client-side bound on every query: a unit (`40s`), `0` (the server's "no
 *   limit") or anything past Node's timer range became a 1 ms timeout, and every query, the
 *   start's migrations first, failed with "Query read timeout", naming nothing; an empty one
 *   turned the bound off (the pool's own was overridden with '').
 * - the server's `lock_timeout`, `statement_timeout` and `idle_in_transaction_session_timeout`:
 *   it sends `parseInt(value)` of each, the digits a value starts with, so `lock_timeout=30s`
 *   (which the server itself would read as 30 seconds) was 30 ms, every lock wait failing at once
 *   (503 HERALD_ERR_BUSY); `statement_timeout=1min` was 1 ms, every statement cancelled;
 *   `abc` reached the server as `NaN`; an empty one dropped Herald's bound, leaving none.
 */
export function queryTimeoutProblem(url: URL): string | null {
  for (const value of url.searchParams.getAll('query_timeout')) {
    if (/^\d+(\.\d+)?$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_TIMER_MS) continue;
    // Empty, the driver still takes it over the pool's bound (Herald's 20,000 ms), and sets no timer.
    const effect =
      value === ''
        ? 'empty, it turns the bound off, and a stalled connection holds its queries for good'
        : 'anything else would time every query out at once';
    return `query_timeout=${value}: the client-side bound on each query is a number of milliseconds, from 1 to ${MAX_TIMER_MS} (e.g. query_timeout=40000; without it, 20000): ${effect}`;
  }
  for (const [name, herald] of Object.entries(SERVER_TIMEOUTS)) {
    for (const value of url.searchParams.getAll(name)) {
      if (/^\d+$/.test(value) && Number(value) <= MAX_TIMER_MS) continue;
      const effect =
        value === ''
          ? `empty, the driver drops it and Herald's ${herald} ms with it, leaving no bound at all`
          : `the driver sends the server only the digits it starts with (${name}=30s would be 30 ms, not 30 seconds)`;
      return `${name}=${value}: give a whole number of milliseconds, from 0 (no limit) to ${MAX_TIMER_MS} (e.g. ${name}=${2 * herald}; without it, ${herald}): ${effect}`;
    }
  }
  return null;
}

export function parsePublicUrl(setting: RawSetting): string {
  const checked = checkHttpUrl(setting.value);
  if ('problem' in checked)
    throw new ConfigError(setting.source, `${checked.problem}, got "${withoutCredentials(setting.value)}"`);
  const { url } = checked;
  // Herald serves its dashboard (/ui), the assets the built pages name (/ui/assets/…) and its API
  // (/api/v1) at fixed root paths, and the pages call the API there: behind a proxy that adds a
  // path (https://example.com/herald/ → Herald's /), every page came out blank. Refused at start
  // rather than handing out portal links that cannot work; a host of its own can.
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(
      setting.source,
      `must be the root of a host, without a path, query or fragment (Herald must be served at the root of its host: its dashboard is at /ui and its API at /api/v1), got "${setting.value}"; give Herald a host of its own, e.g. https://hooks.example.com`,
    );
  }
  return url.origin;
}

/** http://host:port as a browser on this machine would reach it (wildcard binds become loopback). */
export function defaultPublicUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${hostPart}:${port}`;
}

/** HERALD_FRAME_ANCESTORS: comma-separated CSP sources ("'self'", https://app.example.com). */
export function parseFrameAncestors(setting: RawSetting): string[] {
  const items = parseList(setting);
  for (const item of items) {
    if (!/^('self'|'none'|https?:\/\/[A-Za-z0-9.*:-]+|[A-Za-z0-9.*-]+(:\d+)?)$/.test(item)) {
      throw new ConfigError(
        setting.source,
        `"${item}" is not a CSP source such as 'self' or https://app.example.com`,
      );
    }
  }
  return items;
}

/** HERALD_TRUST_PROXY: the proxies' networks, comma-separated CIDRs (a bare address is one host). */
export function parseTrustProxy(setting: RawSetting): string[] {
  const items = parseList(setting);
  try {
    parseCidrList(items.join(','));
  } catch (cause) {
    throw new ConfigError(setting.source, (cause as Error).message, { cause });
  }
  return items;
}
