/** Holding this thread, as synchronous work, a long garbage collection or a starved CPU would. */
import { performance } from 'node:perf_hooks';

/** Keeps this thread busy for `ms`: its event loop runs no timer and reads no socket meanwhile. */
export function holdThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
