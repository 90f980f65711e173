/**
 * An attempt's record whose write fails because the process cannot write just then (an I/O error,
 * no file descriptor free) is written once it can, not given up: given up, its delivery stayed
 * leased with no attempt recorded and was sent again when its lease ran out. Real failures, in a
 * child process (test/fixtures/records-cannot-write.ts) with a real store, dispatcher, sender and
 * loopback receiver, under a 10 min lease: its files kept from growing (RLIMIT_FSIZE, SQLite's
 * "disk I/O error"), or every descriptor taken under a low `ulimit -n`. Part of the full disk's
 * story: test/delivery/full-disk-writes.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { filePostgres } from '../support/postgres.ts';

const CHILD = join(import.meta.dirname, '../fixtures/records-cannot-write.ts');
const postgres = filePostgres();

interface Outcome {
  /** The attempt was out (held by the receiver) before the process was made unable to write. */
  sent: boolean;
  whileOut: string[];
  after: { status: string; attempts: number; attemptRows: number };
  arrivals: string[];
  /** The dispatcher's log lines (store-error-log.ts). */
  lines: string[];
}

async function run(mode: 'file-size' | 'files', database: string): Promise<Outcome> {
  const { stdout } = await promisify(execFile)(
    '/bin/sh',
    ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, CHILD, mode, database],
    { timeout: 90_000 },
  );
  const out = JSON.parse(stdout) as Outcome;
  assert.ok(out.sent, 'the attempt went out');
  return out;
}

const recordedOnce = { status: 'succeeded', attempts: 1, attemptRows: 1 };

test('SQLite: a record that fails with an I/O error is written once the files may grow again, sent once', async () => {
  const out = await run('file-size', 'sqlite');
  assert.ok(
    out.whileOut.some((e) => /^recordAttempts.*disk I\/O error/.test(e)),
    JSON.stringify(out.whileOut),
  );
  assert.deepEqual(out.after, recordedOnce, JSON.stringify(out.whileOut));
  assert.deepEqual(out.arrivals, ['a']);
  // Said as what it is, once (throttled), not as a bug's stack.
  assert.deepEqual(
    out.lines.filter((l) => l.includes('disk I/O error')),
    [
      "dispatcher: the database's files could not be read or written (disk I/O error: a failing disk, a file-size limit such as ulimit -f, a full file system): nothing is recorded until they can; trying again (logged at most once per 10 s)",
    ],
    JSON.stringify(out.lines),
  );
});

test('SQLite: a record written while no file descriptor is free goes through (nothing to open), sent once', async () => {
  const out = await run('files', 'sqlite');
  assert.deepEqual(out.after, recordedOnce, JSON.stringify(out.whileOut));
  assert.deepEqual(out.arrivals, ['a']);
});

test('PostgreSQL: a record that cannot open a connection (no file descriptor free) is written once descriptors are free, sent once', async () => {
  const out = await run('files', await (await postgres()).createDatabase());
  assert.ok(
    out.whileOut.some((e) => /^recordAttempts.*(EMFILE|ENFILE)/.test(e)),
    JSON.stringify(out),
  );
  assert.deepEqual(out.after, recordedOnce, JSON.stringify(out.whileOut));
  assert.deepEqual(out.arrivals, ['a']);
});
