/**
 * The dispatcher thread's load (DispatcherLoad) as the main thread's /metrics reads it: the thread
 * writes it into shared memory at each of its stats flushes (every 100 ms) rather than at every
 * change, which would cost the hot path four atomic stores per attempt for a gauge scraped every
 * few seconds.
 */
import type { DispatcherLoad } from './dispatcher-types.ts';

const FIELDS = ['attemptsInFlight', 'attemptsUnrecorded', 'deliveriesQueued', 'queuedBytes'] as const;

/** A buffer for one DispatcherLoad, all zero. */
export function newLoadBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(FIELDS.length * BigInt64Array.BYTES_PER_ELEMENT);
}

/** The writer's side (the dispatcher thread). */
export function loadWriter(buffer: SharedArrayBuffer): (load: DispatcherLoad) => void {
  const view = new BigInt64Array(buffer);
  return (load) => {
    for (let i = 0; i < FIELDS.length; i++) Atomics.store(view, i, BigInt(load[FIELDS[i]!]));
  };
}

/** The reader's side (the main thread). */
export function loadReader(buffer: SharedArrayBuffer): () => DispatcherLoad {
  const view = new BigInt64Array(buffer);
  const at = (i: number) => Number(Atomics.load(view, i));
  return () => ({
    attemptsInFlight: at(0),
    attemptsUnrecorded: at(1),
    deliveriesQueued: at(2),
    queuedBytes: at(3),
  });
}
