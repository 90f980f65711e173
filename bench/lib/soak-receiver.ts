/**
 * The soak's receiver: one process of its own (so its work never slows the load generator), with
 * one behaviour per path, `/<mode>/<key>`:
 *
 *   /ok/<key>      200 at once
 *   /flaky/<key>   500 for a share `fail` of the requests (query ?fail=0.3), else 200
 *   /fail/<key>    always 500
 *   /slow/<key>    200 after `ms` (?ms=50); a share `late` (?late=0.2) only after `lateMs`
 *                  (?lateMs=1500), past the endpoint's timeout, so Herald times those out
 *
 * It keeps, per key, every distinct `webhook-id` it answered 200, and counts requests by key and
 * outcome (`<key>:late` for each request held past its timeout, `<key>:late-answered` for those
 * still open when their late 200 went out: the sender had not yet acted on its deadline).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SoakReceiverReply, SoakReceiverRequest } from './soak-receiver-protocol.ts';

const answered = new Map<string, Set<string>>();
const counts: Record<string, number> = {};

function bump(name: string) {
  counts[name] = (counts[name] ?? 0) + 1;
}

function keep(key: string, id: string) {
  let ids = answered.get(key);
  if (!ids) {
    ids = new Set();
    answered.set(key, ids);
  }
  ids.add(id);
}

function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://receiver');
  const [, mode = '', key = ''] = url.pathname.split('/');
  const id = String(req.headers['webhook-id'] ?? '');
  const param = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  const answer = (status: number, outcome: string, kept: boolean) => {
    bump(`${key}:${outcome}`);
    if (kept && id) keep(key, id);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
  };
  req.resume();
  req.on('end', () => {
    switch (mode) {
      case 'ok':
        return answer(200, 'ok', true);
      case 'flaky':
        return Math.random() < param('fail', 0.3) ? answer(500, '500', false) : answer(200, 'ok', true);
      case 'fail':
        return answer(500, '500', false);
      case 'slow': {
        const late = Math.random() < param('late', 0.2);
        if (late) bump(`${key}:late`);
        // A late 200 that finds the request still open counts as an arrival: the sender may
        // record it as succeeded when its loop ran late (src/delivery/sender.ts reads the sockets
        // once more before its deadline acts), and the receiver did take the webhook.
        const timer = setTimeout(
          () => answer(200, late ? 'late-answered' : 'ok', true),
          late ? param('lateMs', 1500) : param('ms', 50),
        );
        // The sender gave up (its timeout): nothing to answer.
        res.on('close', () => {
          if (!res.writableEnded) clearTimeout(timer);
        });
        return;
      }
      default:
        return answer(404, 'unknown', false);
    }
  });
}

const servers: Server[] = [];
async function listen(): Promise<number> {
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function send(message: SoakReceiverReply) {
  process.send?.(message);
}

process.on('message', async (message: SoakReceiverRequest) => {
  switch (message.type) {
    case 'counts':
      send({ type: 'counts', id: message.id, counts: { ...counts } });
      break;
    case 'ids':
      send({ type: 'ids', id: message.id, ids: [...(answered.get(message.key) ?? [])] });
      break;
    case 'listen':
      send({ type: 'listening', id: message.id, port: await listen() });
      break;
    case 'stop':
      for (const s of servers) s.closeAllConnections();
      process.exit(0);
  }
});

const port = await listen();
send({ type: 'ready', port });
process.on('disconnect', () => process.exit(0));
