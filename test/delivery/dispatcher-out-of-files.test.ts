/**
 * A dispatcher whose process is out of file descriptors cannot open a connection: nothing reaches
 * the receiver, so no attempt is recorded and none of the delivery's retries is used up; it is
 * handed back, due again in a second, and delivered once descriptors are free again. Real EMFILE,
 * in a child process under a low `ulimit -n`, with a real SQLite store and sender.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const CHILD = join(import.meta.dirname, '../fixtures/dispatcher-out-of-files.ts');

test('out of file descriptors: handed back without an attempt, delivered once descriptors are free', async () => {
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(String(req.headers['webhook-id']));
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const { stdout } = await promisify(execFile)(
      '/bin/sh',
      ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, CHILD, url],
      { timeout: 60_000 },
    );
    const out = JSON.parse(stdout) as {
      during: { status: string; attempts: number; attemptRows: number };
      after: { status: string; attempts: number };
      errors: string[];
    };
    assert.deepEqual(out.during, { status: 'pending', attempts: 0, attemptRows: 0 }, 'no attempt while out');
    assert.ok(out.errors.includes('send: EMFILE'), JSON.stringify(out.errors));
    assert.deepEqual(out.after, { status: 'succeeded', attempts: 1 }, 'delivered once, its first attempt');
    assert.equal(received.length, 1);
  } finally {
    server.close();
  }
});
