/**
 * A Dispatcher whose loop runs on a worker thread. The API and the dispatcher then use a core
 * each: accepting events (JSON parsing, the durable commit) no longer competes with delivering
 * them, and the fsync of an accept commit blocks only the API thread. Both threads open their own
 * connection to the same database (SQLite in WAL mode, or a PostgreSQL pool each), exactly as two
 * processes would.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Dispatcher, DispatcherHooks } from './dispatcher.ts';
import { loadReader, newLoadBuffer } from './dispatcher-load-buffer.ts';
import type {
  DispatcherThreadInit,
  FromDispatcherThread,
  ToDispatcherThread,
} from './dispatcher-thread-messages.ts';
import { createHandoff, newHandoffCounters } from './handoff.ts';

export interface ThreadedDispatcherOptions {
  init: Omit<DispatcherThreadInit, 'handoffCounters' | 'bytesInFlight' | 'load' | 'held'>;
  /** The main thread's store can lease on accept: light-load accepts are handed off (handoff.ts). */
  handoff?: boolean;
  hooks?: Omit<DispatcherHooks, 'onError'>;
  /** The thread's store found the secrets sealed with a key it lacks (false), or opened them again (secret-key-readiness.ts). */
  onSecretKey?(opened: boolean): void;
  /** The thread ended without being asked to (a crash): the process should stop. Called once. */
  onThreadExit?(error: Error): void;
  /** The module the thread runs: dispatcher-thread-entry.ts (a test gives one that crashes). */
  entry?: URL;
}

/** Extra time the thread gets beyond the grace period to write its records and close. */
const STOP_MARGIN_MS = 5_000;

export function createThreadedDispatcher(options: ThreadedDispatcherOptions): Dispatcher {
  const hooks = options.hooks ?? {};
  let worker: Worker | null = null;
  /**
   * The thread said `started`: its dispatcher has handed back the claims of a previous run. Not
   * before: a delivery leased to it by an accept meanwhile was handed back too, then claimed again
   * besides the hand-off, and sent twice.
   */
  let started = false;
  let stopping = false;
  let wakeQueued = false;
  let stopped: (() => void) | null = null;
  const send = (message: ToDispatcherThread) => worker?.postMessage(message);
  const handoffCounters = newHandoffCounters();
  /** The bytes the thread's attempts in flight hold, which it keeps up to date (dispatcher-thread.ts). */
  const bytesInFlight = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
  const bytesView = new BigInt64Array(bytesInFlight);
  /** Its attempts, records and queues, which it writes at each stats flush (dispatcher-load-buffer.ts). */
  const load = newLoadBuffer();
  const readLoad = loadReader(load);
  /** The time its loop could not run, which it writes at each stats flush (dispatcher-thread.ts). */
  const held = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
  const heldView = new BigInt64Array(held);
  const handoff = options.handoff
    ? createHandoff({
        counters: handoffCounters,
        workerId: options.init.workerId,
        leaseMs: options.init.delivery.leaseMs,
        open: () => started && !stopping,
        post: (items) => send({ type: 'claimed', items }),
      })
    : null;

  const onMessage = (message: FromDispatcherThread) => {
    switch (message.type) {
      case 'stats':
        for (const [outcome, durationMs] of message.attempts) {
          hooks.onAttempt?.({ outcome, durationMs, projectId: '', endpointId: null });
        }
        for (const [durationMs, claimed] of message.claims) hooks.onClaim?.({ durationMs, claimed });
        break;
      case 'disabled':
        hooks.onEndpointDisabled?.({
          projectId: message.projectId,
          endpointId: message.endpointId,
          reason: message.reason,
        });
        break;
      case 'secretKey':
        options.onSecretKey?.(message.opened);
        break;
      case 'stopped':
        stopped?.();
        break;
      default:
        break;
    }
  };

  return {
    handoff,
    bytesInFlight: () => Number(Atomics.load(bytesView, 0)),
    load: () => (worker ? readLoad() : null),
    // Kept once the thread has stopped: a counter does not go back.
    heldMs: () => Number(Atomics.load(heldView, 0)),
    async threadHeap() {
      if (!worker || stopping) return null;
      const heap = await worker.getHeapStatistics().catch(() => null); // the thread just ended
      return heap && { usedBytes: heap.used_heap_size, totalBytes: heap.total_heap_size };
    },
    async start() {
      if (worker) return;
      const w = new Worker(options.entry ?? new URL('./dispatcher-thread-entry.ts', import.meta.url), {
        workerData: {
          ...options.init,
          handoffCounters,
          bytesInFlight,
          load,
          held,
        } satisfies DispatcherThreadInit,
        // No resourceLimits: V8 applies the process's --max-semi-space-size (the bin's shebang) to
        // this isolate too, and a maxYoungGenerationSizeMb of 8 or 48 changed nothing (--trace-gc:
        // the same scavenge count, with the flag and without it).
      });
      worker = w;
      const first = (await Promise.race([
        once(w, 'message').then(([m]) => m as FromDispatcherThread),
        once(w, 'error').then(([e]) => ({ type: 'failed', message: (e as Error).message }) as const),
        once(w, 'exit').then(() => ({ type: 'failed', message: 'the thread exited' }) as const),
      ])) as FromDispatcherThread;
      if (first.type !== 'started') {
        worker = null;
        await w.terminate();
        throw new Error(
          `dispatcher thread did not start: ${first.type === 'failed' ? first.message : first.type}`,
        );
      }
      started = true;
      w.on('message', onMessage);
      // A crash: an 'error' (an uncaught exception), then the 'exit' that always follows, or an
      // 'exit' alone. Reported once (a second report was a second SIGTERM, which exits at once),
      // and the thread forgotten, so that stop() does not wait for an answer that cannot come.
      const ended = (error: Error) => {
        if (stopping || worker !== w) return;
        worker = null;
        started = false;
        options.onThreadExit?.(error);
      };
      w.on('error', ended);
      w.on('exit', (code) => ended(new Error(`dispatcher thread exited with code ${code}`)));
    },
    wake() {
      // Many accepts in one tick make one message.
      if (!worker || wakeQueued) return;
      wakeQueued = true;
      queueMicrotask(() => {
        wakeQueued = false;
        send({ type: 'wake' });
      });
    },
    async stop({ graceMs = 10_000 } = {}) {
      const w = worker;
      if (!w || stopping) return;
      stopping = true;
      started = false;
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        w.once('exit', () => resolve());
      });
      send({ type: 'stop', graceMs });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, graceMs + STOP_MARGIN_MS)))]);
      clearTimeout(timer);
      await w.terminate();
      worker = null;
    },
  };
}
