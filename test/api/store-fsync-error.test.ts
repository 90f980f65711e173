/**
 * A SQLite COMMIT whose fsync fails (SQLITE_IOERR_FSYNC), for real: the API runs in a child process
 * with a preloaded library whose fsync and fdatasync fail with EIO while a flag file exists (built
 * here with the system's C compiler). The accept's WAL frames, its commit frame included, are
 * written before that sync; the connection rolls the transaction back, but WAL recovery at the next
 * open reads every frame whose checksums hold, so after a crash before any other write the event is
 * there. The answer must not say "nothing was stored": 503 HERALD_ERR_DATABASE_UNAVAILABLE with
 * `details.stored` "unknown", as a PostgreSQL commit whose answer was lost; and the retry with the
 * same key is answered with the stored event, not stored twice. (A write that fails, EFBIG under a
 * file-size limit, is SQLITE_IOERR_WRITE at the same COMMIT and stores nothing: store-io-error.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';

const SHIM = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
static int failing(void) { const char *f = getenv("FAIL_FSYNC_FLAG"); return f && access(f, F_OK) == 0; }
int fdatasync(int fd) { if (failing()) { errno = EIO; return -1; } return ((int (*)(int))dlsym(RTLD_NEXT, "fdatasync"))(fd); }
int fsync(int fd) { if (failing()) { errno = EIO; return -1; } return ((int (*)(int))dlsym(RTLD_NEXT, "fsync"))(fd); }
`;

test('a COMMIT whose fsync fails: 503 with details.stored "unknown"; after a crash the event is there, and its key answers with it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-store-fsync-error-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'fail-fsync.c'), SHIM);
  execFileSync('cc', [
    '-shared',
    '-fPIC',
    '-o',
    join(dir, 'fail-fsync.so'),
    join(dir, 'fail-fsync.c'),
    '-ldl',
  ]);
  const data = join(dir, 'data');
  const flag = join(dir, 'failing');
  execFileSync('mkdir', [data]);
  const child = spawn(
    process.execPath,
    [new URL('../fixtures/fsync-failing-accept.ts', import.meta.url).pathname, data, flag],
    {
      env: { ...process.env, LD_PRELOAD: join(dir, 'fail-fsync.so'), FAIL_FSYNC_FLAG: flag },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.setEncoding('utf8');
  while (!out.includes('\n')) {
    const [chunk] = (await Promise.race([
      once(child.stdout!, 'data'),
      once(child, 'exit').then(() => assert.fail(`the child exited: ${out}`)),
    ])) as [string];
    out += chunk;
  }
  const said = JSON.parse(out) as {
    project: string;
    status: number;
    retryAfter: string | null;
    body: { error: { code: string; message: string; details?: { stored?: string } } };
    errorLines: string[];
    ioErrors: number;
  };
  assert.equal(said.status, 503, JSON.stringify(said));
  assert.equal(said.body.error.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
  assert.equal(said.body.error.details?.stored, 'unknown', JSON.stringify(said.body));
  assert.match(said.body.error.message, /may have been stored/);
  assert.equal(said.retryAfter, '30');
  assert.equal(said.errorLines.filter((l) => /could not be read or written/.test(l)).length, 1);
  assert.equal(said.ioErrors, 1);

  // A crash now, before anything else is written to the WAL.
  child.kill('SIGKILL');
  await once(child, 'exit');
  const store = await openStore(`sqlite:${join(data, 'herald.db')}`, { dataDir: data, encryptionKey: null });
  t.after(() => store.close());
  const events = (await store.listEvents(said.project, { limit: 10 })).data;
  assert.deepEqual(
    events.map((e) => e.idempotencyKey),
    ['fsync-1'],
    'the event answered 503 was stored after all',
  );
  const again = await store.acceptEvents(
    said.project,
    [{ type: 'order.created', idempotencyKey: 'fsync-1', payload: { n: 1 }, test: false, callbackUrl: null }],
    Date.now(),
  );
  assert.equal(again[0]?.duplicate, true, 'the same key answers with the stored event');
  assert.equal((await store.listEvents(said.project, { limit: 10 })).data.length, 1);
});
