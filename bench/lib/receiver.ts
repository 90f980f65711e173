/**
 * The counting receiver: one process, shared by every system under test, started by the benchmark
 * with an IPC channel (see receiver-client.ts). Paths say what to do with a request:
 *
 *   /t/<key>/…   count it under <key> and answer 200
 *   /l/<key>/…   the same, and record (seq, arrival time) from the payload, for latency
 *   /h/<key>/…   never answer (a hanging receiver): the sender's timeout ends it
 *
 * Arrival time is when the whole body has been read. Counts are pushed to the parent every 10 ms
 * when they changed; exact samples and recorded arrivals are sent on request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './clock.ts';
import type { ParentMessage, ReceiverMessage } from './receiver-protocol.ts';

const counts = new Map<string, number>();
const recorded = new Map<string, { seq: number[]; at: number[] }>();
let changed = false;
let hanging = 0;
const SEQ = /"seq":(\d+)/;

function send(message: ReceiverMessage) {
  process.send?.(message);
}

function count(key: string) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
  changed = true;
}

function handle(req: IncomingMessage, res: ServerResponse) {
  const url = req.url ?? '/';
  const second = url.indexOf('/', 1);
  const third = second < 0 ? -1 : url.indexOf('/', second + 1);
  const mode = url.slice(1, second < 0 ? undefined : second);
  const key = second < 0 ? '' : url.slice(second + 1, third < 0 ? undefined : third).split('?')[0]!;
  if (mode === 'h') {
    hanging++;
    count(`hang:${key}`);
    req.resume();
    res.on('close', () => hanging--);
    return;
  }
  if (mode === 'l') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = nowMs();
      const match = SEQ.exec(Buffer.concat(chunks).toString('latin1'));
      if (match) {
        let r = recorded.get(key);
        if (!r) {
          r = { seq: [], at: [] };
          recorded.set(key, r);
        }
        r.seq.push(Number(match[1]));
        r.at.push(at);
      }
      count(key);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    return;
  }
  req.resume();
  req.on('end', () => {
    count(key);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
}

const servers: Server[] = [];
async function listen(): Promise<number> {
  const server = createServer(handle);
  // Long keep-alive for every client alike; no server-side cut of a hanging request.
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  server.maxHeadersCount = 0;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

process.on('message', async (message: ParentMessage) => {
  switch (message.type) {
    case 'sample':
      send({ type: 'sample', id: message.id, count: counts.get(message.key) ?? 0, at: nowMs() });
      break;
    case 'arrivals': {
      const r = recorded.get(message.key) ?? { seq: [], at: [] };
      recorded.delete(message.key);
      send({ type: 'arrivals', id: message.id, seq: r.seq, at: r.at });
      break;
    }
    case 'listen': {
      const ports: number[] = [];
      for (let i = 0; i < message.count; i++) ports.push(await listen());
      send({ type: 'listening', id: message.id, ports });
      break;
    }
    case 'stop':
      for (const s of servers) s.closeAllConnections();
      process.exit(0);
  }
});

setInterval(() => {
  if (!changed) return;
  changed = false;
  send({ type: 'counts', at: nowMs(), counts: Object.fromEntries(counts), hanging });
}, 10).unref();

const port = await listen();
send({ type: 'ready', port });
// The parent's end is ours too.
process.on('disconnect', () => process.exit(0));
