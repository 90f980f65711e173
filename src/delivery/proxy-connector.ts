/**
 * Deliveries through an HTTP forward proxy (HERALD_PROXY_URL). Each connection to a receiver is a
 * CONNECT tunnel through the proxy to the address Herald resolved and judged itself (the SSRF
 * guard, guarded-lookup.ts, applies as without a proxy, and the proxy is never asked for a name
 * Herald did not check: it gets the address), then TLS inside the tunnel for https receivers, end
 * to end. The proxy's own address is the operator's choice and is not judged.
 *
 * What the proxy answers decides whose failure it is. 403 (its policy refuses the destination) is
 * the endpoint's, as `blocked`; 502, 503 and 504 (it could not reach the receiver) are too, as
 * `connect` or `timeout`, once the proxy was asked for each of the name's addresses in turn. A proxy that cannot be reached (refusing the connection, or not taking it
 * before the attempt's deadline: proxyNotTaking), closes without answering, or answers
 * anything else (407: wrong credentials) is this installation's failure: ProxyUnavailableError,
 * which the sender reports as local (SendResult.local), so the delivery waits without an attempt
 * recorded and the endpoint is not held responsible.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import type { buildConnector } from 'undici';
import type { DeliveryProxy } from '../config/config-types.ts';
import { proxyBypass } from '../domain/proxy-bypass.ts';
import { threadCounters } from '../thread-counters.ts';
import type { ConnectLookup } from './guarded-lookup.ts';

// Not `import … from 'node:http'`, which loads Node's built-in fetch (src/api/errors.ts).
const { request } = process.getBuiltinModule('node:http');

/** The code of ProxyUnavailableError (SendResult.local, store-error-log.ts). */
export const PROXY_UNAVAILABLE = 'HERALD_ERR_PROXY';

/** Attempts this process could not make for the proxy's failure (herald_proxy_failures_total). */
const failures = threadCounters<'proxy'>('herald:proxy-failures', ['proxy']);
export const countProxyFailure = (): void => failures.count('proxy');
export const proxyFailureCount = (): number => failures.counts().get('proxy') ?? 0;

/** The proxy failed, not the receiver: nothing was sent towards it. */
export class ProxyUnavailableError extends Error {
  readonly code = PROXY_UNAVAILABLE;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyUnavailableError';
  }
}

/** The proxy answered the CONNECT for the receiver's address with a refusal or a gateway error. */
class ProxyAnswerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ProxyAnswerError';
    this.code = code;
  }
}

/** What the proxy answered to one CONNECT that did not open a tunnel. */
interface Refusal {
  authority: string;
  status: number;
  reason: string;
}

/**
 * The error the CONNECTs for a receiver's addresses answered with `refusals` are (in the order
 * asked; the last one's status decides).
 */
export function connectRefusal(proxyUrl: string, refusals: readonly Refusal[]): Error {
  const answers = refusals
    .map((r) => `${r.status}${r.reason ? ` ${r.reason}` : ''} to CONNECT ${r.authority}`)
    .join(', then ');
  const said = `the proxy ${proxyUrl} answered ${answers}`;
  const status = refusals.at(-1)?.status ?? 0;
  // The proxy's policy refuses this destination: the endpoint's URL is the problem, like Herald's guard.
  if (status === 403) return new ProxyAnswerError('HERALD_ERR_BLOCKED', said);
  if (status === 504) return new ProxyAnswerError('HERALD_ERR_PROXY_TIMEOUT', said);
  if (status === 502 || status === 503) return new ProxyAnswerError('HERALD_ERR_PROXY_CONNECT', said);
  return new ProxyUnavailableError(said);
}

/** The answers with which a proxy says it could not reach the address asked for: the next is asked for. */
const UNREACHED = new Set([502, 503, 504]);

/**
 * One dial through the proxy as the origin pools see it (what the connector returns): the
 * connection to the proxy in use now. A name's next address takes a new connection to the proxy
 * (the one that answered 502 is the proxy's to close), so this follows it: `close` is the last
 * connection's, `destroy` cuts the one in use, `connecting` is its TCP handshake's.
 */
