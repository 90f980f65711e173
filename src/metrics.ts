import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from './store/store.ts';

/** What became of a delivery after one attempt. */
export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed' | 'parked';

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
  /** The registry, for tests and for adding process-specific metrics. */
  readonly registry: Registry;
}

export interface CreateMetricsOptions {
  /** Source of the backlog gauges; read at scrape time, never on the hot path. */
  store: Pick<Store, 'backlog'>;
  now?: () => number;
  /** Process metrics (CPU, memory, event loop lag, …). Default true; tests turn them off for speed. */
  processMetrics?: boolean;
  /** Called when the backlog cannot be read; the scrape still answers with the last known values. */
  onCollectError?: (error: unknown) => void;
}

/** Seconds; from a fast local receiver up to the 30 s longest timeout. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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
    help: 'Delivery attempts by what they made of the delivery: succeeded, retrying, failed (retries exhausted), parked (endpoint disabled).',
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

  // Both backlog gauges come from one store query; the first gauge collected fetches it and the
  // second reuses the result, so one scrape costs one query.
  let backlogRead: Promise<void> | null = null;
  const readBacklog = (): Promise<void> => {
    backlogRead ??= options.store
      .backlog(now())
      .then((backlog) => {
        pending.set(backlog.pending);
        oldestAge.set(backlog.oldestDueAt === null ? 0 : Math.max(0, (now() - backlog.oldestDueAt) / 1000));
      })
      .catch((error: unknown) => options.onCollectError?.(error))
      .finally(() => {
        setImmediate(() => {
          backlogRead = null;
        });
      });
    return backlogRead;
  };
  const pending = new Gauge({
    name: 'herald_deliveries_pending',
    help: 'Deliveries waiting for an attempt (due now or scheduled for a retry), across all projects.',
    registers: [registry],
    collect: readBacklog,
  });
  const oldestAge = new Gauge({
    name: 'herald_oldest_pending_age_seconds',
    help: 'How long the oldest due delivery has been waiting past its due time (0 when nothing is due).',
    registers: [registry],
    collect: readBacklog,
  });

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
