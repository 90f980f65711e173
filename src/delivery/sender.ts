/**
 * Sends one webhook request: undici Pool per origin (keep-alive, bounded, evicted when idle), SSRF
 * guard at connect time on the resolved address, one deadline over connect + TLS handshake +
 * headers + body, the response body capped, and never a thrown error: every outcome is a
 * SendResult. Redirects are never followed (undici's Pool does not follow them; no redirect
 * interceptor is installed).
 */
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
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
/** Hostname verdicts remembered before the cache starts over (it only saves parsing). */
const MAX_REMEMBERED_HOSTS = 10_000;
const KEEP_ALIVE_MS = 10_000;

/** The parts of a delivery URL the sender uses. */
interface Target {
  protocol: string;
  hostname: string;
  origin: string;
  path: string;
}

interface PoolEntry {
  pool: Pool;
  active: number;
  lastUsed: number;
  /** Sockets of this pool still connecting (TCP or TLS handshake): undici cannot cancel those. */
  dialing: Set<Socket>;
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
      const dialing = new Set<Socket>();
      // The shared connector, remembering each socket until its handshake ends, so a pool that is
      // dropped can cut dials that would otherwise wait out the connector's timeout.
      const dial: buildConnector.connector = (opts, callback) => {
        let socket: Socket | undefined;
        let done = false;
        // undici's connector returns the socket it dials, although its type says void
        socket = connect(opts, (...args) => {
          done = true;
          if (socket) dialing.delete(socket);
          callback(...args);
        }) as unknown as Socket | undefined;
        if (socket && !done) dialing.add(socket);
        return socket;
      };
      entry = {
        pool: new Pool(origin, {
          connections: options.connectionsPerOrigin ?? 64,
          connect: dial,
          keepAliveTimeout: KEEP_ALIVE_MS,
          pipelining: 1,
        }),
        active: 0,
        lastUsed: performance.now(),
        dialing,
      };
      pools.set(origin, entry);
    }
    entry.active++;
    return entry;
  };

  /** Takes an origin's pool out of use and tears down its sockets, dials in progress included. */
  const drop = (origin: string, entry: PoolEntry): void => {
    if (pools.get(origin) === entry) pools.delete(origin);
    for (const socket of entry.dialing) socket.destroy(new DialAbandonedError());
    entry.dialing.clear();
    entry.pool.destroy().catch(() => {});
  };

  /**
   * net.connect skips `lookup` for IP literals, so those are judged here, in every spelling (WHATWG
   * already normalized 0x7f.1 → 127.0.0.1; parseIpLiteral catches what it leaves), and whatever
   * net.connect would dial without a lookup must be a literal judged so. Names are judged by the
   * guarded lookup at connect time. The verdict only depends on the hostname: it is remembered.
   */
  const verdicts = new Map<string, boolean>();
  const hostVerdict = (hostname: string): boolean => {
    let ok = verdicts.get(hostname);
    if (ok === undefined) {
      const literal = parseIpLiteral(hostname);
      ok = literal ? isAddressAllowed(literal, allow) : isIP(hostname.replace(/^\[|\]$/g, '')) === 0;
      if (verdicts.size >= MAX_REMEMBERED_HOSTS) verdicts.clear();
      verdicts.set(hostname, ok);
    }
    return ok;
  };

  /** Parsed delivery URLs (an endpoint's URL is sent to over and over): only saves the parsing. */
  const targets = new Map<string, Target | null>();
  const target = (raw: string): Target | null => {
    let t = targets.get(raw);
    if (t === undefined) {
      try {
        const u = new URL(raw);
        t = {
          protocol: u.protocol,
          hostname: u.hostname,
          origin: u.origin,
          path: `${u.pathname}${u.search}`,
        };
      } catch {
        t = null;
      }
      if (targets.size >= MAX_REMEMBERED_HOSTS) targets.clear();
      targets.set(raw, t);
    }
    return t;
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

    const url = target(req.url);
    if (url === null) return fail('protocol', 'invalid URL');
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return fail('blocked', `scheme ${url.protocol} is not allowed`);
    if (!hostVerdict(url.hostname)) return fail('blocked', new BlockedAddressError(url.hostname).message);

    const headers: Record<string, string> = { ...req.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent'))
      headers['user-agent'] = options.userAgent;

    let entry: PoolEntry | undefined;
    // Set when the attempt ended with its connection torn down (an error, or a body cut at the cap).
    let torn = false;
    // The overall deadline: header and body timeouts are per-gap, a trickle would dodge them. A
    // timer cleared when the attempt ends (AbortSignal.timeout would fire, and build a TimeoutError,
    // for every attempt seconds after it finished).
    const abort = new AbortController();
    const deadlineTimer = setTimeout(() => abort.abort(new DeadlineError(req.timeoutMs)), req.timeoutMs);
    const deadline = abort.signal;
    try {
      entry = acquire(url.origin);
      const pending = entry.pool.request({
        path: url.path,
        method: req.method,
        headers,
        body: req.body ?? undefined,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: deadline,
      });
      // undici only looks at the signal once the request has a socket: a receiver that accepts
      // TCP but never finishes the TLS handshake (or a dial that hangs) would hold the attempt for
      // the connector's 30 s. Racing the deadline ends the attempt on time (the dial is cut when the
      // pool is dropped below), and a response that still turns up is thrown away.
      const res = await Promise.race([pending, rejectOnAbort(deadline)]).catch((error: unknown) => {
        pending.then(
          (late) => late.body.destroy(),
          () => {},
        );
        throw error;
      });
      const read = await readCapped(res.body, options.maxResponseBytes, res.headers['content-length']);
      if (read.capped) torn = true;
      const text = capUtf8(read.text, options.maxResponseBytes);
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
      torn = true;
      return fail(errorKindFromError(error), errorMessage(error));
    } finally {
      clearTimeout(deadlineTimer);
      if (entry) {
        entry.active--;
        entry.lastUsed = performance.now();
        // undici answers an aborted request (deadline, cap) by dialling the origin again at once,
        // and that fresh socket would then sit idle towards a receiver that just misbehaved (as
        // would a TLS dial that never completes). When no other attempt uses the pool, drop it:
        // a misbehaving origin keeps no sockets; the next attempt starts a new pool.
        if (torn && entry.active === 0 && pools.get(url.origin) === entry) drop(url.origin, entry);
      }
    }
  };

  return {
    send,
    async close() {
      clearInterval(sweeper);
      const all = [...pools.values()];
      pools.clear();
      for (const e of all) for (const socket of e.dialing) socket.destroy(new DialAbandonedError());
      await Promise.allSettled(all.map((e) => e.pool.destroy()));
    },
  };
}