class ProxyDial extends EventEmitter {
  #socket: Socket;
  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    this.#follow(socket);
  }
  get socket(): Socket {
    return this.#socket;
  }
  get connecting(): boolean {
    return this.#socket.connecting;
  }
  /** Goes on with `socket`, ending the connection used until now. */
  use(socket: Socket): void {
    const previous = this.#socket;
    this.#socket = socket;
    this.#follow(socket);
    previous.destroy();
  }
  destroy(error?: Error): this {
    this.#socket.destroy(error);
    return this;
  }
  #follow(socket: Socket): void {
    socket.once('close', () => {
      if (this.#socket === socket) this.emit('close');
    });
  }
}

/** The dials to a proxy, with its URL (as logs show it). */
const dialsToProxy = new WeakMap<object, string>();

/**
 * Why an attempt whose deadline passed before it had a connection did not get one, when that is the
 * proxy: one of its pool's dials in progress (`dialing`) still waits for the proxy to take the TCP
 * connection (a proxy that is down, or behind a firewall that drops, answers nothing). That proxy
 * cannot be reached, which is this installation's failure, not the receiver's timeout. Null otherwise.
 */
export function proxyNotTaking(
  dialing: Iterable<{ readonly connecting: boolean }>,
  ms: number,
): ProxyUnavailableError | null {
  for (const dial of dialing) {
    const url = dialsToProxy.get(dial);
    if (url !== undefined && dial.connecting) {
      return new ProxyUnavailableError(`the proxy ${url} did not take the connection within ${ms} ms`);
    }
  }
  return null;
}

/** `host:port` as a CONNECT target: IPv6 in brackets. */
const authorityOf = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/**
 * The addresses the guarded lookup gives for `hostname`, in its order (IP literals are judged by
 * the sender). Every one: like a direct connection (net's autoSelectFamily), the tunnel tries the
 * next when the proxy cannot reach one (an IPv6 address and a proxy without IPv6, a host down).
 */
