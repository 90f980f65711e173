/**
 * The files `herald serve` reads at start besides the database, HERALD_TLS_CA_FILE and the data
 * directory's admin-token and encryption-key, are read up to a bound that fits each (4 MiB for a CA
 * bundle, 4 KiB for a key or a token: src/config/read-start-file.ts), from a regular file only.
 * They were read whole: a 256 MiB sparse CA file took the start to ~650 MB and ~10 s before it was
 * refused as "no PEM certificate", and a named pipe no one wrote to held the start forever. Real
 * `herald serve` processes on real files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CA_FILE_BOUND, DATA_DIR_FILE_BOUND } from '../../src/config/read-start-file.ts';
import { sparseFile } from '../support/oversized-files.ts';
import { makeTestCerts } from '../support/test-certs.ts';
import { api, runHerald, startHerald } from './harness.ts';

const TOKEN = 'start-file-bounds-admin-token-0123456789';

describe('herald serve: the CA file, the key and the token file are read up to their bound, from a regular file only', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-start-file-bounds-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A serve that should be refused: killed after 30 s (one that hangs fails on its exit code). */
  const refusedStart = (env: Record<string, string>) =>
    runHerald(['serve', '--port', '0'], { env, killAfterMs: 30_000 });

  test('a CA file past 4 MiB is refused by its size, naming the variable, the file and the bound', async () => {
    const big = sparseFile(join(dir, 'big-ca.pem'), 256 * 1024 * 1024);
    const run = await refusedStart({
      HERALD_DATA_DIR: join(dir, 'data-ca'),
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_TLS_CA_FILE: big,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr,
      `herald: HERALD_TLS_CA_FILE: ${big} holds 268435456 bytes, past 4194304 bytes (4 MiB), the most Herald reads of a CA bundle (the whole system one is ~0.2 MiB): it is not that file\n`,
    );
  });

  test('a named pipe no one writes to, as the CA file or as the key file, is refused at once', async () => {
    const fifo = join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const ca = await refusedStart({
      HERALD_DATA_DIR: join(dir, 'data-fifo'),
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_TLS_CA_FILE: fifo,
    });
    assert.equal(ca.code, 1, `exit ${ca.code}: ${ca.stderr}`);
    assert.equal(
      ca.stderr,
      `herald: HERALD_TLS_CA_FILE: ${fifo} is a named pipe, not a regular file: Herald reads a CA bundle (the whole system one is ~0.2 MiB), at most 4194304 bytes (4 MiB), from a regular file only\n`,
    );
    // The embedded default reads its key file when HERALD_ENCRYPTION_KEY is unset.
    const data = join(dir, 'data-key-fifo');
    mkdirSync(data);
    const keyFifo = join(data, 'encryption-key');
    execFileSync('mkfifo', [keyFifo]);
    const key = await refusedStart({ HERALD_DATA_DIR: data, HERALD_ADMIN_TOKEN: TOKEN });
    assert.equal(key.code, 1, `exit ${key.code}: ${key.stderr}`);
    assert.match(
      key.stderr,
      new RegExp(
        `HERALD_ENCRYPTION_KEY: ${keyFifo} is a named pipe, not a regular file: Herald reads a key or a token \\(at most 1024 characters\\), at most 4096 bytes \\(4 KiB\\), from a regular file only\\n$`,
      ),
    );
  });

  test('an admin-token file past 4 KiB is refused naming HERALD_ADMIN_TOKEN and the bound', async () => {
    const data = join(dir, 'data-token');
    mkdirSync(data);
    const file = sparseFile(join(data, 'admin-token'), 64 * 1024 * 1024);
    const run = await refusedStart({ HERALD_DATA_DIR: data });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr,
      `herald: HERALD_ADMIN_TOKEN: ${file} holds 67108864 bytes, past 4096 bytes (4 KiB), the most Herald reads of a key or a token (at most 1024 characters): it is not that file\n`,
    );
  });

  test('files of exactly their bound are read: a CA bundle of 4 MiB, a token file of 4 KiB', async () => {
    const certs = makeTestCerts();
    const ca = join(dir, 'padded-ca.pem');
    const pem = readFileSync(certs.ca.certFile, 'utf8');
    writeFileSync(ca, pem + '\n'.repeat(CA_FILE_BOUND.maxBytes - Buffer.byteLength(pem)));
    const data = join(dir, 'data-at-bound');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(
      join(data, 'admin-token'),
      `${TOKEN}${' '.repeat(DATA_DIR_FILE_BOUND.maxBytes - TOKEN.length)}`,
      { mode: 0o600 },
    );
    const herald = await startHerald({ dataDir: data, env: { HERALD_TLS_CA_FILE: ca } });
    try {
      const projects = await api(herald.url, TOKEN, 'GET', '/api/v1/projects');
      assert.equal(projects.status, 200, 'the token file of 4 KiB was read, its token trimmed');
    } finally {
      await herald.dispose();
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
