/**
 * One at a time across test files: for the tests that load the whole machine. `node --test` runs
 * two files at once, and the two smoke runs (test/bench/smoke.test.ts, test/soak/smoke.test.ts)
 * each start a dozen processes; the soak's checks depend on timing (an endpoint with a 1 s
 * timeout), and with the benchmark's smoke starting beside it a stalled delivery thread once made
 * that endpoint fail ten times in a row and disabled it (CI, 2026-12-05). The lock is a directory
 * under the temp dir holding the holder's pid; a holder that died without releasing it (its pid
 * gone) is taken over. The two files sit in folders far apart in the order `node --test` starts
 * files (by path), so in a whole run one does not wait out the other's ~40 s holding a lane.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Runs `fn` once no other process holds the lock `name`; waits at most `waitMs`, then runs anyway. */
export async function withMachineLock<T>(name: string, fn: () => Promise<T>, waitMs = 180_000): Promise<T> {
  const dir = join(tmpdir(), `herald-test-lock-${name}`);
  const held = await acquire(dir, waitMs);
  try {
    return await fn();
  } finally {
    if (held) rmSync(dir, { recursive: true, force: true });
  }
}

async function acquire(dir: string, waitMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + waitMs;
  while (Date.now() < giveUpAt) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!holderAlive(dir)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    await sleep(200);
  }
  return false;
}

/** False when the pid file names a process that no longer exists (one just created has no pid yet). */
function holderAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  } catch {
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
