/**
 * A dispatcher thread that starts, then crashes (an uncaught exception): what threaded-dispatcher.ts
 * must report once, without waiting for it at stop. Runs as a real worker thread.
 */
import { parentPort } from 'node:worker_threads';

parentPort!.postMessage({ type: 'started' });
setTimeout(() => {
  throw new Error('the dispatcher thread crashed');
}, 50);
