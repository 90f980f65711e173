/**
 * measureRate's warm-up starts with the system's first arrival, also when the receiver already
 * counted arrivals under the same key (the throughput scenario's rounds post to one path each).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRawSender } from '../../bench/baselines/raw-undici.ts';
import { sleep } from '../../bench/lib/clock.ts';
import { measureRate } from '../../bench/lib/load.ts';
import { startReceiver } from '../../bench/lib/receiver-client.ts';

test('a window opens after the first arrival of this phase, not of an earlier one under its key', async () => {
  const receiver = await startReceiver();
  try {
    const url = `${receiver.url}/t/again/hook`;
    // An earlier phase (round) under the same key.
    const earlier = await startRawSender(url, 4);
    assert.ok(await receiver.waitForCount('again', 100, 20_000));
    await earlier.stop();
    // This phase's system starts sending 2 s after the measurement began (a slow start).
    let later: Awaited<ReturnType<typeof startRawSender>> | null = null;
    const starting = sleep(2_000).then(async () => {
      later = await startRawSender(url, 4);
    });
    const rate = await measureRate(receiver, 'again', 0, 300);
    await starting;
    await later!.stop();
    assert.ok(rate.count > 0);
    // The window is its 300 ms (and the time to read the receiver's count), not the 2 s of waiting
    // for the sender to start read as part of it.
    assert.ok(rate.seconds < 1, `window of ${rate.seconds} s`);
  } finally {
    await receiver.close();
  }
});
