/** The benchmark's side of the counting receiver (receiver.ts runs in a process of its own). */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { forkProgram, nextMessage, stopChild } from './child.ts';
import { sleep } from './clock.ts';
import type { ReceiverMessage } from './receiver-protocol.ts';

export interface Sample {
  count: number;
  /** The receiver's clock when it counted (epoch ms). */
  at: number;
}

export interface Receiver {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** Latest pushed count for `key` (at most ~10 ms old). */
  count(key: string): number;
  /** Requests still held open by /h/ paths. */
  hanging(): number;
  /** An exact count for `key`, with the receiver's time. */
  sample(key: string): Promise<Sample>;
  /** (seq, arrival) pairs recorded for `/l/<key>` since the last call. */
  arrivals(key: string): Promise<{ seq: number[]; at: number[] }>;
  /** Waits until `key` has `n` arrivals; false on timeout. */
  waitForCount(key: string, n: number, timeoutMs: number): Promise<boolean>;
  /** Opens `n` more ports with the same handler: distinct origins (one connection pool each). */
  extraOrigins(n: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = forkProgram(join(import.meta.dirname, 'receiver.ts'));
  const { port } = await nextMessage<Extract<ReceiverMessage, { type: 'ready' }>>(child, 'ready');
  let counts: Record<string, number> = {};
  let hanging = 0;
  let nextId = 1;
  const pending = new Map<number, (message: ReceiverMessage) => void>();
  child.on('message', (message: ReceiverMessage) => {
    if (message.type === 'counts') {
      counts = message.counts;
      hanging = message.hanging;
    } else if ('id' in message) {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  const ask = <T extends ReceiverMessage>(message: Record<string, unknown>): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (m: ReceiverMessage) => void);
      child.send({ ...message, id });
    });

  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    count: (key) => counts[key] ?? 0,
    hanging: () => hanging,
    async sample(key) {
      const m = await ask<Extract<ReceiverMessage, { type: 'sample' }>>({ type: 'sample', key });
      return { count: m.count, at: m.at };
    },
    async arrivals(key) {
      const m = await ask<Extract<ReceiverMessage, { type: 'arrivals' }>>({ type: 'arrivals', key });
      return { seq: m.seq, at: m.at };
    },
    async waitForCount(key, n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.count(key) < n) {
        if (Date.now() > deadline) return (await receiver.sample(key)).count >= n;
        await sleep(10);
      }
      return true;
    },
    async extraOrigins(n) {
      const m = await ask<Extract<ReceiverMessage, { type: 'listening' }>>({ type: 'listen', count: n });
      return m.ports.map((p) => `http://127.0.0.1:${p}`);
    },
    close: () => stopChild(child),
  };
  return receiver;
}
