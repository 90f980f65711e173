/**
 * herald_dispatcher_held_seconds_total: the time the delivering thread's event loop could not run,
 * as the sender's deadlines count it (loop-stalls.ts). A real dispatcher thread (a real worker on a
 * real SQLite file) held by synchronous work makes it rise by at least the held time less one
 * 100 ms tick on the main thread's /metrics text; so does the main thread's own sender, for a
 * dispatcher on the main thread (--role worker, PostgreSQL). The only upper bound is the wall
 * clock: a loaded machine holds a thread too (a starved CPU is a hold, counted like any other: a
 * free dispatcher thread was counted 1,278 ms of 1,500 at a load of 25), so nothing here says a
 * free thread counts little. That a free loop counts nothing is loop-stalls.test.ts's, on a
 * clock it drives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type TestContext, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import type { Dispatcher } from '../../src/delivery/dispatcher-types.ts';
import { MIN_STALL_MS, TICK_MS } from '../../src/delivery/loop-stalls.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { createThreadedDispatcher } from '../../src/delivery/threaded-dispatcher.ts';
import { createMetrics } from '../../src/metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import { HELD_THREAD_MS } from '../support/held-dispatcher-thread.ts';
import { holdThread } from '../support/hold-thread.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NAME = 'herald_dispatcher_held_seconds_total';
/**
 * The most a count can rise in `ms` of wall time: all of it, plus a tick that came due just under
 * MIN_STALL_MS late (counted whole when it turns into a stall), and the rounding to whole
 * milliseconds and back from seconds.
 */
const mostIn = (ms: number) => ms + MIN_STALL_MS + 1;

/** The counter's value in milliseconds, from the exposition text /metrics serves. */
async function heldOnMetrics(render: () => Promise<string>): Promise<number> {
  const text = await render();
  const value = new RegExp(`^${NAME} ([0-9.e+-]+)$`, 'm').exec(text)?.[1];
  assert.ok(value !== undefined, `${NAME} is served:\n${text}`);
  return Number(value) * 1000;
}

async function threadedDispatcher(t: TestContext, entry?: URL) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-held-metric-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'h.db')}`;
  const store = await openStore(databaseUrl, { dataDir: dir, encryptionKey: null });
  t.after(() => store.close());
  const dispatcher: Dispatcher = createThreadedDispatcher({
    init: {
      databaseUrl,
      dataDir: dir,
      encryptionKey: null,
      previousEncryptionKeys: [],
      logLevel: 'silent',
      workerId: 'w-held-metric',
      delivery: { ...DEFAULT_DELIVERY, allowNetworks: ['127.0.0.0/8'] },
    },
    ...(entry ? { entry } : {}),
  });
  const metrics = createMetrics({
    store,
    processMetrics: false,
    dispatcherHeldMs: () => dispatcher.heldMs?.() ?? null,
  });
  await dispatcher.start();
  t.after(() => dispatcher.stop({ graceMs: 1_000 }));
  return { dispatcher, render: () => metrics.render() };
}

test('a dispatcher thread held by synchronous work: its held seconds rise by the hold, less a tick at most', async (t) => {
  const started = performance.now(); // before the thread, its sender and its count
  const { dispatcher, render } = await threadedDispatcher(
    t,
    new URL('../support/held-dispatcher-thread.ts', import.meta.url),
  );
  await sleep(300); // a few stats flushes
  const before = await heldOnMetrics(render);
  assert.ok(before <= mostIn(performance.now() - started), `${before} ms counted before the hold`);
  dispatcher.wake(); // the test's thread entry holds the thread HELD_THREAD_MS
  // Written at the thread's next stats flush once the hold is over, however late that comes.
  const least = HELD_THREAD_MS - TICK_MS;
  let after = before;
  while (after - before < least && performance.now() - started < 60_000) {
    await sleep(50);
    after = await heldOnMetrics(render);
  }
  const ended = performance.now();
  // The tick last ran before the hold began, so its lateness at the next flush is the whole hold
  // less at most one tick; any other hold meanwhile only adds.
  assert.ok(after - before >= least, `rose ${after - before} ms for a ${HELD_THREAD_MS} ms hold`);
  assert.ok(
    after <= mostIn(ended - started),
    `${after} ms counted in the ${ended - started} ms since it started`,
  );
});

test('a free dispatcher thread: its held seconds never run ahead of the wall clock', async (t) => {
  const started = performance.now();
  const { dispatcher, render } = await threadedDispatcher(t);
  dispatcher.wake();
  await sleep(HELD_THREAD_MS + 300);
  const held = await heldOnMetrics(render);
  const ended = performance.now();
  assert.ok(
    held <= mostIn(ended - started),
    `${held} ms counted in the ${ended - started} ms since it started`,
  );
});

test("a dispatcher on the main thread: its sender's count, held and free", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-held-metric-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`, { dataDir: dir, encryptionKey: null });
  t.after(() => store.close());
  const started = performance.now();
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
  t.after(() => sender.close());
  const metrics = createMetrics({ store, processMetrics: false, dispatcherHeldMs: () => sender.heldMs() });
  const render = () => metrics.render();
  await sleep(HELD_THREAD_MS + 300);
  const beforeRead = performance.now();
  const free = await heldOnMetrics(render);
  assert.ok(free <= mostIn(performance.now() - started), `${free} ms counted on a free thread`);
  holdThread(HELD_THREAD_MS);
  await sleep(300);
  const rise = (await heldOnMetrics(render)) - free;
  const afterRead = performance.now();
  // Read at the scrape, the hold going on included: the whole hold less at most one tick.
  assert.ok(rise >= HELD_THREAD_MS - TICK_MS, `rose ${rise} ms for a ${HELD_THREAD_MS} ms hold`);
  assert.ok(rise <= mostIn(afterRead - beforeRead), `rose ${rise} ms in ${afterRead - beforeRead} ms`);
});
