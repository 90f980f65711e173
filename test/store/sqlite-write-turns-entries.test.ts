/**
 * Each SQLite file a store opens puts its write turns (write-turns.ts: a SharedArrayBuffer) in the
 * thread's worker_threads environment data, for the threads started after it. They were never taken
 * out: a process that opens many files over its life (tests, copy-to-postgres, VACUUM INTO copies)
 * kept one for every file it had ever opened. Now the last store of the thread on a file takes it
 * out when it closes. Counted on real files, opened and closed through openStore.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { getEnvironmentData } from 'node:worker_threads';
import { openStore } from '../../src/store/open-store.ts';
import { writeTurnsKey } from '../../src/store/sqlite/write-turns.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-write-turns-entries-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The files of `files` with an entry in this thread's environment data. */
const withEntries = (files: string[]) =>
  files.filter((f) => getEnvironmentData(writeTurnsKey(f)) !== undefined);

test('closing the stores of N files leaves none of their entries in the environment data', async () => {
  const files = Array.from({ length: 20 }, (_, i) => join(dir, `many-${i}.db`));
  const stores = [];
  for (const file of files) stores.push(await openStore(`sqlite:${file}`));
  assert.equal(withEntries(files).length, files.length, 'an entry for each open file');
  for (const store of stores) await store.close();
  assert.deepEqual(withEntries(files), []);
});

test("a file's entry stays while a store of the thread is open on it, the same one, and goes with the last", async () => {
  const file = join(dir, 'shared.db');
  const first = await openStore(`sqlite:${file}`);
  const buffer = getEnvironmentData(writeTurnsKey(file));
  assert.ok(buffer instanceof SharedArrayBuffer);
  const second = await openStore(`sqlite:${file}`);
  await first.close();
  await first.close(); // a second close releases nothing more
  assert.equal(getEnvironmentData(writeTurnsKey(file)), buffer, 'the second store still shares it');
  const third = await openStore(`sqlite:${file}`);
  assert.equal(getEnvironmentData(writeTurnsKey(file)), buffer, 'a store opened meanwhile shares it');
  await second.close();
  assert.equal(getEnvironmentData(writeTurnsKey(file)), buffer, 'the third store still shares it');
  await third.close();
  assert.deepEqual(withEntries([file]), []);
});