/**
 * Reads a response body, keeping at most `maxBytes` of it: a body that goes past is destroyed (its
 * connection dropped), and StringDecoder keeps a multi-byte character cut at the cap out of the
 * text instead of turning it into U+FFFD. Plain 'data' events: an async iterator per response
 * costs more than the rest of the read.
 */
function readCapped(
  body: Readable,
  maxBytes: number,
  contentLength: string | string[] | undefined,
): Promise<{ text: string; capped: boolean }> {
  return new Promise((resolve, reject) => {
    // A declared length within the cap is the whole body (HTTP framing): decoded once at the end.
    const declared = typeof contentLength === 'string' ? Number(contentLength) : Number.NaN;
    const chunks: Buffer[] = [];
    const decoder = declared <= maxBytes ? null : new StringDecoder('utf8');
    let text = '';
    let size = 0;
    const onData = (buf: Buffer) => {
      const room = maxBytes - size;
      const kept = room < buf.length ? buf.subarray(0, room) : buf;
      if (decoder) text += decoder.write(kept);
      else chunks.push(kept);
      size += kept.length;
      if (size >= maxBytes) {
        body.off('data', onData);
        body.off('end', onEnd);
        body.destroy(); // an enormous response must not hold the connection: drop it
        resolve({ text: decoder ? text : Buffer.concat(chunks).toString('utf8'), capped: true });
      }
    };
    const onEnd = () => {
      if (decoder) resolve({ text: text + decoder.end(), capped: false });
      else resolve({ text: Buffer.concat(chunks).toString('utf8'), capped: false });
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', reject);
  });
}

/** The attempt's overall deadline passed; classified as `timeout` like undici's own timeouts. */
class DeadlineError extends Error {
  constructor(ms: number) {
    super(`the attempt took longer than its ${ms} ms timeout`);
    this.name = 'TimeoutError';
  }
}

/** Ends a dial nobody waits for any more (its attempt is over); undici sees a connect failure. */
class DialAbandonedError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
  constructor() {
    super('connection attempt abandoned: the delivery attempt ended first');
    this.name = 'DialAbandonedError';
  }
}

/** A promise that rejects with the signal's reason when it aborts (a TimeoutError for the deadline). */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 at a character boundary. Invalid bytes decode to
 * U+FFFD (3 bytes each), so a binary body of 64 KiB could otherwise be stored as 192 KiB.
 */
export function capUtf8(text: string, maxBytes: number): string {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short texts need no encoding to be sure.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return new StringDecoder('utf8').write(Buffer.from(text, 'utf8').subarray(0, maxBytes));
}

/** The error's message with its cause's, bounded (it is stored with the attempt). */
function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}
