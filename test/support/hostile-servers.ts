/**
 * Hostile webhook receivers on 127.0.0.1 for delivery tests: HTTP or raw TCP servers whose handler
 * misbehaves (hangs, trickles, resets, floods, speaks garbage), with a socket-level count of the
 * connections they accepted and still hold, so a test can tell whether the sender let go.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';

/** Socket-level view of a server. */
export interface SocketStats {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Most connections open at once. */
  peak: number;
  /** Requests that reached the handler (HTTP servers only). */
  requests: number;
}

export interface HostileServer {
  /** http://HOST:PORT/hook */
  url: string;
  port: number;
  stats: SocketStats;
  close(): Promise<void>;
}

function listen(
  server: ReturnType<typeof createNetServer> | ReturnType<typeof createHttpServer>,
  host: string,
  stats: SocketStats,
): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    stats.accepted++;
    stats.open++;
    stats.peak = Math.max(stats.peak, stats.open);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      stats.open--;
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const port = (server.address() as AddressInfo).port;
      const h = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${h}:${port}/hook`,
        port,
        stats,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

/** An HTTP server whose handler decides the hostility; keep-alive is long, so closes are the client's. */
export function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<HostileServer> {
  const stats: SocketStats = { accepted: 0, open: 0, peak: 0, requests: 0 };
  const server = createHttpServer((req, res) => {
    stats.requests++;
    res.on('error', () => {});
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  return listen(server, host, stats);
}

/** A TCP server that writes whatever `onRequest` wants once the first request bytes arrive. */
export function tcpServer(onRequest: (socket: Socket) => void, host = '127.0.0.1'): Promise<HostileServer> {
  const stats: SocketStats = { accepted: 0, open: 0, peak: 0, requests: 0 };
  const server = createNetServer((socket) =>
    socket.once('data', () => {
      stats.requests++;
      onRequest(socket);
    }),
  );
  return listen(server, host, stats);
}

/** Streams `total` bytes of `byte` (Infinity: until the client goes away). */
export function stream(res: ServerResponse, total: number, byte = 0x78): void {
  const chunk = Buffer.alloc(64 * 1024, byte);
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/** Writes one byte every `everyMs` until the client goes away. */
export function trickle(res: ServerResponse | Socket, everyMs: number, byte = '.'): void {
  const timer = setInterval(() => res.write(byte), everyMs);
  res.on('close', () => clearInterval(timer));
}

/** Resolves once the server holds no connection from the client, or rejects after `timeoutMs`. */
export async function connectionsReleased(
  stats: SocketStats,
  what: string,
  timeoutMs = 1_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stats.open > 0) {
    if (Date.now() > deadline) throw new Error(`${what}: ${stats.open} connection(s) still open`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
