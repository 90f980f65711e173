import { createServer } from 'node:net';

/** Below Linux's ephemeral range (32768-60999, /proc/sys/net/ipv4/ip_local_port_range). */
const LOW = 20_000;
const HIGH = 32_767;

/**
 * A TCP port free on 127.0.0.1 now, for a server another program runs and must be told the port of
 * (PostgreSQL, Redis). It is picked at random below the ephemeral range and checked by binding it:
 * listen(0), which every test server uses, never hands out such a port, so a test running alongside
 * cannot take it before the server starts, nor while it is down for a restart. (A port freed from
 * listen(0) could be, and once was, given to another test at once.)
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${LOW} and ${HIGH} after 50 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
