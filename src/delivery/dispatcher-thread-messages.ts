/**
 * What the main thread and the dispatcher thread (dispatcher-thread.ts) say to each other. Plain
 * data only: everything crosses by structured clone.
 */
import type { DeliveryConfig } from '../config/config-types.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import type { HandedOff } from './handoff.ts';

/** Everything the thread needs to open its own store and sender (`workerData`). */
export interface DispatcherThreadInit {
  databaseUrl: string;
  dataDir: string;
  /** The resolved key that seals endpoint secrets (never logged). */
  encryptionKey: string | null;
  previousEncryptionKeys: readonly string[];
  logLevel: string;
  workerId: string;
  delivery: DeliveryConfig;
  /** The sender's bound on open sockets (fd-limit.ts); absent: none. */
  maxSockets?: number;
  /** handoff.ts: deliveries on their way and attempts in flight, shared with the main thread. */
  handoffCounters: SharedArrayBuffer;
  /** The bytes the thread's attempts in flight hold (byte-budget.ts), for the main thread's /metrics. */
  bytesInFlight: SharedArrayBuffer;
  /** The thread's attempts, records and queues (dispatcher-load-buffer.ts), for /metrics. */
  load: SharedArrayBuffer;
  /** Milliseconds the thread's loop could not run (Sender.heldMs), written at each stats flush, for /metrics. */
  held: SharedArrayBuffer;
}

export type ToDispatcherThread =
  | { type: 'wake' }
  | { type: 'stop'; graceMs: number }
  /** Deliveries an accept leased to this thread's worker (handoff.ts). */
  | { type: 'claimed'; items: HandedOff[] };

export type FromDispatcherThread =
  | { type: 'started' }
  | { type: 'failed'; message: string }
  /** Metrics, batched: [outcome, durationMs] per attempt, [durationMs, claimed] per claim. */
  | { type: 'stats'; attempts: [DeliveryOutcome, number][]; claims: [number, number][] }
  | { type: 'disabled'; projectId: string; endpointId: string; reason: string }
  /** The thread's store found the endpoint secrets sealed with a key it lacks (false), or opened them again. */
  | { type: 'secretKey'; opened: boolean }
  | { type: 'stopped' };
