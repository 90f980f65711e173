/**
 * A full disk and a process out of file descriptors, as the store reports them: real errors (a
 * database at its size limit, `PRAGMA max_page_count`; a database in a missing directory; a child
 * process under `ulimit -n 32`) are classified as failures a call gets past later, the dispatcher
 * logs each kind once per interval without a stack, then one line when a write commits again, and
 * herald_store_failures_total counts them, the dispatcher thread's too.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { storeUnavailable } from '../../src/api/store-failure-answers.ts';
import { storeErrorLog } from '../../src/delivery/store-error-log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { DatabaseFileGoneError } from '../../src/store/sqlite/database-file-watch.ts';
import { GroupCommit } from '../../src/store/sqlite/group-commit.ts';
import {
  isStoreBusy,
  isStoreFull,
  isStoreOutOfFiles,
  isStoreUnreachable,
  storeFailureCounts,
  WRITES_BACK_LINE,
} from '../../src/store/store-unavailable.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-store-resources-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cantOpen(): unknown {
  try {
    new DatabaseSync(join(dir, 'missing-directory', 'x.db'));
  } catch (error) {
    return error;
  }
  assert.fail('opened');
}

/** A real EMFILE, from a child process that opens files until its limit (serialized: code, errno, message). */
function emfile(): { code: string; errno: number; message: string } {
  const out = execFileSync(
    '/bin/sh',
    [
      '-c',
      'ulimit -n 32 && exec "$0" --no-warnings -e "$1"',
      process.execPath,
      `const fs = require('node:fs'); try { for (;;) fs.openSync('/dev/null', 'r'); } catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, message: e.message })); }`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

function lines() {
  const logged: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const push = (level: string) => (fields: object, message: string) =>
    logged.push({ level, fields: { ...fields }, message });
  return { logged, logger: { error: push('error'), warn: push('warn'), info: push('info') } };
}

test('isStoreOutOfFiles: SQLite CANTOPEN and EMFILE/ENFILE; not full, busy, unreachable or a bug', () => {
  const open = cantOpen();
  assert.equal((open as { errcode?: number }).errcode, 14);
  assert.equal(isStoreOutOfFiles(open), true);
  const tooMany = emfile();
  assert.equal(tooMany.code, 'EMFILE');
  assert.equal(isStoreOutOfFiles(tooMany), true);
  assert.equal(isStoreOutOfFiles({ code: 'ENFILE' }), true);
  for (const other of [{ errcode: 13 }, { errcode: 5 }, { code: 'ECONNREFUSED' }, new Error('x'), null])
    assert.equal(isStoreOutOfFiles(other), false, JSON.stringify(other));
  assert.equal(isStoreFull(open), false);
  assert.equal(isStoreBusy(open), false);
  assert.equal(isStoreUnreachable(open), false);
});

test('the API answers out of file descriptors with 503 HERALD_ERR_RESOURCES, throttled; a deleted database file stays FILE_GONE', () => {
  for (const error of [cantOpen(), emfile()]) {
    const answer = storeUnavailable(error, 'POST');
    assert.equal(answer?.code, 'HERALD_ERR_RESOURCES');
    assert.equal(answer?.retryAfterS, 5);
    assert.equal(answer?.log.level, 'error');
    assert.match(answer?.log.throttled ?? '', /out of file descriptors/);
  }
  const gone = new DatabaseFileGoneError('/data/herald.db', 'deleted');
  assert.equal(storeUnavailable(gone, 'POST')?.code, 'HERALD_ERR_DATABASE_FILE_GONE');
  assert.ok(storeUnavailable(cantOpen(), 'POST')?.log.throttled, 'CANTOPEN is throttled');
});

test('a full disk fails the dispatcher once per interval without a stack, then one line when a write commits again', async () => {
  const db = new DatabaseSync(join(dir, 'full.db'));
  try {
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT)');
    const pages = Number(db.prepare('PRAGMA page_count').get()!.page_count);
    db.exec(`PRAGMA max_page_count = ${pages + 5}`); // a disk with room for ~5 pages
    const writes = new GroupCommit(db, () => {});
    const insert = (size: number) => () => db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(size));
    const { logged, logger } = lines();
    let now = 1_000_000;
    const onError = storeErrorLog(logger, 10_000, () => now);
    const before = storeFailureCounts().get('full') ?? 0;
    for (let i = 0; i < 30; i++) {
      const error = await writes.submit(insert(100_000)).then(
        () => assert.fail('written'),
        (e: unknown) => e,
      );
      assert.equal(isStoreFull(error), true, String(error));
      onError(error, i % 2 ? 'claim' : 'recordAttempts');
    }
    assert.equal((storeFailureCounts().get('full') ?? 0) - before, 30);
    assert.deepEqual(
      logged.map((l) => l.level),
      ['error'],
    );
    assert.match(logged[0]!.message, /disk is full/);
    assert.equal(logged[0]!.fields.err, undefined, 'no stack');
    assert.equal((logged[0]!.fields.cause as { code?: string }).code, 'ERR_SQLITE_ERROR');
    now += 10_000;
    onError(await writes.submit(insert(100_000)).catch((e: unknown) => e), 'claim');
    assert.equal(logged.length, 2);
    assert.equal(logged[1]!.fields.failedSinceLastLine, 29);

    // Space freed: the next write commits, and one line says so (with the failures since the last line).
    onError(await writes.submit(insert(100_000)).catch((e: unknown) => e), 'claim');
    db.exec('PRAGMA max_page_count = 1000000');
    await writes.submit(insert(10));
    await writes.submit(insert(10));
    assert.deepEqual(
      logged.slice(2).map((l) => [l.level, l.message, l.fields.failedSinceLastLine]),
      [['info', `dispatcher: ${WRITES_BACK_LINE}`, 1]],
    );
    // That write was small; a larger one finds the disk full again: logged at once, not 10 s later.
    db.exec(`PRAGMA max_page_count = ${Number(db.prepare('PRAGMA page_count').get()!.page_count)}`);
    onError(await writes.submit(insert(100_000)).catch((e: unknown) => e), 'recordAttempts');
    assert.deepEqual(
      logged.slice(3).map((l) => l.level),
      ['error'],
    );
    assert.match(logged[3]!.message, /disk is full/);
  } finally {
    db.close();
  }
});

test('out of file descriptors fails the dispatcher once per interval without a stack; other failures keep theirs', () => {
  const { logged, logger } = lines();
  let now = 5_000_000;
  const onError = storeErrorLog(logger, 10_000, () => now);
  const error = cantOpen();
  for (let i = 0; i < 20; i++) onError(error, 'recordAttempts');
  now += 10_000;
  onError(error, 'claim');
  const bug = new TypeError('not a function');
  onError(bug, 'claim');
  assert.deepEqual(
    logged.map((l) => l.level),
    ['error', 'error', 'error'],
  );
  assert.match(logged[0]!.message, /out of file descriptors/);
  assert.equal(logged[0]!.fields.err, undefined);
  assert.equal(logged[1]!.fields.failedSinceLastLine, 19);
  assert.equal(logged[2]!.fields.err, bug);
});

test("herald_store_failures_total counts by reason, the failures of a worker thread (the dispatcher's) too", async () => {
  const metrics = createMetrics({
    store: { backlog: async () => ({ pending: 0, oldestDueAt: null }) },
    processMetrics: false,
  });
  const sample = async (reason: string) => {
    const text = await metrics.render();
    const match = text.match(new RegExp(`^herald_store_failures_total\\{reason="${reason}"\\} (\\d+)$`, 'm'));
    assert.ok(match, text);
    return Number(match[1]);
  };
  for (const reason of ['full', 'resources', 'busy', 'unreachable', 'file_gone']) await sample(reason);
  const full = await sample('full');
  const resources = await sample('resources');
  storeUnavailable(cantOpen(), 'POST');
  assert.equal(await sample('resources'), resources + 1);

  const moduleUrl = new URL('../../src/store/store-unavailable.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(moduleUrl)}).then((m) => { for (let i = 0; i < 3; i++) m.countStoreFailure('full'); });`,
    { eval: true },
  );
  await new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  const deadline = Date.now() + 5_000;
  while ((await sample('full')) < full + 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(await sample('full'), full + 3);
});
