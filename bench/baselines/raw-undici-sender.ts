/**
 * The raw ceiling's sender (a process of its own): `concurrency` requests always outstanding on
 * one undici Pool, each POSTing a fresh ~1 KiB envelope to the receiver. No queue, no persistence,
 * no signing: the most this machine and this receiver can do. Stops on the IPC message `stop`.
 * Args: TARGET_URL CONCURRENCY
 */
import { Pool } from 'undici';
import { nowMs } from '../lib/clock.ts';
import { envelopeJson, payloadJson } from '../lib/payload.ts';

// First thing: the benchmark gone (killed, interrupted): no one stops or reads this process any more.
process.on('disconnect', () => process.exit(0));

const target = new URL(process.argv[2]!);
const concurrency = Number(process.argv[3] ?? 64);
const pool = new Pool(target.origin, { connections: concurrency, keepAliveTimeout: 30_000 });
let running = true;
let seq = 0;
let errors = 0;

async function loop() {
  while (running) {
    const body = envelopeJson(payloadJson(seq++, nowMs()), new Date().toISOString());
    try {
      const res = await pool.request({
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.text();
    } catch {
      errors++;
    }
  }
}

const loops = Array.from({ length: concurrency }, loop);
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'stop') return;
  running = false;
  await Promise.all(loops);
  await pool.close();
  process.send?.({ type: 'stopped', sent: seq, errors }, () => process.exit(0));
});
process.send?.({ type: 'ready' });
