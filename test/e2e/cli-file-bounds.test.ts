/**
 * Files the CLI is given that go into no request body, `herald event-types import FILE` and
 * `herald listen --forward-ca-file FILE`, are read up to 64 MiB (MAX_STDIN_BYTES) as the files of
 * --data, --settings and --secret-file are (cli-stdin-json.test.ts): they were read whole, however
 * large (a 256 MiB catalog took the CLI to ~600 MB before it was refused as no JSON), and a pipe
 * without end until memory ran out. Real CLI processes; listen's file is checked before it
 * connects to anything, so no Herald runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_STDIN_BYTES } from '../../src/cli/read-text-file.ts';
import { sparseFile, writeToFifo } from '../support/oversized-files.ts';
import { runHerald } from './harness.ts';

/** `listen` to a Herald that is never reached (port 9, discard), forwarding to an https receiver. */
const LISTEN = [
  'listen',
  '--url',
  'http://127.0.0.1:9',
  '--token',
  'unused',
  '--project',
  'p',
  '--forward-to',
  'https://127.0.0.1:9/hook',
];

describe('herald CLI: a catalog to import and a --forward-ca-file are read up to 64 MiB', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-file-bounds-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sized = (name: string, bytes: number) => sparseFile(join(dir, name), bytes);
  const refusal = (flag: string, file: string) =>
    `herald: ${flag}: ${file} holds more than 67108864 bytes (64 MiB), the most herald reads of a file it is given: nothing was done with it\n`;

  test('a file over 64 MiB is refused by its size before it is read, naming the argument or the flag; 64 MiB is read', async () => {
    const over = sized('over.json', MAX_STDIN_BYTES + 1);
    const data = ['--data-dir', join(dir, 'data')];
    const imported = await runHerald(['event-types', 'import', over, ...data], { killAfterMs: 60_000 });
    assert.equal(imported.code, 1, imported.stderr);
    assert.equal(imported.stderr, refusal('import', over));
    const ca = await runHerald([...LISTEN, '--forward-ca-file', over], { killAfterMs: 60_000 });
    assert.equal(ca.code, 1, ca.stderr);
    assert.equal(ca.stderr, refusal('--forward-ca-file', over));

    // At the bound it is read whole and taken to the parser (no JSON: refused as such).
    const at = sized('at.json', MAX_STDIN_BYTES);
    const read = await runHerald(['event-types', 'import', at, ...data], { killAfterMs: 60_000 });
    assert.equal(read.code, 1, read.stderr);
    assert.match(read.stderr, new RegExp(`^herald: ${at} is not valid JSON: `), read.stderr);
  });

  test('a --forward-ca-file without a size (a named pipe) is read up to the bound, then refused the same way', async () => {
    const fifo = join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = runHerald([...LISTEN, '--forward-ca-file', fifo], { killAfterMs: 60_000 });
    // 16 MiB more than the bound: the CLI stops reading at it, so the rest cannot be written.
    const written = writeToFifo(fifo, 'x'.repeat(MAX_STDIN_BYTES + 16 * 1024 * 1024));
    const refused = await run;
    assert.equal(await written, 'EPIPE', 'the CLI read no further than the bound');
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stderr, refusal('--forward-ca-file', fifo));
  });
});
