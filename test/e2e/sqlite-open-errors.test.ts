/**
 * A SQLite database Herald cannot create or open is one line naming the file and what to check,
 * not a bare "ENOTDIR" or "attempt to write a readonly database". (Tests run as root, which file
 * modes do not stop: a path under a regular file stands in for an unwritable directory.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runHerald } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('serve on a sqlite: path that cannot be created exits 1 naming the file and the settings', async () => {
  writeFileSync(join(dir, 'not-a-dir'), 'x');
  const file = join(dir, 'not-a-dir', 'herald.db');
  const run = await runHerald(['serve'], {
    env: {
      HERALD_ADMIN_TOKEN: 'sqlite-open-errors-token-0123456789',
      HERALD_DATABASE_URL: `sqlite:${file}`,
      HERALD_DATA_DIR: join(dir, 'data'),
      HERALD_PORT: '0',
    },
    killAfterMs: 30_000,
  });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const said = run.stdout + run.stderr;
  assert.match(
    said,
    new RegExp(`cannot use the SQLite database ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  assert.match(said, /HERALD_DATABASE_URL/);
  assert.doesNotMatch(said, /^\s+at /m, 'no stack');
});
