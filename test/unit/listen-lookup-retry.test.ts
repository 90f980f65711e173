/**
 * herald listen --endpoint: a test event whose lookup fails once is forwarded at the next poll,
 * not dropped. A loopback stand-in for Herald's API (it answers the two routes listen reads, the
 * event lookup with a 500 the first time) and a loopback receiver; the real @herald/client.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { endpointShape } from '../../src/cli/listen/forward-shape.ts';
import { createForwarder, LOOK_BACK_MS } from '../../src/cli/listen/forwarder.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A loopback receiver keeping the bodies it gets, and a forwarder for endpoint ep_1 (every type,
 * Standard Webhooks) polling the API stand-in at `api` for project p and forwarding to it.
 */
async function forwardingTo(api: string) {
  const received: string[] = [];
  const receiver = await listen((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  const shape = endpointShape(
    {
      id: 'ep_1',
      eventTypes: [],
      dev: false,
      method: 'POST',
      headers: {},
      envelope: 'standard',
      signature: { scheme: 'standard' },
      status: 'active',
    } as unknown as Parameters<typeof endpointShape>[0],
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    null,
  );
  const forwarder = createForwarder({
    client: new HeraldClient({ url: api, token: 'test-token', retries: 0 }),
    project: 'p',
    forwardTo: `${receiver}/hooks`,
    shape,
    intervalMs: 10,
    timeoutMs: 2_000,
    log: () => {},
  });
  return { received, forwarder };
}

test('a test event whose lookup fails once is forwarded at the next poll', async () => {
  const event = {
    id: 'evt_1',
    projectId: 'p',
    type: 'player.joined',
    payload: { n: 1 },
    test: true,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: new Date().toISOString(),
  };
  let listed = false;
  let lookups = 0;
  const api = await listen((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/api/v1/projects/p/events?')) {
      res.end(JSON.stringify({ data: listed ? [event] : [], nextCursor: null }));
    } else if (req.url === '/api/v1/projects/p/events/evt_1') {
      lookups++;
      if (lookups === 1) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { code: 'HERALD_ERR_INTERNAL', message: 'try again' } }));
      } else res.end(JSON.stringify({ ...event, deliveries: [{ endpointId: 'ep_1' }] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  const { received, forwarder } = await forwardingTo(api);
  await forwarder.start();
  listed = true;
  await assert.rejects(forwarder.poll(), /try again|500/);
  assert.equal(await forwarder.poll(), 1, 'forwarded at the next poll');
  assert.equal(lookups, 2);
  assert.equal(received.length, 1);
  assert.match(received[0]!, /player\.joined/);
});

test('an event of the same millisecond as the newest forwarded, whose lookup failed, is forwarded after an outage of over 5 s', async () => {
  // Polls 5 s after the newest event ask only for newer ones (since: newest + 1). Before, a lookup
  // failing mid-poll left the events after it, of that very millisecond, out of every later poll
  // once Herald had been unreachable that long: evt_2 was never forwarded.
  const createdAt = new Date().toISOString();
  const event = (n: number, test: boolean) => ({
    id: `evt_${n}`,
    projectId: 'p',
    type: 'player.joined',
    payload: { n },
    test,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt,
  });
  const events = [event(1, false), event(2, true)];
  let listed = false;
  let lookups = 0;
  const api = await listen((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/projects/p/events') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const data = listed ? events.filter((e) => Date.parse(e.createdAt) >= since).reverse() : [];
      res.end(JSON.stringify({ data, nextCursor: null }));
    } else if (url.pathname === '/api/v1/projects/p/events/evt_2') {
      lookups++;
      if (lookups === 1) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { code: 'HERALD_ERR_INTERNAL', message: 'try again' } }));
      } else res.end(JSON.stringify({ ...events[1], deliveries: [{ endpointId: 'ep_1' }] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  const { received, forwarder } = await forwardingTo(api);
  await forwarder.start();
  listed = true;
  await assert.rejects(forwarder.poll(), /try again|500/);
  assert.equal(received.length, 1, 'evt_1 forwarded before the lookup failed');
  // Herald unreachable for longer than the look-back.
  await new Promise((r) => setTimeout(r, LOOK_BACK_MS + 300));
  assert.equal(await forwarder.poll(), 1, 'evt_2 forwarded once Herald answers again');
  assert.equal(received.length, 2);
  assert.match(received[1]!, /"n":2/);
  assert.equal(await forwarder.poll(), 0, 'and once');
});
