/**
 * A process out of file descriptors cannot open a connection: that is Herald's failure, not the
 * receiver's. A tester's process under `ulimit -n 256` recorded EMFILE as `connect` failures and
 * disabled 14 endpoints. Real EMFILE, in a child process under a low limit.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { attemptRecord } from '../../src/delivery/attempt-outcome.ts';
import type { SendResult } from '../../src/delivery/send-types.ts';

const CHILD = join(import.meta.dirname, '../fixtures/sender-out-of-files.ts');

test('EMFILE on connect is recorded as internal, not the receiver’s failure, and leaves the endpoint alone', async () => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const { stdout } = await promisify(execFile)('/bin/sh', [
      '-c',
      'ulimit -n 64 && exec "$0" "$@"',
      process.execPath,
      CHILD,
      url,
    ]);
    const result = JSON.parse(stdout) as SendResult;
    assert.equal(result.response, null);
    assert.equal(result.error?.kind, 'internal');
    assert.match(result.error?.message ?? '', /EMFILE.*not the receiver's failure/);
    assert.equal(result.local, 'EMFILE');
    assert.equal(requests, 0, 'nothing reached the receiver');

    const record = attemptRecord({
      delivery: {
        id: 'dlv_1',
        projectId: 'prj_1',
        eventId: 'evt_1',
        endpointId: 'ep_1',
        attempts: 0,
      } as never,
      event: { type: 'a' } as never,
      request: { method: 'POST', url, headers: {}, body: '{}' } as never,
      result,
      schedule: [5],
      jitter: 0,
      random: () => 0.5,
      countsForEndpoint: true,
      workerId: 'w',
      now: result.startedAt,
    });
    assert.equal(record.endpointEffect, 'none', 'does not count toward disabling the endpoint');
    assert.equal(record.next.status, 'pending', 'retried');
  } finally {
    server.close();
  }
});
