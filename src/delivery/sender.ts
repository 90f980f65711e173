/**
 * Sends one webhook request: undici Pool per origin (keep-alive, bounded, evicted when idle), SSRF
 * guard at connect time on the resolved address, one deadline over connect + TLS handshake +
 * headers + body (leaving out, up to the request's allowance, the time this thread's event loop
 * could not run: loop-stalls.ts), the response body capped, and never a thrown error: every
 * outcome is a SendResult. Redirects are never followed (undici's Pool does not follow them; no redirect
 * interceptor is installed).
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import * as tls from 'node:tls';
import type { buildConnector as BuildConnector, Dispatcher } from 'undici';
import type { DeliveryProxy } from '../config/config-types.ts';
import {
  type Cidr,
  type IpBytes,
  isAddressAllowed,
  parseCidr,
  parseIpLiteral,
  refusalReason,
} from '../domain/address-classifier.ts';
import { errorKindFromError, unreadableAnswer } from '../domain/classify-outcome.ts';
import type { ErrorKind } from '../domain/types.ts';
import { type AttemptDeadline, attemptDeadline, checkDeadline } from './attempt-deadline.ts';
import type { BlockedAddress } from './blocked-address-log.ts';
import { BlockedAddressError, guardedLookup, type LookupAll, systemLookup } from './guarded-lookup.ts';
import { hostAddressReader } from './host-addresses.ts';
import { createLoopStalls, realStallClock, type StallClock } from './loop-stalls.ts';
import { createOriginPools } from './origin-pools.ts';
import {
  countProxyFailure,
  createProxyConnector,
  PROXY_UNAVAILABLE,
  proxyNotTaking,
} from './proxy-connector.ts';
import type { SendFn, SendRequest, SendResult } from './send-types.ts';
import { buildConnector } from './undici-parts.ts';

export interface SenderOptions {
  /** CIDRs delivery may reach although they are not public (HERALD_ALLOW_NETWORKS). */
  allowNetworks: readonly string[];
  /** Response body bytes kept; the rest is not read (the connection is dropped instead). */
  maxResponseBytes: number;
  /** Sent as `user-agent` unless the request sets its own. */
  userAgent: string;
  /** Resolver to use instead of the system one (tests: a stub that returns loopback only). */
  lookup?: LookupAll;
  /** This host's public addresses, refused as loopback (default: its interfaces', host-addresses.ts). */
  hostAddresses?: () => readonly IpBytes[];
  /**
   * Told of each delivery the SSRF guard refuses: the host, the refused address and why, which the
   * attempt does not say (its project reads it). Herald's log (blocked-address-log.ts).
   */
  onBlocked?: (refused: BlockedAddress) => void;
  /** PEM of a CA to trust besides the default ones (a private CA for internal receivers). */
  ca?: string;
  /**
   * Connections per pool (default 64, an endpoint's concurrency). Pools are per origin and per
   * endpoint (SendRequest.poolKey), so a slow endpoint's requests never hold the connections of
   * another endpoint on the same host and port.
   */
  connectionsPerOrigin?: number;
  /** A pool unused this long is closed (default 60 s). */
  poolIdleMs?: number;
  /** Sockets open at once across every pool (default: no bound; fd-limit.ts, origin-pools.ts). */
  maxSockets?: number;
  /** Every connection tunnelled through this HTTP proxy (HERALD_PROXY_URL; proxy-connector.ts). */
  proxy?: DeliveryProxy;
  /**
   * The clock attempts' deadlines are kept on, and the loop-stall count's (loop-stalls.ts): the real
   * one unless a test passes one it drives. Durations are wall time whatever it is.
   */
  clock?: SenderClock;
}

/** A clock and timers: the loop-stall count's (StallClock), and a one-off timer for deadlines. */
export interface SenderClock extends StallClock {
  /** Calls `fn` once, `ms` from now; the function returned cancels it. */
  after(fn: () => void, ms: number): () => void;
}

