/**
 * Sends one webhook request: undici Pool per origin (keep-alive, bounded, evicted when idle), SSRF
 * guard at connect time on the resolved address, one deadline over connect + headers + body, the
 * response body capped, and never a thrown error: every outcome is a SendResult. Redirects are
 * never followed (undici's Pool does not follow them; no redirect interceptor is installed).
 */
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import * as tls from 'node:tls';
import { buildConnector, Pool } from 'undici';
import { type Cidr, isAddressAllowed, parseCidr, parseIpLiteral } from '../domain/address-classifier.ts';
import { errorKindFromError } from '../domain/classify-outcome.ts';
import { BlockedAddressError, guardedLookup, type LookupAll, systemLookup } from './guarded-lookup.ts';
import type { SendFn, SendRequest, SendResult } from './send-types.ts';

export { BlockedAddressError, type LookupAll } from './guarded-lookup.ts';

export interface SenderOptions {
  /** CIDRs delivery may reach although they are not public (HERALD_ALLOW_NETWORKS). */
  allowNetworks: readonly string[];
  /** Response body bytes kept; the rest is not read (the connection is dropped instead). */
  maxResponseBytes: number;
  /** Sent as `user-agent` unless the request sets its own. */
  userAgent: string;
  /** Resolver to use instead of the system one (tests: a stub that returns loopback only). */
  lookup?: LookupAll;
  /** PEM of a CA to trust besides the default ones (a private CA for internal receivers). */
  ca?: string;
  /** Connections per origin (default 64). */
  connectionsPerOrigin?: number;
  /** A pool unused this long is closed (default 60 s). */
  poolIdleMs?: number;
}

export interface Sender {
  send: SendFn;
  /** Closes every pool; in-flight requests fail with `reset`. */
  close(): Promise<void>;
}

/** The longest any attempt may take (DESIGN: per endpoint up to 30 s); bounds a dial nobody waits for. */
const CONNECT_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_MS = 10_000;

interface PoolEntry {
  pool: Pool;
  active: number;
  lastUsed: number;
}

/** The CAs to trust: Node's defaults plus `ca`. Passing `ca` alone to tls would REPLACE the defaults. */
function trustedCas(ca: string): string[] {
  const defaults =
    typeof tls.getCACertificates === 'function'
      ? tls.getCACertificates('default')
      : [...tls.rootCertificates];
  return [...defaults, ca];
}

/** Creates a sender; call `close()` when done so keep-alive sockets do not hold the process open. */
export function createSender(options: SenderOptions): Sender {
  const allow: Cidr[] = options.allowNetworks.map(parseCidr);
  const connect = buildConnector({
    timeout: CONNECT_TIMEOUT_MS,
    ...(options.ca ? { ca: trustedCas(options.ca) } : {}),
    // forwarded to net/tls.connect: every name is resolved through the guard, at connect time
    lookup: guardedLookup(options.lookup ?? systemLookup, allow),
  } as buildConnector.BuildOptions);
  const pools = new Map<string, PoolEntry>();
  const idleMs = options.poolIdleMs ?? 60_000;

  // Many endpoints mean many origins: close the pools nobody used lately.
  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const [origin, entry] of pools) {
        if (entry.active === 0 && now - entry.lastUsed >= idleMs) {
          pools.delete(origin);
          entry.pool.close().catch(() => {});
        }
      }
    },
    Math.max(10, Math.min(idleMs, 30_000)),
  );
  sweeper.unref();

  const acquire = (origin: string): PoolEntry => {
    let entry = pools.get(origin);
    if (!entry) {
      entry = {
        pool: new Pool(origin, {
          connections: options.connectionsPerOrigin ?? 64,
          connect,
          keepAliveTimeout: KEEP_ALIVE_MS,
          pipelining: 1,
        }),
        active: 0,
        lastUsed: performance.now(),
      };
      pools.set(origin, entry);
    }
    entry.active++;
    return entry;
  };

  const send: SendFn = async (req: SendRequest): Promise<SendResult> => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const done = (partial: Omit<SendResult, 'startedAt' | 'durationMs'>): SendResult => ({
      startedAt,
      durationMs: Math.round((performance.now() - t0) * 10) / 10,
      ...partial,
    });
    const fail = (kind: NonNullable<SendResult['error']>['kind'], message: string) =>
      done({ response: null, error: { kind, message } });

    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail('protocol', 'invalid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return fail('blocked', `scheme ${url.protocol} is not allowed`);
    // net.connect skips `lookup` for IP literals, so those are checked here, in every spelling
    // (WHATWG already normalized 0x7f.1 → 127.0.0.1; parseIpLiteral catches what it leaves).
    const literal = parseIpLiteral(url.hostname);
    if (literal && !isAddressAllowed(literal, allow))
      return fail('blocked', new BlockedAddressError(url.hostname).message);

    const headers: Record<string, string> = { ...req.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent'))
      headers['user-agent'] = options.userAgent;

    let entry: PoolEntry | undefined;
    try {
      entry = acquire(url.origin);
      const res = await entry.pool.request({
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers,
        body: req.body ?? undefined,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        // the overall deadline: header and body timeouts are per-gap, a trickle would dodge them
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      // StringDecoder keeps a multi-byte character cut at the cap out of the text instead of
      // turning it into U+FFFD.
      const decoder = new StringDecoder('utf8');
      let text = '';
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        const room = options.maxResponseBytes - size;
        text += decoder.write(room < buf.length ? buf.subarray(0, room) : buf);
        size += Math.min(room, buf.length);
        if (size >= options.maxResponseBytes) {
          res.body.destroy(); // an enormous response must not hold the connection: drop it
          break;
        }
      }
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined)
          responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      return done({
        response: { status: res.statusCode, headers: responseHeaders, body: text },
        error: null,
      });
    } catch (error) {
      return fail(errorKindFromError(error), errorMessage(error));
    } finally {
      if (entry) {
        entry.active--;
        entry.lastUsed = performance.now();
      }
    }
  };

  return {
    send,
    async close() {
      clearInterval(sweeper);
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((e) => e.pool.destroy()));
    },
  };
}

/** The error's message with its cause's, bounded (it is stored with the attempt). */
function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}
