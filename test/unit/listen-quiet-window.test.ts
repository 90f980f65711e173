/**
 * herald listen: a poll reads the events of the last 5 s before the newest one seen again (an event
 * committed late still shows up), but not for ever: once that window has been quiet for 5 s, polls
 * ask only for newer events. Before, a burst of large events kept being read whole at every poll
 * while nothing new came (30 events of 900 KB: 27 MB at every poll). A loopback
 * stand-in for Herald's events list (it answers `since` as Herald does) and a loopback receiver;
 * the real @herald/client.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { localShape } from '../../src/cli/listen/forward-shape.ts';
import { createForwarder, LOOK_BACK_MS } from '../../src/cli/listen/forwarder.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('once the newest event is 5 s old, polls stop reading the events before it again', async () => {
  const event = (n: number) => ({
    id: `evt_${n}`,
    projectId: 'p',
    type: 'big',
    payload: { n, blob: 'x'.repeat(1000) },
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: new Date().toISOString(),
  });
  const events = [event(1), event(2), event(3)];
  /** Events the stand-in answered, in all. */
  let listed = 0;
  const api = await serve((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    const since = Number(url.searchParams.get('since') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const data = events
      .filter((e) => Date.parse(e.createdAt) >= since)
      .reverse()
      .slice(0, limit);
    listed += data.length;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data, nextCursor: null }));
  });
  const received: string[] = [];
  const receiver = await serve((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  const forwarder = createForwarder({
    client: new HeraldClient({ url: api, token: 'test-token', retries: 0 }),
    project: 'p',
    forwardTo: `${receiver}/hooks`,
    shape: localShape(undefined, null),
    intervalMs: 10,
    timeoutMs: 2_000,
    log: () => {},
  });
  await forwarder.start();
  // Within 5 s of the newest: the window is read again (a late commit would show up in it).
  listed = 0;
  assert.equal(await forwarder.poll(), 0);
  assert.equal(listed, 3);

  await sleep(LOOK_BACK_MS + 300);
  listed = 0;
  assert.equal(await forwarder.poll(), 0);
  assert.equal(listed, 0, 'a quiet window is not read again');

  // A new event is still found and forwarded, once.
  events.push(event(4));
  assert.equal(await forwarder.poll(), 1);
  assert.equal(await forwarder.poll(), 0);
  assert.equal(received.length, 1);
  assert.match(received[0]!, /"n":4/);
});
