/**
 * A loopback TCP forwarder for tests, standing in for what a database URL names and a failover
 * moves (a DNS name, a virtual IP, a pgbouncer): each new connection is piped to the port it points
 * at now. `pointTo` moves it for new connections only, as a DNS change or a pooler's new target
 * does; `dropConnections` cuts the ones open (as a virtual IP that moved, or the old server gone).
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** The port new connections go to. */
  readonly target: number;
  /** New connections go to `port` on 127.0.0.1 from now on; open ones stay where they are. */
  pointTo(port: number): void;
  /** Connections piped now. */
  readonly open: number;
  /** Ends every connection open now (both sides); the proxy goes on listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropConnections = () => {
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get target() {
      return target;
    },
    pointTo(next) {
      target = next;
    },
    get open() {
      return pairs.size;
    },
    dropConnections,
    close: async () => {
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
