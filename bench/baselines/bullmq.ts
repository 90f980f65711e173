/**
 * The BullMQ + Redis baseline: a redis-server of its own, a producer here (addBulk) and a worker
 * process (bullmq-worker.ts) that signs and posts each job.
 */

import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { forkProgram, nextMessage, stopChild } from '../lib/child.ts';
import { payloadJson } from '../lib/payload.ts';
import { type RedisServer, startRedis } from '../lib/redis.ts';
import { QUEUE, type WebhookJob } from './bullmq-job.ts';

/** Retries like Herald's first steps; completed jobs trimmed as BullMQ's docs advise. */
export const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: false,
} as const;

export interface BullmqSystem {
  readonly redis: RedisServer;
  /** The worker process. */
  readonly pid: number;
  /** Adds `count` jobs for `path` in one addBulk; resolves when Redis has them. */
  submit(path: string, firstSeq: number, count: number, sentAt: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startBullmq(options: {
  receiverOrigin: string;
  concurrency: number;
  durable?: boolean;
}): Promise<BullmqSystem> {
  try {
    createRequire(import.meta.url).resolve('ioredis');
  } catch {
    throw new Error(
      "the BullMQ baseline needs ioredis, BullMQ's Redis client: npm install --save-dev ioredis",
    );
  }
  const redis = await startRedis({ durable: options.durable ?? false });
  const connection = { host: redis.host, port: redis.port };
  const queue = new Queue<WebhookJob>(QUEUE, { connection, defaultJobOptions: JOB_OPTIONS });
  let worker: ChildProcess | null = null;
  try {
    await queue.waitUntilReady();
    worker = forkProgram(join(import.meta.dirname, 'bullmq-worker.ts'), [
      String(redis.port),
      options.receiverOrigin,
      String(options.concurrency),
    ]);
    await nextMessage(worker, 'ready');
  } catch (error) {
    // Not started: stop what was, or redis-server (and a worker stuck connecting) would go on
    // loading the machine under the scenarios that follow.
    if (worker) await stopChild(worker, 5_000).catch(() => {});
    await queue.close().catch(() => {});
    await redis.stop();
    throw error;
  }
  const started = worker;
  return {
    redis,
    pid: started.pid ?? -1,
    async submit(path, firstSeq, count, sentAt) {
      const createdAt = new Date(sentAt).toISOString();
      const jobs = [];
      for (let i = 0; i < count; i++) {
        jobs.push({ name: 'webhook', data: { path, payload: payloadJson(firstSeq + i, sentAt), createdAt } });
      }
      await queue.addBulk(jobs);
    },
    async stop() {
      try {
        await stopChild(started, 5_000);
        await queue.close();
      } finally {
        await redis.stop();
      }
    },
  };
}
