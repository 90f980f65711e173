/**
 * `--concurrency` is the same in-flight budget for every system only up to the connections Herald
 * opens to one endpoint: HERALD_ENDPOINT_CONCURRENCY above it still leaves Herald that many requests
 * at the receiver, while the raw sender and the BullMQ worker open `--concurrency` connections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitUntil } from '../../bench/lib/clock.ts';
import { createDatabase, launchHerald } from '../../bench/lib/herald-process.ts';
import { HERALD_POOL_CONNECTIONS, parseOptions } from '../../bench/lib/options.ts';
import { startReceiver } from '../../bench/lib/receiver-client.ts';

test('--concurrency above the connections Herald opens to one endpoint is refused', () => {
  assert.equal(parseOptions([]).concurrency, HERALD_POOL_CONNECTIONS);
  assert.equal(
    parseOptions([`--concurrency=${HERALD_POOL_CONNECTIONS}`]).concurrency,
    HERALD_POOL_CONNECTIONS,
  );
  assert.equal(parseOptions(['--concurrency=8']).concurrency, 8);
  assert.throws(
    () => parseOptions([`--concurrency=${HERALD_POOL_CONNECTIONS + 1}`]),
    /--concurrency: at most 64, the connections Herald opens to one endpoint/,
  );
});

test('Herald holds HERALD_POOL_CONNECTIONS requests at one endpoint, and no more when allowed more', async () => {
  const receiver = await startReceiver();
  const db = await createDatabase('sqlite');
  const herald = await launchHerald(db, {
    env: {
      HERALD_ENDPOINT_CONCURRENCY: String(2 * HERALD_POOL_CONNECTIONS),
      HERALD_FAILURE_THRESHOLD: '1000000',
    },
  });
  try {
    const projectId = await herald.api.createProject('pool');
    await herald.api.createEndpoint(projectId, `${receiver.url}/h/pool/`, { timeoutMs: 30_000 });
    await herald.api.sendBatch(projectId, 0, 4 * HERALD_POOL_CONNECTIONS);
    assert.ok(await waitUntil(() => receiver.hanging() >= HERALD_POOL_CONNECTIONS, 20_000, 20));
    // Time for any request beyond the pool's connections to reach the receiver.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(receiver.hanging(), HERALD_POOL_CONNECTIONS);
  } finally {
    await receiver.close(); // first: Herald's stop would wait for the hanging attempts
    await herald.stop();
    db.dispose();
  }
});
