/**
 * Answers a caller does not read (answers-in-flight.ts): a real server on loopback, clients that
 * ask for 4 MiB pages and never read them.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ANSWER_BYTES_PER_CALLER, answerBytesInFlight } from '../../src/api/answers-in-flight.ts';
import type { Config } from '../../src/config/config-types.ts';
import { startApi, type TestApi } from './helpers.ts';

type Caller = { id: string; key: string };

/** A listening API whose `names` projects each hold a ~4 MiB page of events, with a key each. */
async function pagesServer(names: string[], over: Partial<Config> = {}) {
  const api: TestApi = await startApi(over);
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (api.app.server.address() as { port: number }).port;
  const payload = { s: 'x'.repeat(900_000) };
  const projects: Caller[] = [];
  for (const name of names) {
    const p = await api.project(name);
    for (let i = 0; i < 6; i++) {
      assert.equal(
        (await api.call('POST', `/api/v1/projects/${p.id}/events`, { type: 't', payload })).status,
        202,
      );
    }
    projects.push({ id: p.id, key: await api.apiKey(p.id) });
  }
  const get = async (path: string, key: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, text: await r.text() };
  };
  /** `count` connections asking for `caller`'s page, none of them read. */
  const unread = (caller: Caller, count: number): Socket[] =>
    Array.from({ length: count }, () => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.pause();
      socket.write(`GET ${page(caller)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${caller.key}\r\n\r\n`);
      return socket;
    });
  return { api, port, projects, get, unread };
}

const page = (p: { id: string }) => `/api/v1/projects/${p.id}/events?limit=1000`;

describe('answers not read', () => {
  let api: TestApi;
  let port: number;
  let projects: Caller[];
  let get: Awaited<ReturnType<typeof pagesServer>>['get'];
  let unread: Awaited<ReturnType<typeof pagesServer>>['unread'];

  before(async () => {
    ({ api, port, projects, get, unread } = await pagesServer(['slow', 'other']));
  });
  after(() => api.close());

  test("a caller's unread answers are bounded: past the limit its large answers are 503, others' and its small ones are not", async () => {
    const [slow, other] = projects as [{ id: string; key: string }, { id: string; key: string }];
    const whole = await get(page(slow), slow.key);
    assert.equal(whole.status, 200);
    assert.ok(whole.text.length > 3_500_000, `a page of ${whole.text.length} bytes`);
    // Enough unread pages to hold several times the limit, were they all answered.
    const sockets = unread(slow, Math.ceil((3 * ANSWER_BYTES_PER_CALLER) / whole.text.length));
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

describe('answers not read, all callers together', () => {
  // A 128 MiB heap: all callers may hold 32 MiB of unread answers together, one caller's share.
  let server: Awaited<ReturnType<typeof pagesServer>>;
  before(async () => {
    server = await pagesServer(['a', 'b', 'c'], { heapLimitBytes: 128 * 1024 * 1024 });
  });
  after(() => server.api.close());

  test("past the process-wide bound every caller's large answers are 503, small ones go; given back as clients leave", async () => {
    assert.equal(answerBytesInFlight(128 * 1024 * 1024), ANSWER_BYTES_PER_CALLER);
    const { get, unread } = server;
    const [a, b, c] = server.projects as [Caller, Caller, Caller];
    // Four unread pages each (~16 MiB): within each caller's 32 MiB, over the 32 MiB of all together.
    const sockets = [...unread(a, 4), ...unread(b, 4)];
    try {
      await sleep(1_500);
      const refused = await get(page(c), c.key);
      assert.equal(refused.status, 503, refused.text.slice(0, 200));
      assert.match(JSON.parse(refused.text).error.message, /^the server holds \d+ bytes of answers/);
      assert.equal((await get(`/api/v1/projects/${c.id}`, c.key)).status, 200, 'a small answer goes');
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await sleep(300);
    assert.equal((await get(page(c), c.key)).status, 200, 'given back once the clients left');
  });
});
