/**
 * A SQLite migration whose COMMIT cannot be written (a full disk, an I/O error) is reported by what
 * happened and which migration it was. SQLite rolls such a transaction back itself, and the
 * migration runner's own ROLLBACK then threw "cannot rollback - no transaction is active", which
 * is all `herald migrate` and `herald serve` said (a start on a full file system too, before the
 * line that says the file system is full). Here the process may not write files past 400 KiB
 * (RLIMIT_FSIZE, bash's `ulimit -f`: writes beyond it fail with EFBIG, SQLite's "disk I/O error"),
 * which an empty database's migrations pass part way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { migrationFiles } from '../../src/store/sqlite/migrate.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const root = mkdtempSync(join(tmpdir(), 'herald-migration-write-failure-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** `herald ARGS`, its files limited to `kib` KiB when given. */
function herald(args: string[], kib?: number) {
  const limit = kib === undefined ? '' : `ulimit -f ${kib}; `;
  const run = spawnSync('bash', ['-c', `${limit}exec "$@"`, 'bash', NODE, BIN, ...args], {
    env: { PATH: process.env.PATH ?? '' },
    // Not a socket: bash reads ~/.bashrc when its stdin is one (as if started by rshd).
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stderr: run.stderr };
}

test('a migration whose commit cannot be written names the write error and the migration, and the next run applies it', () => {
  const dataDir = join(root, 'data');
  const failed = herald(['migrate', '--data-dir', dataDir], 400);
  assert.equal(failed.code, 1, failed.stderr);
  assert.doesNotMatch(failed.stderr, /cannot rollback/);
  const named = /herald: disk I\/O error \(migration (\d{4}_\w+\.sql)\)/.exec(failed.stderr);
  assert.ok(named, failed.stderr);
  const migration = named[1]!;

  // Rolled back whole: not recorded, and applied by the next run with room to write.
  const db = new DatabaseSync(join(dataDir, 'herald.db'), { readOnly: true });
  const recorded = (
    db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]
  ).map((r) => r.name);
  db.close();
  assert.ok(!recorded.includes(migration), `${migration} is not recorded: ${recorded.join(', ')}`);
  assert.deepEqual(recorded, migrationFiles().slice(0, recorded.length));

  const again = herald(['migrate', '--data-dir', dataDir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`herald: applying ${migration.replace('.', '\\.')}`));
});
