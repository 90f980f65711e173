/**
 * Answers a caller does not read (answers-in-flight.ts): a real server on loopback, clients that
 * ask for 4 MiB pages and never read them.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ANSWER_BYTES_PER_CALLER } from '../../src/api/answers-in-flight.ts';
import { startApi, type TestApi } from './helpers.ts';

describe('answers not read', () => {
  let api: TestApi;
  let port: number;
  const projects: { id: string; key: string }[] = [];

  before(async () => {
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (api.app.server.address() as { port: number }).port;
    const payload = { s: 'x'.repeat(900_000) };
    for (const name of ['slow', 'other']) {
      const p = await api.project(name);
      for (let i = 0; i < 6; i++) {
        assert.equal(
          (await api.call('POST', `/api/v1/projects/${p.id}/events`, { type: 't', payload })).status,
          202,
        );
      }
      projects.push({ id: p.id, key: await api.apiKey(p.id) });
    }
  });
  after(() => api.close());

  const page = (p: { id: string }) => `/api/v1/projects/${p.id}/events?limit=1000`;
  const get = async (path: string, key: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, text: await r.text() };
  };

  test("a caller's unread answers are bounded: past the limit its large answers are 503, others' and its small ones are not", async () => {
    const [slow, other] = projects as [{ id: string; key: string }, { id: string; key: string }];
    const whole = await get(page(slow), slow.key);
    assert.equal(whole.status, 200);
    assert.ok(whole.text.length > 3_500_000, `a page of ${whole.text.length} bytes`);
    // Enough unread pages to hold several times the limit, were they all answered.
    const count = Math.ceil((3 * ANSWER_BYTES_PER_CALLER) / whole.text.length);
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.pause();
      socket.write(`GET ${page(slow)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${slow.key}\r\n\r\n`);
      sockets.push(socket);
    }
    try {
      await sleep(1_500);
      const refused = await get(page(slow), slow.key);
      assert.equal(refused.status, 503, refused.text.slice(0, 200));
      assert.equal(JSON.parse(refused.text).error.code, 'HERALD_ERR_BUSY');
      assert.equal((await get(`/api/v1/projects/${slow.id}`, slow.key)).status, 200, 'a small answer goes');
      assert.equal((await get(page(other), other.key)).status, 200, 'another caller is not held');
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await sleep(300);
    assert.equal((await get(page(slow), slow.key)).status, 200, 'given back once the clients left');
  });

  test('answers pipelined on one connection are given back when the client leaves without reading them', async () => {
    const [, other] = projects as [{ id: string; key: string }, { id: string; key: string }];
    const request = `GET ${page(other)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${other.key}\r\n\r\n`;
    const sockets = [0, 1].map(() => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.pause();
      socket.write(request.repeat(20));
      return socket;
    });
    await sleep(3_000); // answered, and the answers wait unread behind the first one: then the client leaves
    for (const socket of sockets) socket.destroy();
    await sleep(300);
    // Node gives a pipelined answer still waiting its turn no 'close' when its client leaves:
    // counted until then, it was counted for ever, and every later page was 503.
    // Four pages at once hold 22 MB, within the limit: all of them go when nothing else is held.
    for (let round = 0; round < 2; round++) {
      const again = await Promise.all([0, 1, 2, 3].map(() => get(page(other), other.key)));
      assert.deepEqual(
        again.map((r) => r.status),
        [200, 200, 200, 200],
        `round ${round + 1} after the client left: ${again.map((r) => r.text.slice(0, 120)).join(' ')}`,
      );
    }
  });
});