function resolveGuarded(lookup: ConnectLookup, hostname: string): Promise<string[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(bare)) return Promise.resolve([bare]);
  return new Promise((resolve, reject) => {
    lookup(bare, { all: true }, (error, addresses) => {
      if (error) reject(error);
      else {
        const all = Array.isArray(addresses) ? addresses.map((a) => a.address) : [addresses];
        if (all.length > 0 && all[0]) resolve(all);
        else reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${bare}`), { code: 'ENOTFOUND' }));
      }
    });
  });
}

/**
 * A connector for undici's Pools that tunnels through `proxy`, except for the receivers its bypass
 * list names (HERALD_PROXY_BYPASS), which get `direct`: decided on the URL's host, before anything
 * is dialled. Like undici's own connector it hands back the socket at once (the socket to the
 * proxy), so the origin pools can count it and cut a dial nobody waits for; the callback gets the
 * socket requests go over (that one, or TLS inside it).
 */
export function createProxyConnector(options: {
  proxy: DeliveryProxy;
  /** The SSRF guard's lookup: the receiver's name is resolved and judged here, not by the proxy. */
  lookup: ConnectLookup;
  /** undici's connector with the receivers' TLS settings, for TLS inside the tunnel. */
  tls: buildConnector.connector;
  /** The connector without a proxy, for the receivers the bypass list names. */
  direct: buildConnector.connector;
  /** Bounds the dial and the CONNECT when nobody cuts them sooner. */
  timeoutMs: number;
}): buildConnector.connector {
  const { proxy, direct } = options;
  const tunnel = tunnelConnector(options);
  const { names, networks } = proxy.bypass;
  if (names.length === 0 && networks.length === 0) return tunnel;
  const bypasses = proxyBypass(proxy.bypass);
  return (opts, callback) => (bypasses(opts.hostname) ? direct : tunnel)(opts, callback);
}

/** Every connection through the proxy: see createProxyConnector. */
function tunnelConnector(options: {
  proxy: DeliveryProxy;
  lookup: ConnectLookup;
  tls: buildConnector.connector;
  timeoutMs: number;
}): buildConnector.connector {
  const { proxy } = options;
  /** A connection to the proxy, and whether the proxy took it (a failure before that: unreachable). */
  const toProxy = (): Socket => {
    const raw = netConnect({ host: proxy.host, port: proxy.port });
    raw.setNoDelay(true);
    raw.once('connect', () => taken.add(raw));
    return raw;
  };
  const taken = new WeakSet<Socket>();
  const unreachable = (error: Error) =>
    new ProxyUnavailableError(`cannot reach the proxy ${proxy.url}: ${error.message}`, { cause: error });
  return (opts, callback) => {
    const dial = new ProxyDial(toProxy());
    dialsToProxy.set(dial, proxy.url);
    let settled = false;
    const settle = (error: Error | null, socket?: Socket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        dial.destroy();
        callback(error, null);
      } else callback(null, socket!);
    };
    const timer = setTimeout(
      () =>
        settle(
          new ProxyUnavailableError(`the proxy ${proxy.url} did not answer within ${options.timeoutMs} ms`),
        ),
      options.timeoutMs,
    );
    // Until the CONNECT is sent (the name is being resolved), errors of the socket are ours to catch.
    const first = dial.socket;
    const early = (error: Error) => settle(unreachable(error));
    first.on('error', early);
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    const refusals: Refusal[] = [];

    /** Asks the proxy, on the dial's connection, for a tunnel to addresses[i]; on to the next if it cannot reach it. */
    const ask = (addresses: readonly string[], i: number) => {
      const raw = dial.socket;
      const authority = authorityOf(addresses[i]!, port);
      const req = request({
        method: 'CONNECT',
        path: authority,
        // No agent: with createConnection, node:http sends the CONNECT on this socket.
        createConnection: () => raw,
        headers: {
          host: authority,
          ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}),
        },
      });
      req.once('connect', (res, socket, head) => {
        if (settled) return;
        // Any 2xx opens the tunnel (RFC 9110, CONNECT), not only 200.
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          refusals.push({ authority, status, reason: res.statusMessage ?? '' });
          if (UNREACHED.has(status) && i + 1 < addresses.length) {
            dial.use(toProxy());
            ask(addresses, i + 1);
          } else settle(connectRefusal(proxy.url, refusals));
          return;
        }
        if (head.length > 0) socket.unshift(head);
        if (opts.protocol !== 'https:') {
          settle(null, socket);
          return;
        }
        // TLS inside the tunnel, with the receiver's name (undici's connector: CAs, session reuse).
        options.tls({ ...opts, httpSocket: socket } as buildConnector.Options, (error, tlsSocket) => {
          if (error) settle(error);
          else {
            // The origin pools watch the dial (the socket to the proxy): it closes with the TLS
            // socket, whose errors are undici's to see (the proxy socket's are the same ones).
            raw.on('error', () => {});
            tlsSocket!.once('close', () => raw.destroy());
            raw.once('close', () => tlsSocket!.destroy());
            settle(null, tlsSocket as Socket);
          }
        });
      });
      req.on('error', (error) => {
        // The connection left behind for the next address's closing: nothing to report.
        if (raw !== dial.socket) return;
        settle(
          taken.has(raw)
            ? new ProxyUnavailableError(`the proxy ${proxy.url} failed during CONNECT: ${error.message}`, {
                cause: error,
              })
            : unreachable(error),
        );
      });
      req.end();
    };

    resolveGuarded(options.lookup, opts.hostname).then(
      (addresses) => {
        if (settled) return;
        first.removeListener('error', early);
        ask(addresses, 0);
      },
      (error: Error) => settle(error),
    );
    // The dial, not a socket: the origin pools count it, watch its `close`, and cut it when no
    // attempt waits for it (origin-pools.ts, Dial).
    return dial;
  };
}
