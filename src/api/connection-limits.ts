/**
 * How many connections the API holds open at once, in all and from one client address. Every
 * connection is a file descriptor, and so is every delivery socket and database file: before
 * these bounds, one address on loopback opening 1,500 idle connections against a process limited to
 * 1,024 files held all of them (each for the 10 s headers timeout, and a client sending a request
 * every few seconds holds one for ever), and every other client's requests were closed unanswered
 * while deliveries stopped (docs/api.md "Limits", docs/operations.md "File descriptors").
 *
 * A connection past a bound is answered at once, before anything of it is read or run: 503
 * HERALD_ERR_BUSY with Retry-After: 1 and Connection: close, then closed (after at most
 * REFUSED_LINGER_MS, so that the client reads the answer rather than a reset).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { type Cidr, cidrContains, parseCidrList, parseIpLiteral } from '../domain/address-classifier.ts';
import { counted } from '../domain/counted.ts';

/** File descriptors API connections never take: the database's files, the process's own, deliveries. */
export const FDS_KEPT_FROM_API = 128;
/** The fewest connections the API may hold, however low the open-file limit. */
const MIN_CONNECTIONS = 64;
/** One address holds at most this share of the total (so it takes four to fill it)… */
const ADDRESS_SHARE = 4;
/** …and at most this many, however high the limit. */
export const MAX_CONNECTIONS_PER_ADDRESS = 1024;
/** How long a refused connection is kept for its answer to be read before it is closed… */
export const REFUSED_LINGER_MS = 1_000;
/**
 * …while at most this many are: each is a file descriptor too (500 refused connections lingering
 * for a second took a process limited to 512 files to its limit). Past it, one is closed once its
 * answer is written, and a client that had sent its request may see a reset instead.
 */
const LINGERING_AT_MOST = 64;

export interface ConnectionBounds {
  /** Connections open at once in all (null: no bound). */
  total: number | null;
  /** Connections open at once from one address (or IPv6 /64). */
  perAddress: number;
}

/** The bounds an open-file limit (null: unknown or unlimited) leaves. */
export function connectionBounds(openFileLimit: number | null): ConnectionBounds {
  if (openFileLimit === null) return { total: null, perAddress: MAX_CONNECTIONS_PER_ADDRESS };
  const total = Math.max(MIN_CONNECTIONS, openFileLimit - FDS_KEPT_FROM_API);
  return { total, perAddress: Math.min(MAX_CONNECTIONS_PER_ADDRESS, Math.floor(total / ADDRESS_SHARE)) };
}

/**
 * Whose connection this is: an IPv4 address (IPv4-mapped IPv6 included), or an IPv6 address's /64,
 * which a single host usually has whole (and can pick any address of).
 */
export function addressKey(address: string): string {
  const bytes = parseIpLiteral(address);
  if (!bytes) return address;
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return bytes.slice(12).join('.');
  return `${Buffer.from(bytes.slice(0, 8)).toString('hex')}::/64`;
}

function refusal(message: string): string {
  const body = JSON.stringify({ error: { code: 'HERALD_ERR_BUSY', message } });
  return [
    'HTTP/1.1 503 Service Unavailable',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Retry-After: 1',
    // Written before any request is read: no URL to tell an /api/ one by (no-store.ts).
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Puts the bounds in front of the HTTP server's own connection handling: a refused socket never
 * reaches it, so nothing it sends is parsed or run. Connections from trusted proxies
 * (HERALD_TRUST_PROXY) carry many clients: only the total bounds them. `onRefused` is called for
 * each connection answered 503 (request-metrics.ts countConnectionRefusals).
 */
export function limitConnections(
  server: Server,
  bounds: ConnectionBounds,
  trustProxy: readonly string[],
  onRefused?: () => void,
): void {
  const proxies: Cidr[] = parseCidrList(trustProxy.join(','));
  const byAddress = new Map<string, number>();
  let open = 0;
  let lingering = 0;
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const bytes = parseIpLiteral(address);
    const proxied = bytes !== null && proxies.some((cidr) => cidrContains(cidr, bytes));
    const key = proxied ? null : addressKey(address);
    const fromAddress = key === null ? 0 : (byAddress.get(key) ?? 0);
    const message =
      bounds.total !== null && open >= bounds.total
        ? `this server holds ${counted(open, 'connections')}, its most (the open-file limit less ${FDS_KEPT_FROM_API}): retry shortly`
        : key !== null && fromAddress >= bounds.perAddress
          ? `this address holds ${counted(fromAddress, 'connections')} to this server, its most (${bounds.perAddress}): reuse them (keep-alive) or close some, then retry`
          : null;
    if (message !== null) {
      onRefused?.();
      socket.on('error', () => undefined);
      if (lingering >= LINGERING_AT_MOST) {
        socket.end(refusal(message), () => socket.destroy());
        return;
      }
      lingering++;
      // From the answer on, not a quiet spell (a socket timeout): a client that kept sending held
      // its refused connection for as long as it did.
      const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
      socket.once('close', () => {
        lingering--;
        clearTimeout(timer);
      });
      socket.end(refusal(message));
      socket.resume(); // what it sent is thrown away unread, so its close is not a reset
      return;
    }
    open++;
    if (key !== null) byAddress.set(key, fromAddress + 1);
    socket.once('close', () => {
      open--;
      if (key === null) return;
      const left = (byAddress.get(key) ?? 1) - 1;
      if (left > 0) byAddress.set(key, left);
      else byAddress.delete(key);
    });
    for (const handler of handlers) handler.call(server, socket);
  });
}
