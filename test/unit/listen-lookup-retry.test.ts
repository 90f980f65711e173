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
import { createForwarder } from '../../src/cli/listen/forwarder.ts';

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
  await forwarder.start();
  listed = true;
  await assert.rejects(forwarder.poll(), /try again|500/);
  assert.equal(await forwarder.poll(), 1, 'forwarded at the next poll');
  assert.equal(lookups, 2);
  assert.equal(received.length, 1);
  assert.match(received[0]!, /player\.joined/);
});
