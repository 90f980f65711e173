import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { backlogRefusals } from './api/backlog-gate.ts';
import type { DispatcherLoad, ThreadHeap } from './delivery/dispatcher-types.ts';
import { proxyFailureCount } from './delivery/proxy-connector.ts';
import type { Backlog, Store } from './store/store.ts';
import { STORE_FAILURE_REASONS, storeFailureCounts } from './store/store-unavailable.ts';

/**
 * The state an attempt's record left its delivery in, as the store wrote it (after the record):
 * `succeeded` (a 2xx), `failed` (no retry left, or a 410), `retrying` (another attempt scheduled),
 * `parked` (another attempt was due, but its endpoint is or got disabled). See operations.md,
 * "Metrics and alerts".
 */
export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed' | 'parked';
const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['succeeded', 'retrying', 'failed', 'parked'];
/**
 * The server-error statuses Herald answers (docs/api.md "Errors"): 500 a bug, 503 a store or a
 * process that cannot take the request. Each route's series of them start at 0 (knowRoute).
 */
const SERVER_ERROR_STATUSES = [500, 503] as const;
/** What a delivery disables an endpoint for (a manual disable is an API call, not counted here). */
const DISABLED_REASONS = ['failures', 'gone'] as const;

/** Herald's Prometheus metrics: recorded by the dispatcher, rendered by GET /metrics. */
export interface Metrics {
  /** Content-Type of the text `render()` returns. */
  readonly contentType: string;
  /** The exposition text; collects the backlog gauges from the store first. */
  render(): Promise<string>;
  /** One HTTP attempt finished: how long it took and what it did to its delivery. */
  recordAttempt(outcome: DeliveryOutcome, durationMs: number): void;
  /** An endpoint was disabled (automatically, or by a 410). */
  recordEndpointDisabled(reason: string): void;
  /** One claim transaction: how long it took and how many deliveries it leased. */
  recordClaim(durationMs: number, claimed: number): void;
  /** One request answered by this process's API or worker server (api/request-metrics.ts). */
  recordRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /** A route its server serves with `method`: its 5xx series start at 0 (api/request-metrics.ts). */
  knowRoute(method: string, route: string): void;
  /** Events the store accepted through the events API (repeats left out) and the deliveries their fan-out created. */
  recordAccepted(events: number, deliveries: number): void;
  /** The registry, for tests and for adding process-specific metrics. */
  readonly registry: Registry;
}

export interface CreateMetricsOptions {
  /** Source of the backlog gauges; read at scrape time, never on the hot path. */
  store: Pick<Store, 'backlog'>;
  now?: () => number;
  /** Process metrics (CPU, memory, event loop lag, …). Default true; tests turn them off for speed. */
  processMetrics?: boolean;
  /**
   * Called when the backlog cannot be read. That scrape then has no backlog samples (not the last
   * known values, which would hide an outage) and `herald_store_up` 0.
   */
  onCollectError?: (error: unknown) => void;
  /** The dispatcher thread's heap, read at scrape time; null (no sample) when there is none. */
  threadHeap?: () => Promise<ThreadHeap | null>;
  /**
   * Bytes of request bodies this process's attempts in flight hold (HERALD_DELIVERY_BYTES_IN_FLIGHT),
   * read at scrape time; null (no sample) in a process that does not deliver.
   */
  deliveryBytesInFlight?: () => number | null;
  /**
   * The dispatcher's attempts, records and queues (dispatcher-types.ts DispatcherLoad), read at
   * scrape time; null (no sample) while it is not running. Absent in a process that does not deliver.
   */
  dispatcherLoad?: () => DispatcherLoad | null;
  /**
   * Milliseconds the delivering thread's event loop could not run (Sender.heldMs, loop-stalls.ts),
   * read at scrape time; null before the dispatcher is made (0 is served). Absent in a process that
   * does not deliver.
   */
  dispatcherHeldMs?: () => number | null;
}

/**
 * How long a backlog read serves the scrapes after it (see readBacklog): at most about one count of
 * the pending deliveries a second, however often /metrics is asked; gauges at most 1 s old.
 */
export const BACKLOG_READ_REUSE_MS = 1_000;

