/**
 * A loopback TCP forwarder for tests, standing in for what a database URL names and a failover
 * moves (a DNS name, a virtual IP, a pgbouncer): each new connection is piped to the port it points
 * at now. `pointTo` moves it for new connections only, as a DNS change or a pooler's new target
 * does; `dropConnections` cuts the ones open (as a virtual IP that moved, or the old server gone).
 * Put on a standby's replication connection, `stall` makes it lag: nothing is passed on until
 * `resume`, the connections staying open, as a congested or partitioned link.
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
  /** Passes nothing on, either way, on the open connections and new ones, until `resume`. */
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let stalled = false;
  const pairs = new Set<[Socket, Socket]>();
  // Unpiped streams stop reading (what arrives waits in the kernel's buffers): the link is stalled.
  const flow = ([client, upstream]: [Socket, Socket]) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const hold = ([client, upstream]: [Socket, Socket]) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
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
    if (stalled) hold(pair);
    else flow(pair);
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
    stall() {
      stalled = true;
      for (const pair of pairs) hold(pair);
    },
    resume() {
      stalled = false;
      for (const pair of pairs) flow(pair);
    },
    close: async () => {
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
