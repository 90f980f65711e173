/**
 * A closed-loop round whose accepted events did not all arrive is reported with how many did not
 * (the round's `undelivered`); before, only a log line said so and the results showed a clean round.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRawSender } from '../../bench/baselines/raw-undici.ts';
import { nowMs } from '../../bench/lib/clock.ts';
import { shortfall } from '../../bench/lib/load.ts';
import { startReceiver } from '../../bench/lib/receiver-client.ts';

test('the shortfall is what never arrived: 0 when all did, the missing count after the wait', async () => {
  const receiver = await startReceiver();
  try {
    const sender = await startRawSender(`${receiver.url}/t/short/hook`, 2);
    assert.ok(await receiver.waitForCount('short', 50, 20_000));
    const { sent, errors } = await sender.stop();
    assert.equal(errors, 0);
    assert.equal(await shortfall(receiver, 'short', sent, 5_000), 0);
    const started = nowMs();
    assert.equal(await shortfall(receiver, 'short', sent + 7, 300), 7, '7 accepted that never came');
    assert.ok(nowMs() - started < 3_000, 'it waits its timeout, not longer');
  } finally {
    await receiver.close();
  }
});
