/**
 * The waiting queue Herald gives its undici Pools (src/delivery/pool-queue.ts): undici's inside it
 * relies on is still there, the queue keeps order, and pools with it queue, answer and fail as
 * before, against a real loopback server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { buildConnector, Pool } from 'undici';
import { createOriginPools } from '../../src/delivery/origin-pools.ts';
import { GrowingQueue, poolQueueSymbol, useGrowingQueue } from '../../src/delivery/pool-queue.ts';

let server: Server;
let origin: string;
const seen: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    seen.push(String(req.url));
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("undici's Pool still keeps its waiting requests where pool-queue.ts swaps them (an upgrade that moves them fails here)", async () => {
  const pool = new Pool(origin);
  try {
    assert.ok(poolQueueSymbol(pool), 'a Pool has an empty FixedQueue under its own `queue` symbol');
    assert.equal(useGrowingQueue(pool), true);
    assert.equal(poolQueueSymbol(pool), null, 'swapped: no FixedQueue left to swap');
  } finally {
    await pool.destroy();
  }
});

test('a queue with more than FixedQueue has (a method or a field a Pool could use) is left in place', () => {
  /** Made like undici 7's FixedQueue; `extra` adds what a later undici might use of it. */
  const poolWith = (extra: 'none' | 'method' | 'field') => {
    class FixedQueue {
      head: unknown = {};
      tail: unknown = this.head;
      isEmpty() {
        return true;
      }
      push(_item: unknown) {}
      shift() {
        return null;
      }
    }
    class WithPeek extends FixedQueue {
      peek() {
        return null;
      }
    }
    Object.defineProperty(WithPeek, 'name', { value: 'FixedQueue' });
    const queue = extra === 'method' ? new WithPeek() : new FixedQueue();
    if (extra === 'field') Object.assign(queue, { length: 0 });
    return { [Symbol('queue')]: queue } as unknown as Pool;
  };
  assert.equal(useGrowingQueue(poolWith('none')), true, 'the same shape as undici 7.x: swapped');
  assert.equal(useGrowingQueue(poolWith('method')), false, 'a method more: kept');
  assert.equal(useGrowingQueue(poolWith('field')), false, 'a field more: kept');
});

test('GrowingQueue: first in, first out; null when empty; keeps order while it compacts', () => {
  const q = new GrowingQueue<number>();
  assert.equal(q.isEmpty(), true);
  assert.equal(q.shift(), null);
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3_000; i++) q.push(next++);
    for (let i = 0; i < 2_000; i++) assert.equal(q.shift(), expected++);
  }
  while (!q.isEmpty()) assert.equal(q.shift(), expected++);
  assert.equal(expected, next);
  assert.equal(q.shift(), null);
});

test('a pool with it queues requests beyond its connections and sends them in order', async () => {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  assert.equal(useGrowingQueue(pool), true);
  seen.length = 0;
  try {
    const paths = Array.from({ length: 200 }, (_, i) => `/r${i}`);
    const bodies = await Promise.all(
      paths.map((path) => pool.request({ path, method: 'POST', body: 'x' }).then((r) => r.body.text())),
    );
    assert.deepEqual(
      bodies,
      paths.map(() => 'ok'),
    );
    assert.deepEqual(seen, paths, 'one connection: the queue decided the order');
  } finally {
    await pool.destroy();
  }
});

test('a pool with it destroyed with requests waiting fails each of them, none left hanging', async () => {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  assert.equal(useGrowingQueue(pool), true);
  const results = Array.from({ length: 20 }, (_, i) =>
    pool.request({ path: `/d${i}`, method: 'POST', body: 'x' }).then(
      (r) => r.body.text().then(() => 'ok'),
      (error: Error) => error.name,
    ),
  );
  await pool.destroy();
  const outcomes = await Promise.all(results);
  assert.equal(outcomes.length, 20);
  assert.ok(
    outcomes.filter((o) => o !== 'ok').length >= 19,
    `all but the one already sent fail: ${outcomes.join(',')}`,
  );
});

test("Herald's origin pools get the growing queue", async () => {
  const pools = createOriginPools({
    connect: buildConnector({}),
    connectionsPerOrigin: 4,
    idleMs: 60_000,
  });
  try {
    const entry = pools.acquire(origin);
    assert.equal(poolQueueSymbol(entry.pool), null, 'no FixedQueue: it was swapped');
    const symbol = Object.getOwnPropertySymbols(entry.pool).find((s) => s.description === 'queue')!;
    assert.ok((entry.pool as unknown as Record<symbol, unknown>)[symbol] instanceof GrowingQueue);
  } finally {
    await pools.close();
  }
});
