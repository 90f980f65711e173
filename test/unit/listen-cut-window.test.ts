/**
 * herald listen: a poll reads at most 20 pages of its window, and Herald cuts a page at 4 MiB of
 * payloads, so a window of large events is cut short long before 2,000 of them. The line that says
 * so gives the number read: it said "more than 2000 events" after reading 100. A loopback stand-in
 * for Herald's events list that pages 5 events at a time (as it does ~800 KB payloads).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { localShape } from '../../src/cli/listen/forward-shape.ts';
import { createForwarder } from '../../src/cli/listen/forwarder.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

test('a window cut short by large pages says how many events were read, not 2000', async () => {
  const at = new Date().toISOString();
  let events: { id: string; createdAt: string }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    const from = Number(url.searchParams.get('cursor') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const newestFirst = [...events].reverse();
    const data = newestFirst.slice(from, from + Math.min(limit, 5)).map((e) => ({
      ...e,
      projectId: 'p',
      type: 'big',
      payload: {},
      test: false,
      idempotencyKey: null,
      callbackUrl: null,
    }));
    const next = from + data.length < newestFirst.length ? String(from + data.length) : null;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data, nextCursor: next }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const lines: string[] = [];
  const forwarder = createForwarder({
    client: new HeraldClient({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: 'test-token',
      retries: 0,
    }),
    project: 'p',
    forwardTo: 'http://127.0.0.1:9/none',
    shape: localShape(undefined, ['other']), // nothing forwarded: what the poll reads and says
    intervalMs: 10,
    timeoutMs: 2_000,
    log: (line) => lines.push(line),
  });
  await forwarder.start();
  events = Array.from({ length: 150 }, (_, n) => ({
    id: `evt_${String(n).padStart(3, '0')}`,
    createdAt: at,
  }));
  await forwarder.poll();
  assert.deepEqual(lines, [
    'more than 100 events in 5 s (20 pages, fewer events a page when they are large): the oldest of them are not forwarded',
  ]);
});
