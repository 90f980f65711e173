/**
 * Loaded into a child with `--import` (NODE_OPTIONS): the process kills itself with SIGKILL just
 * before its Nth change of a name in one directory (link, rename or unlink of a path in
 * HERALD_TEST_KILL_DIR; N is HERALD_TEST_KILL_AT, from 1), a crash at that step boundary of what
 * it runs. Test code only: src/ neither reads these variables nor loads this file.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, resolve } from 'node:path';

const dir = process.env.HERALD_TEST_KILL_DIR;
const at = Number(process.env.HERALD_TEST_KILL_AT);
if (dir && at > 0) {
  let seen = 0;
  const target = resolve(dir);
  const patch = (name: 'linkSync' | 'renameSync' | 'unlinkSync') => {
    const original = fs[name] as (...args: unknown[]) => unknown;
    (fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (args.some((a) => typeof a === 'string' && dirname(resolve(a)) === target) && ++seen === at)
        process.kill(process.pid, 'SIGKILL');
      return original(...args);
    };
  };
  patch('linkSync');
  patch('renameSync');
  patch('unlinkSync');
  // `import { renameSync } from 'node:fs'` in the code it runs sees the patched functions.
  syncBuiltinESMExports();
}
