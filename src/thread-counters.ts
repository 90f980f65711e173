/**
 * Counters of this process kept on its main thread, where /metrics is rendered: the main thread
 * counts its own, and a worker thread (the dispatcher's) posts each count on a broadcast channel as
 * it happens. Process-wide, like the process metrics: two Herald instances in one process (tests)
 * share them.
 */
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

export interface ThreadCounters<K extends string> {
  /** One more of `key`, on whichever thread this runs. */
  count(key: K): void;
  /** The counts of the process so far (read on the main thread), every key, 0 when none. */
  counts(): ReadonlyMap<K, number>;
}

/** Counters for `keys`, gathered over the channel named `name` (one per kind of counter). */
export function threadCounters<K extends string>(name: string, keys: readonly K[]): ThreadCounters<K> {
  const counts = new Map<K, number>(keys.map((k) => [k, 0]));
  let channel: BroadcastChannel | null = null;
  const open = (): BroadcastChannel => {
    if (!channel) {
      channel = new BroadcastChannel(name);
      if (isMainThread) {
        channel.onmessage = (message) => {
          const key = (message as { data?: unknown }).data as K;
          const n = counts.get(key);
          if (n !== undefined) counts.set(key, n + 1);
        };
      }
      channel.unref(); // never keeps a process or thread alive
    }
    return channel;
  };
  if (isMainThread) open();
  return {
    count(key) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!isMainThread) open().postMessage(key);
    },
    counts: () => counts,
  };
}
