/** The soak's side of its receiver (soak-receiver.ts runs in a process of its own). */
import { join } from 'node:path';
import { forkProgram, nextMessage, stopChild } from './child.ts';
import type { SoakReceiverReply, SoakReceiverRequest } from './soak-receiver-protocol.ts';

export interface SoakReceiver {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** Requests so far by `<key>:<outcome>` (ok, 500, late, late-answered, unknown). */
  counts(): Promise<Record<string, number>>;
  /** Every distinct webhook-id answered 200 under `key` (late answers included). */
  ids(key: string): Promise<Set<string>>;
  /** Another port with the same behaviour: an origin (connection pool) of its own. */
  extraOrigin(): Promise<string>;
  close(): Promise<void>;
}

type Ask = SoakReceiverRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export async function startSoakReceiver(): Promise<SoakReceiver> {
  const child = forkProgram(join(import.meta.dirname, 'soak-receiver.ts'));
  const { port } = await nextMessage<Extract<SoakReceiverReply, { type: 'ready' }>>(child, 'ready');
  let nextId = 1;
  const pending = new Map<number, (reply: SoakReceiverReply) => void>();
  child.on('message', (reply: SoakReceiverReply) => {
    if ('id' in reply) {
      pending.get(reply.id)?.(reply);
      pending.delete(reply.id);
    }
  });
  const ask = <T extends SoakReceiverReply>(request: Ask): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (reply: SoakReceiverReply) => void);
      child.send({ ...request, id });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    counts: async () =>
      (await ask<Extract<SoakReceiverReply, { type: 'counts' }>>({ type: 'counts' })).counts,
    ids: async (key) =>
      new Set((await ask<Extract<SoakReceiverReply, { type: 'ids' }>>({ type: 'ids', key })).ids),
    extraOrigin: async () =>
      `http://127.0.0.1:${(await ask<Extract<SoakReceiverReply, { type: 'listening' }>>({ type: 'listen' })).port}`,
    close: () => stopChild(child),
  };
}
