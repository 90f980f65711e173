/**
 * The dispatcher on a thread of its own (see threaded-dispatcher.ts for why). It opens its own
 * connection to the same database, its own sender, and runs the ordinary dispatcher; the main
 * thread wakes it when events are accepted and receives its metrics in batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { laterWriteLog } from '../later-write-log.ts';
import { createLogger } from '../logger.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import { openStore } from '../store/open-store.ts';
import { explainDatabaseError } from '../store/store-unavailable.ts';
import { blockedAddressLog } from './blocked-address-log.ts';
import { createDispatcher } from './dispatcher.ts';
import { loadWriter } from './dispatcher-load-buffer.ts';
import type {
  DispatcherThreadInit,
  FromDispatcherThread,
  ToDispatcherThread,
} from './dispatcher-thread-messages.ts';
import { STARTED, settleHandedOff, takeHandedOff } from './handoff.ts';
import { onSecretKeyChange } from './secret-key-readiness.ts';
import { createSender } from './sender.ts';
import { senderOptions } from './sender-options.ts';
import { storeErrorLog } from './store-error-log.ts';

/** Metrics are sent to the main thread at most this often (a message per attempt would cost more than the attempt's bookkeeping). */
const STATS_INTERVAL_MS = 100;

/**
 * The dispatcher thread's connection checkpoints the WAL only once it holds this many pages
 * (~40 MB), and so leaves the checkpoints to the API thread's connection (at SQLite's 1,000 pages):
 * a checkpoint copies the WAL into the database and fsyncs it, blocking the committing thread, and
 * the dispatcher thread is the one every delivery waits on. Closed loop on SQLite, 9 interleaved
 * pairs (session 13): +0 to +15 %, every pair in favour; the WAL file stayed at ~40 MB (8-25 MB
 * before). When the API is idle, this connection still checkpoints at this size.
 */
const DISPATCHER_CHECKPOINT_PAGES = 10_000;

const port = parentPort;
if (!port) throw new Error('dispatcher-thread.ts runs as a worker thread');
const post = (message: FromDispatcherThread) => port.postMessage(message);
const init = workerData as DispatcherThreadInit;
const logger = createLogger({ level: init.logLevel });

try {
  const store = await openStore(init.databaseUrl, {
    dataDir: init.dataDir,
    encryptionKey: init.encryptionKey,
    previousEncryptionKeys: init.previousEncryptionKeys,
    sqliteCheckpointPages: DISPATCHER_CHECKPOINT_PAGES,
    // An endpoint this thread disables parks its backlog in later writes.
    laterWrites: laterWriteLog(logger),
    // A message when the key stops (or starts again) opening the secrets: the main thread's /readyz.
    onSealedSecretOpen: onSecretKeyChange((opened) => post({ type: 'secretKey', opened })),
  });
  const sender = createSender({
    ...senderOptions(init.delivery, init.maxSockets),
    onBlocked: blockedAddressLog(logger),
  });
  let attempts: [DeliveryOutcome, number][] = [];
  let claims: [number, number][] = [];
  const writeLoad = loadWriter(init.load);
  const held = new BigInt64Array(init.held);
  const flushStats = () => {
    const load = dispatcher.load?.();
    if (load) writeLoad(load);
    // The sender's count (its deadlines' loop-stalls): no second tick on this thread.
    Atomics.store(held, 0, BigInt(Math.round(sender.heldMs())));
    if (attempts.length === 0 && claims.length === 0) return;
    post({ type: 'stats', attempts, claims });
    attempts = [];
    claims = [];
  };
  const statsTimer = setInterval(flushStats, STATS_INTERVAL_MS);
  const handoffCounters = new Int32Array(init.handoffCounters);
  const bytesInFlight = new BigInt64Array(init.bytesInFlight);
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: init.delivery,
    workerId: init.workerId,
    hooks: {
      onAttempt: (a) => attempts.push([a.outcome, a.durationMs]),
      onClaim: (c) => claims.push([c.durationMs, c.claimed]),
      onEndpointDisabled: (d) => post({ type: 'disabled', ...d }),
      onError: storeErrorLog(logger),
      onLoad: (n) => Atomics.store(handoffCounters, STARTED, n),
      onBytesInFlight: (n) => Atomics.store(bytesInFlight, 0, BigInt(n)),
    },
  });
  port.on('message', (message: ToDispatcherThread) => {
    if (message.type === 'wake') dispatcher.wake();
    else if (message.type === 'claimed') {
      const claimed = takeHandedOff(message.items);
      void Promise.resolve(dispatcher.dispatchClaimed?.(claimed)).finally(() =>
        settleHandedOff(handoffCounters, claimed.length),
      );
    } else if (message.type === 'stop') {
      void (async () => {
        await dispatcher.stop({ graceMs: message.graceMs });
        clearInterval(statsTimer);
        flushStats();
        await sender.close();
        await store.close();
        post({ type: 'stopped' });
        port.close();
      })().catch((error: unknown) => {
        logger.error({ err: error }, 'dispatcher thread: stop failed');
        post({ type: 'stopped' });
        port.close();
      });
    }
  });
  await dispatcher.start();
  post({ type: 'started' });
} catch (error) {
  // Said as the process's own connection says it (main.ts): which database, which setting, the
  // password masked; the thread connects on its own, so PostgreSQL going down in between fails here.
  // The cause goes with it (the message crosses to the main thread alone), as the CLI prints it.
  const explained = explainDatabaseError(error, init.databaseUrl);
  let message = explained instanceof Error ? explained.message : String(explained);
  for (let e = explained instanceof Error ? explained.cause : undefined; e instanceof Error; e = e.cause) {
    if (!message.includes(e.message)) message += `: ${e.message}`;
  }
  post({ type: 'failed', message });
  port.close();
}
