/**
 * After an open-loop run the latency and retention scenarios wait for its events to arrive. A
 * submission that failed was never accepted, so its events never come: waiting for every event
 * sent held the run for the whole timeout (120 s in the scenarios) before it went on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool } from 'undici';
import { nowMs } from '../../bench/lib/clock.ts';
import { runOpenLoop, waitForAccepted } from '../../bench/lib/load.ts';
import { envelopeJson, payloadJson } from '../../bench/lib/payload.ts';
import { startReceiver } from '../../bench/lib/receiver-client.ts';

test('a failed submission does not hold the wait for the accepted events', async () => {
  const receiver = await startReceiver();
  const pool = new Pool(receiver.url, { connections: 4 });
  try {
    let submissions = 0;
    const run = await runOpenLoop({
      ratePerSec: 400,
      durationMs: 500,
      // A system that delivers at once what it accepts, and refuses its second submission.
      submit: async (first, count, sentAt) => {
        if (++submissions === 2) throw new Error('refused');
        for (let i = 0; i < count; i++) {
          const res = await pool.request({
            method: 'POST',
            path: '/l/wait/hook',
            body: envelopeJson(payloadJson(first + i, sentAt), new Date().toISOString()),
          });
          await res.body.text();
        }
      },
    });
    assert.equal(run.errors, 1);
    const started = nowMs();
    assert.equal(await waitForAccepted(receiver, 'wait', run, 10_000), true);
    const waited = nowMs() - started;
    assert.ok(waited < 3_000, `waited ${Math.round(waited)} ms for events that were all there`);
    assert.ok(receiver.count('wait') < run.sent, 'the refused events never came');
  } finally {
    await pool.close();
    await receiver.close();
  }
});
