/**
 * An event whose answer is lost after Herald stored it (the connection reset between Herald's answer
 * and the client): through a loopback proxy in front of a real `herald serve` that forwards each
 * request and, when told to, destroys the client's connection instead of passing the answer on.
 * With its own idempotency keys (the default) the client sends it again and Herald answers with
 * the stored event: one event, one answer. Without them the call fails, and the event is stored
 * all the same.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type HeraldProcess, startHerald } from '../../../test/e2e/harness.ts';
import { HeraldClient, HeraldNetworkError } from '../src/index.ts';

const ADMIN = 'lost-answer-admin-token-0123456789';

/**
 * Forwards to `target`; the next `dropAnswers` requests of `dropMethod` (POST unless set) reach
 * Herald, and their answers are dropped.
 */
async function answerDroppingProxy(target: URL) {
  const state = { dropAnswers: 0, dropMethod: 'POST', forwarded: 0 };
  const server: Server = createServer((req, res) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        state.forwarded++;
        if (req.method === state.dropMethod && state.dropAnswers > 0) {
          state.dropAnswers--;
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('an event whose answer was lost', () => {
  let herald: HeraldProcess;
  let proxy: Awaited<ReturnType<typeof answerDroppingProxy>>;
  let admin: HeraldClient;
  before(async () => {
    herald = await startHerald({ args: ['--role', 'api'], env: { HERALD_ADMIN_TOKEN: ADMIN } });
    proxy = await answerDroppingProxy(new URL(herald.url));
    admin = new HeraldClient({ url: herald.url, token: ADMIN });
  });
  after(async () => {
    await admin?.close();
    await proxy?.close();
    await herald?.dispose();
  });

  const stored = async (project: string) => (await admin.listEvents(project, { limit: 100 })).data.length;

  test('is sent again and stored once: the client gives events without a key one of its own', async () => {
    await admin.createProject({ name: 'lost', uid: 'lost-auto' });
    const client = new HeraldClient({ url: proxy.url, token: ADMIN });
    try {
      proxy.state.dropAnswers = 1;
      const event = await client.sendEvent('lost-auto', { type: 'player.paid', payload: { amount: 5 } });
      assert.equal(proxy.state.dropAnswers, 0, 'the first answer was dropped');
      assert.equal(await stored('lost-auto'), 1, 'one event, not two');
      assert.match(String(event.idempotencyKey), /^auto-[0-9a-f-]{36}$/);
      assert.equal((await admin.getEvent('lost-auto', event.id)).idempotencyKey, event.idempotencyKey);

      // A batch: its first request's answer lost, every event stored once, all answered in order.
      proxy.state.dropAnswers = 1;
      const inputs = [1, 2, 3].map((n) => ({ type: 'player.paid', payload: { n } }));
      const sent = await client.sendEvents('lost-auto', inputs);
      assert.deepEqual(
        sent.map((e) => (e.payload as { n: number }).n),
        [1, 2, 3],
      );
      assert.equal(await stored('lost-auto'), 4);
      // The caller's objects are not written to; a key the caller gives is sent as given.
      assert.equal('idempotencyKey' in inputs[0]!, false);
      const own = await client.sendEvent('lost-auto', { type: 'x', payload: 1, idempotencyKey: 'order-1' });
      assert.equal(own.idempotencyKey, 'order-1');
      // The same input sent by two calls is two events, as without keys.
      await client.sendEvent('lost-auto', { type: 'x', payload: 2 });
      await client.sendEvent('lost-auto', { type: 'x', payload: 2 });
      assert.equal(await stored('lost-auto'), 7);
    } finally {
      await client.close();
    }
  });

  test('a delete whose answer was lost is sent again and done: the 404 of the repeat is not thrown', async () => {
    const project = await admin.createProject({ name: 'lost', uid: 'lost-delete' });
    const endpoint = await admin.createEndpoint(project.id, { url: 'https://example.test/lost' });
    const key = await admin.createApiKey(project.id, 'lost');
    const client = new HeraldClient({ url: proxy.url, token: ADMIN });
    try {
      proxy.state.dropMethod = 'DELETE';
      // Before: HeraldApiError '404 HERALD_ERR_NOT_FOUND: endpoint not found', for a delete done.
      proxy.state.dropAnswers = 1;
      await client.deleteEndpoint(project.id, endpoint.id);
      assert.equal(proxy.state.dropAnswers, 0, 'the first answer was dropped');
      await assert.rejects(admin.getEndpoint(project.id, endpoint.id), /404/);
      proxy.state.dropAnswers = 1;
      await client.deleteApiKey(project.id, key.id);
      assert.deepEqual((await admin.listApiKeys(project.id)).data, []);
      // Without a lost answer a 404 is still the caller's: nothing was there to delete.
      await assert.rejects(client.deleteEndpoint(project.id, endpoint.id), /404 HERALD_ERR_NOT_FOUND/);
    } finally {
      proxy.state.dropMethod = 'POST';
      await client.close();
    }
  });

  test('with autoIdempotencyKeys false, the call fails and the event is stored all the same', async () => {
    await admin.createProject({ name: 'lost', uid: 'lost-given' });
    const client = new HeraldClient({ url: proxy.url, token: ADMIN, autoIdempotencyKeys: false });
    try {
      proxy.state.dropAnswers = 1;
      await assert.rejects(
        client.sendEvent('lost-given', { type: 'player.paid', payload: { amount: 5 } }),
        (e: unknown) => e instanceof HeraldNetworkError && e.code === 'HERALD_CLIENT_NETWORK',
      );
      assert.equal(await stored('lost-given'), 1, 'stored, though the caller was told it failed');
      const [event] = (await admin.listEvents('lost-given')).data;
      assert.equal(event!.idempotencyKey, null);
    } finally {
      await client.close();
    }
  });
});
