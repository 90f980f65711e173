/**
 * `mkdir -p` for the data directory, without Node's recursive mkdir: on some paths that never
 * returns. `mkdirSync('/proc/x', { recursive: true })` loops at full CPU (EEXIST for /proc, ENOENT
 * for /proc/x, and again), so `herald serve --data-dir /proc/x` hung silently instead of failing
 * with a message naming the setting (Node 24.9).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `path` and any missing parents, each with `mode`, from the deepest one that exists down;
 * throws the first failure (ENOENT, EACCES, ENOTDIR…). A directory that exists is left as it is.
 */
export function makeDirectory(path: string, mode: number): void {
  const missing: string[] = [];
  let dir = resolve(path);
  while (!existsSync(dir)) {
    missing.push(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (missing.length === 0 && !statSync(dir).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
  }
  for (const each of missing.reverse()) {
    try {
      mkdirSync(each, { mode });
    } catch (error) {
      // Made meanwhile by another process starting on the same directory: as good.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(each).isDirectory()) throw error;
    }
  }
}
