/**
 * The real dispatcher thread (dispatcher-thread-entry.ts), held by synchronous work for
 * HELD_THREAD_MS each time the main thread wakes it, as a claim reading large payloads through
 * node:sqlite held it in production. Runs as a real worker thread (threaded-dispatcher.ts `entry`).
 */
import { parentPort } from 'node:worker_threads';
import { holdThread } from './hold-thread.ts';

export const HELD_THREAD_MS = 1_200;

// Imported by the test's own thread for HELD_THREAD_MS alone.
if (parentPort) {
  parentPort.on('message', (message: { type: string }) => {
    if (message.type === 'wake') holdThread(HELD_THREAD_MS);
  });
  await import('../../src/delivery/dispatcher-thread-entry.ts');
}
