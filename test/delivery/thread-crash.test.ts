/**
 * A dispatcher thread that crashes (a real worker thread running test/support/crashing-dispatcher-
 * thread.ts): the process is told once (a second report was a second SIGTERM, which exits at once
 * without the graceful stop), and stopping afterwards does not wait for a thread that is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createThreadedDispatcher } from '../../src/delivery/threaded-dispatcher.ts';

test('a crashed dispatcher thread is reported once, and a stop after it returns at once', async () => {
  const reports: Error[] = [];
  let reported: () => void;
  const first = new Promise<void>((resolve) => (reported = resolve));
  const threaded = createThreadedDispatcher({
    init: {
      databaseUrl: 'sqlite::memory:',
      dataDir: '/nonexistent',
      encryptionKey: null,
      previousEncryptionKeys: [],
      logLevel: 'silent',
      workerId: 'w-crash-test',
      delivery: DEFAULT_DELIVERY,
    },
    entry: new URL('../support/crashing-dispatcher-thread.ts', import.meta.url),
    onThreadExit: (error) => {
      reports.push(error);
      reported();
    },
  });
  await threaded.start();
  await first;
  // The 'exit' that follows the 'error' comes within a few ms: give it time to be (not) reported.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(reports.length, 1, reports.map((e) => e.message).join('; '));
  assert.match(reports[0]!.message, /the dispatcher thread crashed/);
  const started = performance.now();
  await threaded.stop({ graceMs: 10_000 });
  const took = performance.now() - started;
  assert.ok(took < 1_000, `stop waited ${Math.round(took)} ms for a thread that is gone`);
});
