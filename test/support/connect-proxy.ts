/**
 * A real HTTP forward proxy on 127.0.0.1 for tests: answers CONNECT by tunnelling to the address
 * asked for, which must be a loopback address (anything else is answered 403 and never dialled),
 * and records every CONNECT it is sent. `answer` can make it refuse (any status) or never answer.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, isIP, type Socket } from 'node:net';

export interface ConnectRequest {
  /** `host:port` as asked (IPv6 in brackets). */
  authority: string;
  authorization: string | undefined;
}

export interface ConnectProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every CONNECT received, in order. */
  connects: ConnectRequest[];
  /** Tunnels open now. */
  readonly open: number;
  /** Ends every connection to the proxy (tunnels included); the server goes on listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** A status to answer instead of tunnelling, `'hang'` to never answer, or null to tunnel. */
export type ProxyAnswer = (request: IncomingMessage) => number | 'hang' | null;

const isLoopback = (host: string) => host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

/**
 * `established`: the status line of its answer when it tunnels (RFC 9110: any 2xx opens the tunnel,
 * with any reason phrase).
 */
export async function startConnectProxy(
  answer: ProxyAnswer = () => null,
  established = 'HTTP/1.1 200 Connection Established',
): Promise<ConnectProxy> {
  const connects: ConnectRequest[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  const server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const authority = req.url ?? '';
    connects.push({ authority, authorization: req.headers['proxy-authorization'] });
    client.on('error', () => {});
    const decided = answer(req);
    if (decided === 'hang') return;
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
    const status = decided ?? (match && isLoopback(match[1]!) ? 200 : 403);
    if (status !== 200 || !match) {
      client.end(`HTTP/1.1 ${status} Refused by the test proxy\r\n\r\n`);
      return;
    }
    const upstream = connect({ host: match[1]!, port: Number(match[2]) });
    upstream.once('connect', () => {
      open++;
      upstream.once('close', () => open--);
      client.write(`${established}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!client.writableEnded) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects,
    get open() {
      return open;
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
