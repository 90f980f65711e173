/**
 * `--concurrency` is the in-flight budget of every system towards the receiver; the bench gives it
 * to Herald as HERALD_ENDPOINT_CONCURRENCY. Herald must then hold that many requests at one
 * endpoint, above its default of 64 too: its endpoint's pool had 64 connections whatever the
 * setting, so with 128 it held 64 while the raw sender and the BullMQ worker held 128.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitUntil } from '../../bench/lib/clock.ts';
import { createDatabase, launchHerald } from '../../bench/lib/herald-process.ts';
import { startReceiver } from '../../bench/lib/receiver-client.ts';

test('Herald holds HERALD_ENDPOINT_CONCURRENCY requests at one endpoint, above 64 too', async () => {
  const allowed = 100;
  const receiver = await startReceiver();
  const db = await createDatabase('sqlite');
  const herald = await launchHerald(db, {
    env: { HERALD_ENDPOINT_CONCURRENCY: String(allowed), HERALD_FAILURE_THRESHOLD: '1000000' },
  });
  try {
    const projectId = await herald.api.createProject('pool');
    await herald.api.createEndpoint(projectId, `${receiver.url}/h/pool/`, { timeoutMs: 30_000 });
    await herald.api.sendBatch(projectId, 0, 2 * allowed);
    assert.ok(
      await waitUntil(() => receiver.hanging() >= allowed, 20_000, 20),
      `${receiver.hanging()} requests reached the receiver`,
    );
    // Time for any request beyond the setting to reach the receiver.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(receiver.hanging(), allowed);
  } finally {
    await receiver.close(); // first: Herald's stop would wait for the hanging attempts
    await herald.stop();
    db.dispose();
  }
});
