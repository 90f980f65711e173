/**
 * One clock for every process of the benchmark: epoch milliseconds with sub-millisecond resolution.
 * `performance.timeOrigin` is the wall-clock start of this process, so values from the load
 * generator, the receiver and the baselines' workers (separate processes) can be subtracted.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true; false when `timeoutMs` passed first. */
export async function waitUntil(check: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
