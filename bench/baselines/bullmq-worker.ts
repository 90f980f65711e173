/**
 * The BullMQ baseline's worker (a process of its own, as Herald's dispatcher is): takes jobs from
 * Redis with `concurrency` in flight, builds the same envelope Herald sends, signs it the Standard
 * Webhooks way (HMAC-SHA256 over "id.timestamp.body") and POSTs it with undici. A non-2xx answer
 * fails the job, so BullMQ retries it (attempts and backoff are set by the producer).
 * Args: REDIS_PORT RECEIVER_ORIGIN CONCURRENCY
 */
import { type Job, Worker } from 'bullmq';
import { Pool } from 'undici';
import { envelopeJson, standardSignature } from '../lib/payload.ts';
import { QUEUE, SECRET, type WebhookJob } from './bullmq-job.ts';

// First thing: the benchmark gone (killed, interrupted): no one stops or reads this process any more.
process.on('disconnect', () => process.exit(0));

const redisPort = Number(process.argv[2]);
const origin = process.argv[3]!;
const concurrency = Number(process.argv[4] ?? 64);
const pool = new Pool(origin, { connections: concurrency, keepAliveTimeout: 30_000 });

async function deliver(job: Job<WebhookJob>): Promise<void> {
  const id = `msg_${job.id}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = envelopeJson(job.data.payload, job.data.createdAt);
  const res = await pool.request({
    method: 'POST',
    path: job.data.path,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardSignature(SECRET, id, timestamp, body),
    },
    body,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text}`);
}

const worker = new Worker<WebhookJob>(QUEUE, deliver, {
  connection: { host: '127.0.0.1', port: redisPort },
  concurrency,
});
worker.on('error', (error) => console.error('bullmq worker:', error.message));
await worker.waitUntilReady();
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'stop') return;
  await worker.close();
  await pool.close();
  process.exit(0);
});
process.send?.({ type: 'ready' });
