/** Waits until `check` holds, polling every 10 ms; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * `promise`'s value, or `fallback` if it has not settled within `ms`. The timer is cleared as soon
 * as either comes: a timer left pending, as a `Promise.race` with a sleep leaves it, keeps the test
 * file's process alive until it fires, after the file's last test has passed (up to 15 s of a file
 * that had taken 10).
 */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((resolve) => {
        timer = setTimeout(resolve, ms, fallback);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