/** Seconds; from a fast local receiver up to the 30 s longest timeout. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Seconds; an answer from memory takes well under 1 ms, a large batch or a busy database seconds. */
const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A registry of its own per Herald instance (not prom-client's global one), so two instances in one
 * process (tests) never collide on metric names.
 */
export function createMetrics(options: CreateMetricsOptions): Metrics {
  const now = options.now ?? Date.now;
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const deliveries = new Counter({
    name: 'herald_deliveries_total',
    help: 'Delivery attempts recorded, by the state their record left the delivery in: succeeded, retrying (another attempt scheduled), parked (its endpoint is or got disabled), failed (no retry left, or 410).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'Duration of one HTTP delivery attempt, connect to last response byte (or error).',
    labelNames: ['outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const claimDuration = new Histogram({
    name: 'herald_claim_duration_seconds',
    help: 'Duration of one claim (leasing a batch of due deliveries); must not grow with the backlog.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const claimed = new Counter({
    name: 'herald_claimed_deliveries_total',
    help: 'Deliveries leased by claims of this process.',
    registers: [registry],
  });
  const endpointsDisabled = new Counter({
    name: 'herald_endpoints_disabled_total',
    help: 'Endpoints disabled, by reason: failures (consecutive failed attempts) or gone (410).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'herald_http_requests_total',
    help: 'Requests answered by this process, by method, route pattern (never the path with its ids; unmatched: no route took it, e.g. the 404 of an unknown path) and status code.',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'Time from a request routed (its headers read; reading its body included) to the last byte of its answer written, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  const eventsAccepted = new Counter({
    name: 'herald_events_accepted_total',
    help: 'Events the store accepted through the events API of this process (POST .../events and .../events/batch); a repeated idempotency key is not counted again.',
    registers: [registry],
  });
  const deliveriesCreated = new Counter({
    name: 'herald_deliveries_created_total',
    help: 'Deliveries created by the fan-out of the events in herald_events_accepted_total.',
    registers: [registry],
  });
  // Every series a process can count starts at 0 when it starts, rather than at its first
  // increment: increase() and rate() need a sample before the first one, or they miss it (the
  // first endpoint disabled after a restart, the first failed delivery).
  for (const outcome of DELIVERY_OUTCOMES) deliveries.inc({ outcome }, 0);
  for (const reason of DISABLED_REASONS) endpointsDisabled.inc({ reason }, 0);

  // Both backlog gauges and herald_store_up come from one store query, shared by every scrape
  // while it runs and for BACKLOG_READ_REUSE_MS after it ended: /metrics needs no token and is
  // never rate-limited, and the count walks an index of every pending delivery (~30-45 ms at
  // 1,000,000 on SQLite, on the API's thread), so a client requesting it in a loop would otherwise
  // hold the API's thread. The age is worked out at each scrape from the due time read. When the
  // read fails the backlog gauges have no sample: a value kept from before the outage would say
  // "nothing is late" while nothing can be delivered.
  let backlogRead: { result: Promise<Backlog | null>; endedAt: number | null } | null = null;
  const readBacklog = (): Promise<Backlog | null> => {
    const last = backlogRead;
    if (last && (last.endedAt === null || now() - last.endedAt < BACKLOG_READ_REUSE_MS)) return last.result;
    const read: { result: Promise<Backlog | null>; endedAt: number | null } = {
      endedAt: null,
      result: options.store
        .backlog(now())
        .catch((error: unknown) => {
          options.onCollectError?.(error);
          return null;
        })
        .finally(() => {
          read.endedAt = now();
        }),
    };
    backlogRead = read;
    return read.result;
  };
  new Gauge({
    name: 'herald_deliveries_pending',
    help: 'Deliveries waiting for an attempt (due now or scheduled for a retry), across all projects; no sample while the database cannot be read (see herald_store_up).',
    registers: [registry],
    async collect() {
      const backlog = await readBacklog();
      if (backlog) this.set(backlog.pending);
      else this.remove();
    },
  });
  new Gauge({
    name: 'herald_oldest_pending_age_seconds',
    help: 'How long the pending delivery that became due first has waited since (since it was created, its retry fell due or it was resumed; an attempt in flight, a lease that ran out or a claim handed back unsent do not restart it), 0 when nothing is due; no sample while the database cannot be read (see herald_store_up).',
    registers: [registry],
    async collect() {
      const backlog = await readBacklog();
      if (!backlog) this.remove();
      else this.set(backlog.oldestDueAt === null ? 0 : Math.max(0, (now() - backlog.oldestDueAt) / 1000));
    },
  });
  new Gauge({
    name: 'herald_store_up',
    help: '1 when this scrape could read the delivery backlog from the database, 0 when it could not (the backlog gauges then have no sample): the alert for a database this process cannot reach.',
    registers: [registry],
    async collect() {
      this.set((await readBacklog()) ? 1 : 0);
    },
  });

  // Counted where the failures are answered or logged (store-failure-answers.ts, store-error-log.ts),
  // on any thread of the process (store-unavailable.ts gathers them); read at scrape time. A full
  // disk leaves herald_store_up at 1 (reads still work): this is the series to alert on.
  new Counter({
    name: 'herald_store_failures_total',
    help: 'Store calls of this process (API requests answered 503, dispatcher and retention calls) that failed for a reason that passes, by reason: full (the disk: writes refused), resources (out of file descriptors, or the database out of memory), io_error (a disk I/O error), busy, unreachable, file_gone (the SQLite file deleted or replaced).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const counts = storeFailureCounts();
      this.reset();
      for (const reason of STORE_FAILURE_REASONS) this.inc({ reason }, counts.get(reason) ?? 0);
    },
  });

  // Counted by the sender on whichever thread delivers (delivery/proxy-connector.ts); read at scrape time.
  new Counter({
    name: 'herald_proxy_failures_total',
    help: 'Delivery attempts this process could not make because the egress proxy (HERALD_PROXY_URL) could not be reached, closed without answering, or refused Herald itself (407): each delivery was handed back without an attempt and tried again 1 s later. Always 0 without a proxy.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(proxyFailureCount());
    },
  });

  // Counted by the API's backlog gates of this process (api/backlog-gate.ts); read at scrape time.
  new Counter({
    name: 'herald_backlog_full_refusals_total',
    help: 'Requests this process refused with 429 HERALD_ERR_BACKLOG_FULL (events, and the test sends and replays that would add deliveries): their project had its backlog limit of deliveries pending (its own backlogLimit, else HERALD_PROJECT_BACKLOG_LIMIT): its receivers take less than it sends, or are down and it keeps sending.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(backlogRefusals());
    },
  });

  // The dispatcher thread's heap (SQLite's default: the dispatcher on a thread of its own): the
  // process's nodejs_heap_* metrics are the main thread's only, and the process's resident memory
  // holds both heaps.
  const threadHeap = options.threadHeap;
  if (threadHeap) {
    let heapRead: Promise<ThreadHeap | null> | null = null;
    const readHeap = (): Promise<ThreadHeap | null> => {
      heapRead ??= threadHeap().finally(() => {
        setImmediate(() => {
          heapRead = null;
        });
      });
      return heapRead;
    };
    for (const [name, help, field] of [
      ['herald_dispatcher_thread_heap_used_bytes', 'V8 heap in use on the dispatcher thread.', 'usedBytes'],
      [
        'herald_dispatcher_thread_heap_total_bytes',
        'V8 heap reserved for the dispatcher thread.',
        'totalBytes',
      ],
    ] as const) {
      new Gauge({
        name,
        help: `${help} Only in a process that delivers on a thread of its own (nodejs_heap_* are the main thread's).`,
        registers: [registry],
        async collect() {
          const heap = await readHeap();
          if (heap) this.set(heap[field]);
          else this.remove();
        },
      });
    }
  }

  // Kept by the dispatcher on whichever thread delivers (byte-budget.ts); read at scrape time.
  const bytesInFlight = options.deliveryBytesInFlight;
  if (bytesInFlight) {
    new Gauge({
      name: 'herald_delivery_bytes_in_flight',
      help: "Bytes of request bodies this process's delivery attempts in flight hold, each counted by its event's payload and envelope, against HERALD_DELIVERY_BYTES_IN_FLIGHT: at the limit, attempts wait for room. No sample in a process that does not deliver.",
      registers: [registry],
      collect() {
        const bytes = bytesInFlight();
        if (bytes === null) this.remove();
        else this.set(bytes);
      },
    });
  }

  // Kept by the dispatcher on whichever thread delivers (dispatcher-load-buffer.ts); read at scrape time.
  const dispatcherLoad = options.dispatcherLoad;
  if (dispatcherLoad) {
    const gauges: [string, string, keyof DispatcherLoad][] = [
      [
        'herald_attempts_in_flight',
        'Delivery attempts this process has running (connecting, sending, or waiting for the answer), against HERALD_DELIVERY_CONCURRENCY.',
        'attemptsInFlight',
      ],
      [
        'herald_attempts_unrecorded',
        'Attempts this process made whose record the database has not yet written. Near 0 normally; it grows while the database refuses or cannot take writes, and at its bound (256) the process claims nothing more.',
        'attemptsUnrecorded',
      ],
      [
        'herald_deliveries_queued',
        "Deliveries this process claimed that wait for one of their endpoint's or project's slots, or for room among the bytes in flight; past half their lease they go back to the database.",
        'deliveriesQueued',
      ],
      [
        'herald_deliveries_queued_bytes',
        'Bytes of payload the deliveries in herald_deliveries_queued hold (an event counted once however many of its deliveries wait), bounded by HERALD_DELIVERY_BYTES_IN_FLIGHT.',
        'queuedBytes',
      ],
    ];
    for (const [name, help, field] of gauges) {
      new Gauge({
        name,
        help: `${help} With a dispatcher thread, at most 100 ms old; no sample in a process that does not deliver.`,
        registers: [registry],
        collect() {
          const load = dispatcherLoad();
          if (load) this.set(load[field]);
          else this.remove();
        },
      });
    }
  }

  // Counted on whichever thread delivers, by the tick the sender's deadlines use (loop-stalls.ts);
  // read at scrape time. nodejs_eventloop_lag_* are the main thread's only.
  const heldMs = options.dispatcherHeldMs;
  if (heldMs) {
    new Counter({
      name: 'herald_dispatcher_held_seconds_total',
      help: "Time the event loop of the thread this process delivers on could not run (synchronous work such as a claim reading large payloads, a long garbage collection, a starved CPU), counted by a 100 ms tick in its lateness of 20 ms or more: attempts out meanwhile are recorded that much longer (their durationMs is wall time), though their timeouts leave it out. The dispatcher thread's own (SQLite's default), else the main thread's. No sample in a process that does not deliver.",
      registers: [registry],
      collect() {
        this.reset();
        this.inc((heldMs() ?? 0) / 1000);
      },
    });
  }

  return {
    contentType: registry.contentType,
    registry,
    render: () => registry.metrics(),
    recordAttempt(outcome, durationMs) {
      deliveries.inc({ outcome });
      attemptDuration.observe(
        { outcome: outcome === 'succeeded' ? 'succeeded' : 'failed' },
        durationMs / 1000,
      );
    },
    recordClaim(durationMs, count) {
      claimDuration.observe(durationMs / 1000);
      claimed.inc(count);
    },
    recordRequest(method, route, statusCode, seconds) {
      httpRequests.inc({ method, route, status_code: statusCode });
      httpDuration.observe({ method, route }, seconds);
    },
    knowRoute(method, route) {
      // Only the 5xx series, which the API-errors alert reads (operations.md): increase() then sees
      // a route's first 500 or 503 after a restart, where a series born at 1 would be missed. Not
      // every status a route may answer (that is the routes times a dozen statuses), nor the
      // duration histogram (16 series a route): the first request of a route is lost to their
      // rates, which no alert hinges on. Counting by 0 leaves a series already counting as it is.
      for (const status of SERVER_ERROR_STATUSES) httpRequests.inc({ method, route, status_code: status }, 0);
    },
    recordAccepted(events, deliveries) {
      eventsAccepted.inc(events);
      deliveriesCreated.inc(deliveries);
    },
    recordEndpointDisabled(reason) {
      endpointsDisabled.inc({ reason: disabledReasonLabel(reason) });
    },
  };
}

