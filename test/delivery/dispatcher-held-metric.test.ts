/**
 * herald_dispatcher_held_seconds_total: the time the delivering thread's event loop could not run,
 * as the sender's deadlines count it (loop-stalls.ts). A real dispatcher thread (a real worker on a
 * real SQLite file) held by synchronous work makes it rise by about the held time on the main
 * thread's /metrics text, and a free one leaves it near 0; so does the main thread's own sender, for
 * a dispatcher on the main thread (--role worker, PostgreSQL). Bounds are generous: a loaded
 * machine holds threads too, and the tick counts a hold short by up to one 100 ms tick.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import type { Dispatcher } from '../../src/delivery/dispatcher-types.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { createThreadedDispatcher } from '../../src/delivery/threaded-dispatcher.ts';
import { createMetrics } from '../../src/metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import { HELD_THREAD_MS } from '../support/held-dispatcher-thread.ts';
import { holdThread } from '../support/hold-thread.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NAME = 'herald_dispatcher_held_seconds_total';

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

test('a dispatcher thread held by synchronous work: its held seconds rise by about the held time', async (t) => {
  const { dispatcher, render } = await threadedDispatcher(
    t,
    new URL('../support/held-dispatcher-thread.ts', import.meta.url),
  );
  await sleep(300); // a few stats flushes
  const before = await heldOnMetrics(render);
  assert.ok(before < HELD_THREAD_MS / 2, `${before} ms counted before the hold`);
  dispatcher.wake(); // the test's thread entry holds the thread HELD_THREAD_MS
  let after = before;
  for (let i = 0; i < 200 && after - before < HELD_THREAD_MS * 0.8; i++) {
    await sleep(50);
    after = await heldOnMetrics(render);
  }
  const rise = after - before;
  // The hold less the part of it before the tick was due (at most one 100 ms tick), plus whatever
  // else held the thread meanwhile.
  assert.ok(rise >= HELD_THREAD_MS * 0.8, `rose ${rise} ms for a ${HELD_THREAD_MS} ms hold`);
  assert.ok(rise <= HELD_THREAD_MS + 2_000, `rose ${rise} ms for a ${HELD_THREAD_MS} ms hold`);
});

test('a free dispatcher thread: its held seconds stay near 0', async (t) => {
  const { dispatcher, render } = await threadedDispatcher(t);
  const before = await heldOnMetrics(render);
  dispatcher.wake();
  await sleep(HELD_THREAD_MS + 300);
  const rise = (await heldOnMetrics(render)) - before;
  assert.ok(rise < HELD_THREAD_MS / 2, `rose ${rise} ms on a free thread in ${HELD_THREAD_MS + 300} ms`);
});

test("a dispatcher on the main thread: its sender's count, held and free", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-held-metric-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`, { dataDir: dir, encryptionKey: null });
  t.after(() => store.close());
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
  t.after(() => sender.close());
  const metrics = createMetrics({ store, processMetrics: false, dispatcherHeldMs: () => sender.heldMs() });
  const render = () => metrics.render();
  await sleep(HELD_THREAD_MS + 300);
  const free = await heldOnMetrics(render);
  assert.ok(free < HELD_THREAD_MS / 2, `${free} ms counted on a free thread`);
  holdThread(HELD_THREAD_MS);
  await sleep(300);
  const rise = (await heldOnMetrics(render)) - free;
  assert.ok(
    rise >= HELD_THREAD_MS * 0.8 && rise <= HELD_THREAD_MS + 2_000,
    `rose ${rise} ms for a ${HELD_THREAD_MS} ms hold`,
  );
});
