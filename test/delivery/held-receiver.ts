/**
 * A loopback receiver that answers at once, but holds the requests to the paths in `holds` (without
 * the leading /) unanswered until letGo(); `arrivals` lists every path in order of arrival. Each
 * answer's body is `body` ('ok' unless given).
 */
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function heldReceiver(holds: string[], body = 'ok') {
  const arrivals: string[] = [];
  const held: ServerResponse[] = [];
  const state = { holding: true };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url!.slice(1);
      arrivals.push(path);
      if (holds.includes(path) && state.holding) held.push(res);
      else res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    held,
    /** Answers the held requests and those to come. */
    letGo() {
      state.holding = false;
      for (const res of held.splice(0)) res.end(body);
    },
    close() {
      this.letGo();
      return new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    },
  };
}
