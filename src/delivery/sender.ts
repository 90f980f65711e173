/**
 * Sends one webhook request: undici Pool per origin (keep-alive), SSRF guard at connect time on
 * the resolved address, one timeout over connect + headers + body, the response body capped, and
 * never a thrown error: every outcome is a SendResult. Redirects are never followed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { performance } from 'node:perf_hooks';
import { buildConnector, Pool } from 'undici';
import { type Cidr, isAddressAllowed, parseCidr, parseIpLiteral } from '../domain/address-classifier.ts';
import { errorKindFromError } from '../domain/classify-outcome.ts';
import type { SendFn, SendRequest, SendResult } from './send-types.ts';

/** A resolver with dns.lookup's `all: true` shape; tests inject a stub that returns loopback only. */
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

export interface SenderOptions {
  allowNetworks: readonly string[];
  maxResponseBytes: number;
  userAgent: string;
  lookup?: LookupAll;
  /** PEM of a CA to trust besides the system ones. */
  ca?: string;
  /** Connections per origin. */
  connectionsPerOrigin?: number;
}

export interface Sender {
  send: SendFn;
  close(): Promise<void>;
}

/** The error the guard raises; classified as error kind `blocked`. */
export class BlockedAddressError extends Error {
  readonly code = 'HERALD_ERR_BLOCKED';
  constructor(address: string) {
    super(`address ${address} is not allowed (private, loopback or reserved; see HERALD_ALLOW_NETWORKS)`);
    this.name = 'BlockedAddressError';
  }
}

const systemLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/** A net.connect-compatible lookup that refuses any disallowed resolved address (DNS rebinding included). */
function guardedLookup(resolveAll: LookupAll, allow: readonly Cidr[]) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolveAll(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => !isAddressAllowed(a.address, allow));
        if (bad || addresses.length === 0)
          return callback(new BlockedAddressError(bad?.address ?? hostname), []);
        if (options.all) return callback(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, []),
    );
  };
}

export function createSender(options: SenderOptions): Sender {
  const allow = options.allowNetworks.map(parseCidr);
  const lookup = guardedLookup(options.lookup ?? systemLookup, allow);
  const pools = new Map<string, Pool>();
  const connect = buildConnector({
    timeout: 30_000,
    ...(options.ca ? { ca: options.ca } : {}),
    // forwarded to net/tls.connect: every name is resolved through the guard
    lookup,
  } as buildConnector.BuildOptions);

  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: options.connectionsPerOrigin ?? 64,
        connect,
        keepAliveTimeout: 10_000,
        pipelining: 1,
      });
      pools.set(origin, pool);
    }
    return pool;
  };

  const send: SendFn = async (req: SendRequest): Promise<SendResult> => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const done = (partial: Omit<SendResult, 'startedAt' | 'durationMs'>): SendResult => ({
      startedAt,
      durationMs: Math.round((performance.now() - t0) * 10) / 10,
      ...partial,
    });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return done({ response: null, error: { kind: 'protocol', message: 'invalid URL' } });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return done({
        response: null,
        error: { kind: 'blocked', message: `scheme ${url.protocol} is not allowed` },
      });
    }
    const literal = parseIpLiteral(url.hostname);
    if (literal && !isAddressAllowed(literal, allow)) {
      return done({
        response: null,
        error: { kind: 'blocked', message: new BlockedAddressError(url.hostname).message },
      });
    }
    const headers: Record<string, string> = { 'user-agent': options.userAgent, ...req.headers };
    try {
      const res = await poolFor(url.origin).request({
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers,
        body: req.body ?? undefined,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        const room = options.maxResponseBytes - size;
        chunks.push(room < buf.length ? buf.subarray(0, room) : buf);
        size += Math.min(room, buf.length);
        if (size >= options.maxResponseBytes) {
          res.body.destroy(); // an enormous response must not hold the connection
          break;
        }
      }
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined)
          responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      return done({
        response: {
          status: res.statusCode,
          headers: responseHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
        },
        error: null,
      });
    } catch (error) {
      return done({
        response: null,
        error: { kind: errorKindFromError(error), message: errorMessage(error) },
      });
    }
  };

  return {
    send,
    async close() {
      await Promise.allSettled([...pools.values()].map((p) => p.destroy()));
      pools.clear();
    },
  };
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}
