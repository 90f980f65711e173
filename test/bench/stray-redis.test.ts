/**
 * A BullMQ baseline that fails to start stops the redis-server it started (before, the server went
 * on loading the machine under the scenarios that followed, until the run was interrupted), and the
 * run's end stops any redis-server still running (bench/run.ts calls stopAllRedis in its finally).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBullmq } from '../../bench/baselines/bullmq.ts';
import { startRedis, stopAllRedis } from '../../bench/lib/redis.ts';

test('a BullMQ baseline whose worker does not start leaves no redis-server running', async () => {
  try {
    // A worker concurrency of 0 is refused by BullMQ's Worker: the worker exits before it is ready.
    await assert.rejects(startBullmq({ receiverOrigin: 'http://127.0.0.1:9', concurrency: 0 }));
    assert.deepEqual(await stopAllRedis(), []);
  } finally {
    await stopAllRedis();
  }
});

test('stopAllRedis stops the redis-servers not stopped, and names their ports', async () => {
  const stopped = await startRedis();
  await stopped.stop();
  const left = await startRedis();
  assert.deepEqual(await stopAllRedis(), [left.port]);
  assert.deepEqual(await stopAllRedis(), []);
});