const realClock: SenderClock = {
  ...realStallClock,
  after: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface Sender {
  send: SendFn;
  /**
   * Milliseconds this thread's event loop could not run since the sender was made, as its deadlines
   * count them (loop-stalls.ts); never decreases. herald_dispatcher_held_seconds_total.
   */
  heldMs(): number;
  /** Closes every pool; in-flight requests fail with `reset`. */
  close(): Promise<void>;
}

/** The longest any attempt may take (DESIGN: per endpoint up to 30 s); bounds a dial nobody waits for. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Hostnames remembered (what each is: it saves parsing) before the cache starts over. */
const MAX_REMEMBERED_HOSTS = 10_000;
/**
 * Longest URL whose parsing is remembered: an endpoint's own URL, sent to over and over. A GET
 * carries its event in the query (hmac-sha1-url: a 1 MiB event is a ~3 MiB URL), different for
 * every attempt: remembered, each held ~9 MiB (the URL, its path, the parsed text) until 10,000
 * of them, and a dispatcher thread under a 160 MiB heap ran out of memory after a few dozen.
 */
const MAX_REMEMBERED_URL_LENGTH = 1_024;

/** The parts of a delivery URL the sender uses. */
interface Target {
  protocol: string;
  hostname: string;
  /** The `host` header undici sends: the hostname, and the port when it is not the scheme's default. */
  host: string;
  origin: string;
  path: string;
}

/** Methods undici sends `content-length: 0` for when the body is empty (client-h1.js, expectsPayload). */
const EXPECTS_PAYLOAD = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The header lines undici writes for a request (client-h1.js writeH1), in its order: `host`, then
 * `connection: keep-alive` (the pools keep connections alive, one request at a time), the request's
 * own, and `content-length` when there is a body (or an empty one on a method that expects one).
 */
function wireHeaders(
  host: string,
  method: string,
  headers: Record<string, string>,
  body: string | null,
): Record<string, string> {
  const out: Record<string, string> = { host, connection: 'keep-alive', ...headers };
  const length = body === null ? 0 : Buffer.byteLength(body, 'utf8');
  if (length > 0 || EXPECTS_PAYLOAD.has(method)) out['content-length'] = String(length);
  return out;
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
  const own = options.hostAddresses ?? hostAddressReader();
  const onBlocked = options.onBlocked ?? (() => {});
  const lookup = guardedLookup(options.lookup ?? systemLookup, allow, own, onBlocked);
  const tlsOptions = options.ca ? { ca: trustedCas(options.ca) } : {};
  const direct = buildConnector({
    timeout: CONNECT_TIMEOUT_MS,
    ...tlsOptions,
    // forwarded to net/tls.connect: every name is resolved through the guard, at connect time
    lookup,
  } as BuildConnector.BuildOptions);
  const connect = options.proxy
    ? createProxyConnector({
        proxy: options.proxy,
        lookup,
        tls: buildConnector({ timeout: CONNECT_TIMEOUT_MS, ...tlsOptions } as BuildConnector.BuildOptions),
        direct,
        timeoutMs: CONNECT_TIMEOUT_MS,
      })
    : direct;
  const pools = createOriginPools({
    connect,
    connectionsPerOrigin: options.connectionsPerOrigin ?? 64,
    idleMs: options.poolIdleMs ?? 60_000,
    ...(options.maxSockets === undefined ? {} : { maxSockets: options.maxSockets }),
  });
  const clock = options.clock ?? realClock;
  const stalls = createLoopStalls(clock);

  /**
   * net.connect skips `lookup` for IP literals, so those are judged here, in every spelling (WHATWG
   * already normalized 0x7f.1 → 127.0.0.1; parseIpLiteral catches what it leaves), and whatever
   * net.connect would dial without a lookup must be a literal judged so. Names are judged by the
   * guarded lookup at connect time. What the hostname is (an address, a name to resolve, neither)
   * is remembered; an address is judged each time, as this host's own addresses may have changed.
   */
  const hosts = new Map<string, IpBytes | 'name' | 'neither'>();
  const hostVerdict = (hostname: string): boolean => {
    let host = hosts.get(hostname);
    if (host === undefined) {
      host = parseIpLiteral(hostname) ?? (isIP(hostname.replace(/^\[|\]$/g, '')) === 0 ? 'name' : 'neither');
      if (hosts.size >= MAX_REMEMBERED_HOSTS) hosts.clear();
      hosts.set(hostname, host);
    }
    if (host === 'name') return true;
    if (host === 'neither') return false;
    const self = own();
    if (isAddressAllowed(host, allow, self)) return true;
    const reason = refusalReason(host, allow, self);
    if (reason) onBlocked({ host: hostname, address: host, reason });
    return false;
  };

  /** Parsed delivery URLs (an endpoint's URL is sent to over and over; not long ones): only saves the parsing. */
  const targets = new Map<string, Target | null>();
  const target = (raw: string): Target | null => {
    let t = targets.get(raw);
    if (t === undefined) {
      const long = raw.length > MAX_REMEMBERED_URL_LENGTH;
      // The URL's parts are slices of its text: the host goes into the attempt's record (its `host`
      // header) and the origin keys a pool, and either would keep a long URL's text, ~3 MiB, as
      // long as they live. A long URL's are copied out (short ones' text is small, and remembered).
      const own = long ? (part: string) => Buffer.from(part).toString() : (part: string) => part;
      try {
        const u = new URL(raw);
        t = {
          protocol: u.protocol,
          hostname: own(u.hostname),
          host: own(u.host),
          origin: own(u.origin),
          path: `${u.pathname}${u.search}`,
        };
      } catch {
        t = null;
      }
      if (long) return t;
      if (targets.size >= MAX_REMEMBERED_HOSTS) targets.clear();
      targets.set(raw, t);
    }
    return t;
  };

  const send: SendFn = (req: SendRequest): Promise<SendResult> => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const deadlineFrom = clock.now();
    let requestHeaders: Record<string, string> | undefined;
    const done = (partial: Omit<SendResult, 'startedAt' | 'durationMs'>): SendResult => ({
      startedAt,
      durationMs: Math.round((performance.now() - t0) * 10) / 10,
      ...(requestHeaders ? { requestHeaders } : {}),
      ...partial,
    });
    const refused = (kind: NonNullable<SendResult['error']>['kind'], message: string) =>
      Promise.resolve(done({ response: null, error: { kind, message } }));

    const url = target(req.url);
    if (url === null) return refused('protocol', 'invalid URL');
    const headers: Record<string, string> = { ...req.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent'))
      headers['user-agent'] = options.userAgent;
    // What the attempt records as sent (also when the guard refuses it: the request as it would go).
    requestHeaders = wireHeaders(url.host, req.method, headers, req.body);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return refused('blocked', `scheme ${url.protocol} is not allowed`);
    if (!hostVerdict(url.hostname)) return refused('blocked', new BlockedAddressError(url.hostname).message);
    // Time this thread's loop was held meanwhile (up to the request's allowance) moves the deadline
    // on (attempt-deadline.ts). A timeout or allowance that is not a number cannot be kept: refused.
    const allowance = req.stallAllowanceMs ?? 0;
    let deadline: AttemptDeadline;
    // Held time is counted from the attempt's start (LoopStalls.heldSince): the deadline's count starts at 0.
    const mark = allowance > 0 ? stalls.mark() : null;
    try {
      deadline = attemptDeadline(deadlineFrom, req.timeoutMs, allowance, 0);
    } catch (error) {
      // Herald's own refusal, not the receiver's failure: not counted against it (SendResult.unsent).
      return Promise.resolve(
        done({
          response: null,
          error: { kind: 'internal', message: (error as Error).message },
          unsent: true,
        }),
      );
    }

    return new Promise<SendResult>((resolve) => {
      const poolKey = req.poolKey ? `${url.origin} ${req.poolKey}` : url.origin;
      const entry = pools.acquire(url.origin, poolKey);
      const maxBytes = options.maxResponseBytes;
      let settled = false;
      /** undici's abort for this request: there once it has a socket (not while queued or dialling). */
      let abort: ((error: Error) => void) | null = null;
      let status = 0;
      let responseHeaders: Record<string, string> = {};
      /** The interim (1xx) statuses the receiver answered, each once, for the timeout's record. */
      const interim: number[] = [];
      const chunks: Buffer[] = [];
      let size = 0;

      // `torn`: the attempt ended with its connection torn down (an error, or a body cut at the cap).
      const finish = (result: SendResult, torn: boolean): void => {
        if (settled) return;
        settled = true;
        cancelDeadline();
        entry.active--;
        entry.lastUsed = performance.now();
        // undici answers an aborted request (deadline, cap) by dialling the origin again at once,
        // and that fresh socket would then sit idle towards a receiver that just misbehaved (as
        // would a TLS dial that never completes). When no other attempt uses the pool, drop it:
        // a misbehaving origin keeps no sockets; the next attempt starts a new pool.
        if (torn) pools.dropIfIdle(poolKey, entry);
        resolve(result);
      };
      const failed = (error: unknown): void => {
        const local = localFailure(error);
        if (local?.code === PROXY_UNAVAILABLE) countProxyFailure();
        // Cut after the status and headers (a reset, a body shorter than its content-length):
        // the receiver answered, and the history says with what.
        if (!local && status >= 200) {
          cutInBody(errorKindFromError(error), errorMessage(error));
          return;
        }
        finish(
          done(
            local
              ? { response: null, error: { kind: 'internal', message: local.message }, local: local.code }
              : { response: null, error: { kind: errorKindFromError(error), message: errorMessage(error) } },
          ),
          true,
        );
      };
      /**
       * The receiver sent its status and headers but not all of its body (in time, or before its
       * connection was cut): still a failure (a timeout, a reset…, retried), with the response kept
       * as far as it came, so the history shows that the receiver answered, and with what (a 503's
       * Retry-After read too).
       */
      const cutInBody = (kind: ErrorKind, message: string): void => {
        const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        finish(
          done({
            response: {
              status,
              headers: responseHeaders,
              body: capUtf8(new StringDecoder('utf8').write(buf), maxBytes),
            },
            error: {
              kind,
              message: `${message}: the response's status and headers came, its body did not finish`,
            },
          }),
          true,
        );
      };
      const answered = (capped: boolean): void => {
        const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        // At the cap a multi-byte character may be cut: StringDecoder leaves its bytes out.
        const text = capped ? new StringDecoder('utf8').write(buf) : buf.toString('utf8');
        finish(
          done({
            response: { status, headers: responseHeaders, body: capUtf8(text, maxBytes) },
            error: null,
          }),
          capped,
        );
      };

      // The overall deadline: undici's header and body timeouts are per gap, a trickle would dodge
      // them. It also ends an attempt still queued or dialling (undici cannot abort those: the dial
      // is cut when the pool is dropped in finish), and a response that turns up later is ignored.
      // It acts after the event loop's next read of the sockets (setImmediate): when the process was
      // paused (SIGSTOP, a long GC, a busy loop) its timers run before the reads, and a response that
      // arrived in time meanwhile would otherwise be recorded as a timeout and sent again.
      // Time this thread's loop was held meanwhile (up to the request's allowance) moves the
      // deadline on by as much: the receiver's answer may be waiting in a socket nobody read, or the
      // request may not have been written yet (a claim reading large payloads held the dispatcher
      // thread for seconds under load, and a healthy endpoint was timed out until it was disabled).
      let moved = 0;
      const onDeadline = (): void => {
        setImmediate(() => {
          if (settled) return;
          const now = clock.now();
          const check = checkDeadline(deadline, moved, mark ? stalls.heldSince(mark) : 0, now);
          if (!check.fire) {
            cancelDeadline = clock.after(onDeadline, check.at - now);
            moved = check.movedMs;
            return;
          }
          const error = new DeadlineError(req.timeoutMs, check.heldMs, interim);
          // first: undici may report the abort to onError at once
          if (status >= 200) cutInBody('timeout', error.message);
          // Still without a connection because the proxy has not taken one: the proxy's failure.
          else failed((abort === null && proxyNotTaking(entry.dialing, req.timeoutMs)) || error);
          abort?.(error);
        });
      };
      let cancelDeadline = clock.after(onDeadline, req.timeoutMs);

      // undici's handler interface directly, not pool.request: no response stream, no promise and
      // no AbortSignal per attempt (~10 µs less per request, measured).
      const handler: Dispatcher.DispatchHandler = {
        onConnect(undiciAbort: (error: Error) => void) {
          abort = undiciAbort;
          if (settled) undiciAbort(new DeadlineError(req.timeoutMs)); // the deadline passed while queued
        },
        onHeaders(statusCode: number, raw: Buffer[]) {
          if (statusCode < 200) {
            // 1xx: the final response follows (undici waits for it). Kept for the record: a receiver
            // that answered `199` as if final would otherwise read as one that never answered.
            if (!interim.includes(statusCode) && interim.length < MAX_INTERIM_NAMED) interim.push(statusCode);
            return true;
          }
          status = statusCode;
          responseHeaders = headerRecord(raw);
          return true;
        },
        onData(chunk: Buffer) {
          if (settled) return true;
          const room = maxBytes - size;
          chunks.push(room < chunk.length ? chunk.subarray(0, room) : chunk);
          size += Math.min(room, chunk.length);
          if (size >= maxBytes) {
            // An enormous response must not hold the connection: drop it, keep what was read.
            answered(true); // first: undici may report the abort to onError at once
            abort?.(new ResponseCappedError(maxBytes));
          }
          return true;
        },
        onComplete() {
          if (!settled) answered(false);
        },
        onError(error: Error) {
          failed(error);
        },
      } as Dispatcher.DispatchHandler;
      try {
        entry.pool.dispatch(
          {
            path: url.path,
            method: req.method as Dispatcher.HttpMethod,
            headers,
            body: req.body ?? undefined,
            // The deadline above is the attempt's limit; undici's own (per gap) never come before it.
            headersTimeout: req.timeoutMs + allowance,
            bodyTimeout: req.timeoutMs + allowance,
          },
          handler,
        );
      } catch (error) {
        failed(error);
      }
    });
  };

  return {
    send,
    heldMs: () => stalls.stalledMs(),
    close: () => {
      stalls.stop();
      return pools.close();
    },
  };
}

/**
 * Response headers as one record: lower-case names; a header that came more than once (two
 * `Set-Cookie`s) has its values in order, one per line ("\n": no header value can hold one), so
 * each stays whole: a cookie's `Expires` has a comma, a ", " join could not be split again.
 */
function headerRecord(raw: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('utf8');
    if (Object.hasOwn(out, name)) out[name] += `\n${value}`;
    else if (name === '__proto__')
      Object.defineProperty(out, name, { value, enumerable: true, writable: true });
    else out[name] = value;
  }
  return out;
}