/** Reasons are free text; labels must stay a small fixed set. */
function disabledReasonLabel(reason: string): 'gone' | 'failures' | 'manual' {
  const lower = reason.toLowerCase();
  if (lower.includes('410') || lower.includes('gone')) return 'gone';
  if (lower.includes('manual')) return 'manual';
  return 'failures';
}

/**
 * herald_clock_offset_seconds (PostgreSQL processes, src/clock-check.ts): read from the last check,
 * never from the database at scrape time. No sample before the first reading or while the database
 * cannot be read.
 */
export function addClockOffsetGauge(registry: Registry, check: { offsetMs(): number | null }): void {
  new Gauge({
    name: 'herald_clock_offset_seconds',
    help: "This process's clock minus the database server's, as last checked (every minute), less half the reading's round trip (what it proves): processes sharing a database compare the times each wrote with its own clock (leases, retry due times, rate limits), so alert when its absolute value passes 1 (docs/deployment.md).",
    registers: [registry],
    collect() {
      const offset = check.offsetMs();
      if (offset === null) this.remove();
      else this.set(offset / 1000);
    },
  });
}

/** herald_schema_unknown_migrations: src/schema-watch.ts. */
export function addSchemaGauge(registry: Registry, watch: { unknownCount(): number }): void {
  new Gauge({
    name: 'herald_schema_unknown_migrations',
    help: 'Migrations the database has that this version of Herald does not know, as last read (every 30 s): a newer version migrated it while this process runs. Alert when above 0 for longer than an upgrade takes: a process of an older version was left running (docs/deployment.md, Upgrades).',
    registers: [registry],
    collect() {
      this.set(watch.unknownCount());
    },
  });
}
