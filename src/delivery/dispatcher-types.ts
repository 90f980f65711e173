/**
 * What the dispatcher (dispatcher.ts) is given and what it offers: its options, hooks and interface;
 * and the state its parts (claim-loop.ts, dispatch-batch.ts) share.
 */
import type { DeliveryConfig } from '../config/config-types.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import type { ClaimedDelivery, Store } from '../store/store.ts';
import type { Handoff } from './handoff.ts';
import type { SendFn } from './send-types.ts';

export interface DispatcherHooks {
  /**
   * An attempt's record was written: the status the store gave its delivery (`parked` when its
   * endpoint is or got disabled) and how long the attempt took. Not called for a record that could
   * not be written, nor for one whose delivery was gone.
   */
  onAttempt?(event: {
    outcome: DeliveryOutcome;
    durationMs: number;
    projectId: string;
    endpointId: string | null;
  }): void;
  /** The store disabled an endpoint after an attempt (threshold reached, or 410). */
  onEndpointDisabled?(event: { projectId: string; endpointId: string; reason: string }): void;
  /** A claim returned: how long it took and how many deliveries it leased. */
  onClaim?(event: { durationMs: number; claimed: number }): void;
  /** A store call failed; the loop backs off and goes on. */
  onError?(error: unknown, during: string): void;
  /**
   * The attempts started and not yet recorded (in flight, or waiting for their record write)
   * changed: the hand-off's measure of load (handoff.ts).
   */
  onLoad?(load: number): void;
  /** The bytes the attempts in flight hold changed (byte-budget.ts): herald_delivery_bytes_in_flight. */
  onBytesInFlight?(bytes: number): void;
}

export interface DispatcherOptions {
  store: Store;
  send: SendFn;
  config: DeliveryConfig;
  workerId: string;
  clock?: () => number;
  random?: () => number;
  hooks?: DispatcherHooks;
  /**
   * How long a failing endpoint's queued work waits before it is claimable again, and how long a
   * failure keeps the endpoint failing (failing-endpoints.ts): FAILING_ENDPOINT_PAUSE_MS unless
   * given. Not a setting; tests shorten it where they wait through pauses but check no pause's length.
   */
  failingPauseMs?: number;
}

/**
 * What the dispatcher (dispatcher.ts), its claim loop (claim-loop.ts) and its batch pass
 * (dispatch-batch.ts) share, read and written in place.
 */
export interface DispatcherState {
  running: boolean;
  /** The loop waits for a slot (or a record write) to claim more: finished attempts wake it. */
  waitingForSlot: boolean;
  /**
   * When a batch's endpoint secrets last opened. A key mismatch with none opened for a pause's
   * length is this process's key (pause); one among batches that open is one bad stored secret,
   * which must not hold up the others for 10 s each time (the usual 1 s back-off).
   */
  secretsOpenedAt: number;
}

/**
 * What a dispatcher holds now, for the metrics (herald_attempts_in_flight and its neighbours,
 * metrics.ts): read at scrape time, never on the hot path.
 */
export interface DispatcherLoad {
  /** Attempts running: connected or connecting to their receiver, the answer not yet in. */
  attemptsInFlight: number;
  /** Attempts ended whose record the store has not yet written (record-queue.ts). */
  attemptsUnrecorded: number;
  /** Claimed deliveries waiting in its endpoint queues for a slot or for room (endpoint-queues.ts). */
  deliveriesQueued: number;
  /** Bytes of payload those queued deliveries hold (queued-bytes.ts). */
  queuedBytes: number;
}

/** Bytes of a thread's V8 heap: in use, and reserved for it. */
export interface ThreadHeap {
  usedBytes: number;
  totalBytes: number;
}

export interface Dispatcher {
  start(): Promise<void>;
  /** Stops claiming, lets in-flight attempts finish within graceMs, writes their records. */
  stop(options?: { graceMs?: number }): Promise<void>;
  wake(): void;
  /** Bytes of request bodies the attempts in flight hold now (HERALD_DELIVERY_BYTES_IN_FLIGHT). */
  bytesInFlight?(): number;
  /** Bytes of payloads the deliveries waiting in its endpoint queues hold (queued-bytes.ts). */
  queuedBytes?(): number;
  /**
   * Its attempts, records and queues now (with a dispatcher thread, as the thread last wrote them, at
   * its stats flushes: every 100 ms, STATS_INTERVAL_MS in dispatcher-thread.ts, later while the
   * thread is held); null while it is not running on a thread.
   */
  load?(): DispatcherLoad | null;
  /**
   * Milliseconds its own thread's event loop could not run since it started (threaded only: a
   * dispatcher on the main thread shares the main thread's sender, whose Sender.heldMs says it), as
   * the thread last wrote it (at its stats flushes, every 100 ms: a hold shows once it has ended);
   * never decreases.
   */
  heldMs?(): number;
  /**
   * Deliveries leased to this worker elsewhere (an accept's hand-off, handoff.ts): started as if this
   * dispatcher had claimed them. When it is not running, or its record queue is full, they are
   * handed back, due now. Resolves once each is started, queued for its endpoint or handed back.
   */
  dispatchClaimed?(claimed: ClaimedDelivery[]): Promise<void>;
  /** Where an API in this process hands light-load accepts to this dispatcher (threaded only). */
  readonly handoff?: Handoff | null;
  /**
   * The V8 heap of the dispatcher's own thread (threaded only; null while it is not running): the
   * process's default metrics cover the main thread's heap only.
   */
  threadHeap?(): Promise<ThreadHeap | null>;
}
