/**
 * Data directories holding a migrated SQLite database, for tests that need one as a fixture (not
 * tests of `herald migrate`): the first is made by `herald migrate`, each one after is a copy of it
 * (the same files, modes and bytes) rather than another `herald migrate` run (~0.5 s of CPU each).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runHerald } from './harness.ts';

let root: string | null = null;
let template: Promise<string> | null = null;
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

async function migrateTemplate(): Promise<string> {
  root = mkdtempSync(join(tmpdir(), 'herald-migrated-'));
  const dir = join(root, 'data');
  const migrated = await runHerald(['migrate', '--data-dir', dir]);
  if (migrated.code !== 0)
    throw new Error(`herald migrate exited with ${migrated.code}:\n${migrated.stderr}`);
  return dir;
}

/** Makes `dir` (which must not exist) a data directory with a migrated database, as `herald migrate` leaves it. */
export async function migratedDataDir(dir: string): Promise<void> {
  template ??= migrateTemplate();
  cpSync(await template, dir, { recursive: true, errorOnExist: true, force: false });
}