/** A response body went past the cap: its connection is dropped. */
class ResponseCappedError extends Error {
  constructor(maxBytes: number) {
    super(`response body cut at ${maxBytes} bytes`);
    this.name = 'ResponseCappedError';
  }
}

/** At most this many distinct interim statuses are named in a timeout's message. */
const MAX_INTERIM_NAMED = 5;

/** The attempt's overall deadline passed; classified as `timeout` like undici's own timeouts. */
class DeadlineError extends Error {
  /**
   * `heldMs`: time this process could not run, left out of the timeout; `interim`: the 1xx statuses
   * the receiver answered before it (none of them final).
   */
  constructor(ms: number, heldMs = 0, interim: readonly number[] = []) {
    super(
      `the attempt took longer than its ${ms} ms timeout` +
        (heldMs > 0 ? `, not counting ${Math.round(heldMs)} ms this process could not run` : '') +
        (interim.length > 0
          ? `; the receiver answered only ${interim.join(', ')} (interim 1xx, which a final status 200-599 must follow)`
          : ''),
    );
    this.name = 'TimeoutError';
  }
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

/** Codes of this process running out of something (file descriptors, memory), in the cause chain. */
const LOCAL_RESOURCE_CODES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/**
 * An attempt that failed in this installation before anything went towards the receiver: this
 * process out of file descriptors or memory, or the delivery proxy unreachable or refusing
 * (proxy-connector.ts). Its code (SendResult.local) and the message its attempt would record.
 */
function localFailure(error: unknown): { code: string; message: string } | null {
  // Out of descriptors first: opening the socket to the proxy can fail so too.
  const resource = inCauses(error, (code) => LOCAL_RESOURCE_CODES.has(code));
  if (resource) {
    return {
      code: resource.code,
      message:
        `this Herald process could not open a connection (${resource.code}: out of file descriptors or memory); not the receiver's failure: ${errorMessage(error)}`.slice(
          0,
          500,
        ),
    };
  }
  const proxy = inCauses(error, (code) => code === PROXY_UNAVAILABLE);
  // Its message says its cause's already (proxy-connector.ts): not errorMessage, which adds it again.
  if (proxy)
    return {
      code: proxy.code,
      message: `${(proxy.error as Error).message}; not the receiver's failure`.slice(0, 500),
    };
  return null;
}

/** The first error of the cause chain (at most 5 deep) whose code `matches`. */
function inCauses(
  error: unknown,
  matches: (code: string) => boolean,
): { code: string; error: unknown } | null {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && matches(code)) return { code, error: e };
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** The error's message with its cause's, bounded (it is stored with the attempt). */
function errorMessage(error: unknown): string {
  const unreadable = unreadableAnswer(error);
  if (unreadable !== null) return unreadable;
  if (error instanceof Error) {
    const assertion = assertionMessage(error);
    if (assertion) return assertion.slice(0, 500);
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}

/**
 * undici's assert() on a response llhttp let through (a 101 without Upgrade headers, a status below
 * 100): its own text ("The expression evaluated to a falsy value: assert(upgrade)") read in the
 * history as a bug of Herald's rather than the receiver's answer. Null for any other error.
 */
function assertionMessage(error: Error): string | null {
  if ((error as { code?: unknown }).code !== 'ERR_ASSERTION') return null;
  const check = /assert\((.+)\)/.exec(error.message)?.[1];
  return `the response is not HTTP/1.1 the HTTP client can read${check ? ` (its check \`${check}\` failed)` : ''}`;
}
