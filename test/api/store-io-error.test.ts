/**
 * SQLite's "disk I/O error" on an API write, for real: this process's files may not grow
 * (RLIMIT_FSIZE 0, set with prlimit; Node ignores SIGXFSZ, so the WAL's write fails with EFBIG and
 * SQLite says SQLITE_IOERR). The request is answered 503 HERALD_ERR_DATABASE_UNAVAILABLE with
 * Retry-After (until 2026-12-07: a 500), the log has one error line without a stack, the failure is
 * counted as io_error, and once files may grow again the same request is accepted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { startLoggedHttpApi } from '../support/logged-http-api.ts';

const fileSize = (limit: string) =>
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${limit}:unlimited`]);

test('a disk I/O error on a write: 503 with Retry-After, one error line, counted as io_error; accepted once files may grow', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-store-io-error-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  t.after(() => store.close());
  const { lines, call, storeFailures, close } = await startLoggedHttpApi(store);
  t.after(close);
  const created = await call('POST', '/api/v1/projects', { name: 'io' });
  assert.equal(created.status, 201);
  const project = ((await created.json()) as { id: string }).id;
  // Each event larger than anything written so far: the WAL must grow to take it.
  const event = (n: number) => ({ type: 'order.created', payload: { n, filler: 'x'.repeat(400_000) } });

  fileSize('0');
  let refused: Response | null = null;
  try {
    // The first writes may fit in the WAL's room from before; one that must grow it fails.
    for (let n = 0; n < 20 && refused === null; n++) {
      const res = await call('POST', `/api/v1/projects/${project}/events`, event(n));
      if (res.status !== 202) refused = res;
      else await res.arrayBuffer();
    }
  } finally {
    fileSize('unlimited');
  }
  assert.ok(refused, 'no write failed while files could not grow');
  const body = (await refused.json()) as { error: { code: string; message: string } };
  assert.equal(refused.status, 503, JSON.stringify(body));
  assert.equal(body.error.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
  assert.match(body.error.message, /disk I\/O error/);
  // EFBIG fails the WAL's write at COMMIT (SQLITE_IOERR_WRITE), before its commit frame is whole:
  // nothing stored, recovery or not (a failed fsync is another answer: store-fsync-error.test.ts).
  assert.equal((body.error as { details?: unknown }).details, undefined);
  assert.equal(refused.headers.get('retry-after'), '30');
  const said = lines.filter((l) => /could not be read or written/.test(String(l.msg)));
  assert.equal(said.length, 1, JSON.stringify(lines));
  assert.equal(said[0]!.level, 50);
  assert.equal(said[0]!.err, undefined, 'no stack');

  const again = await call('POST', `/api/v1/projects/${project}/events`, event(99));
  assert.equal(again.status, 202, await again.text());
  assert.ok((await storeFailures('io_error')) >= 1);
});
