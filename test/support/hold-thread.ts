/** Holding this thread, as synchronous work, a long garbage collection or a starved CPU would. */
import { performance } from 'node:perf_hooks';

/** Keeps this thread busy for `ms`: its event loop runs no timer and reads no socket meanwhile. */
export function holdThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * Keeps this thread busy for at least `ms` and until `done()` (something another process does, seen
 * without this thread's event loop: a file it writes), checked every 5 ms. Throws past `limitMs` of
 * wall time, so a condition that never comes fails the test instead of hanging it.
 */
export function holdThreadUntil(done: () => boolean, ms: number, limitMs = 60_000): void {
  const start = performance.now();
  let checked = start;
  for (;;) {
    const now = performance.now();
    if (now - start >= ms && now - checked >= 5) {
      if (done()) return;
      checked = now;
    }
    if (now - start > limitMs) throw new Error(`holdThreadUntil: not done within ${limitMs} ms`);
  }
}
