/**
 * The delivery loop: claim due deliveries in batches → build and sign → send → record attempts in
 * batches. One slow or dead endpoint cannot starve the others: each endpoint has an in-flight cap
 * and a saturated endpoint is left out of the next claims.
 */

import type { DeliveryConfig } from '../config/config-types.ts';
import { buildRequest } from '../domain/build-request.ts';
import { resolveSchedule } from '../domain/retry-schedule.ts';
import { createTokenBucket, type TokenBucket } from '../domain/token-bucket.ts';
import type { Endpoint, EndpointSecret } from '../domain/types.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import type { AttemptRecord, ClaimedDelivery, ReleaseItem, Store } from '../store/store.ts';
import { attemptRecord } from './attempt-outcome.ts';
import type { SendFn } from './send-types.ts';

export interface DispatcherHooks {
  /** An attempt finished: what it made of its delivery and how long it took. */
  onAttempt?(event: {
    outcome: DeliveryOutcome;
    durationMs: number;
    projectId: string;
    endpointId: string | null;
  }): void;
  /** The store disabled an endpoint after an attempt (threshold reached, or 410). */
  onEndpointDisabled?(event: { projectId: string; endpointId: string; reason: string }): void;
  /** A store call failed; the loop backs off and goes on. */
  onError?(error: unknown, during: string): void;
}

export interface DispatcherOptions {
  store: Store;
  send: SendFn;
  config: DeliveryConfig;
  workerId: string;
  clock?: () => number;
  random?: () => number;
  hooks?: DispatcherHooks;
}

export interface Dispatcher {
  start(): Promise<void>;
  /** Stops claiming, lets in-flight attempts finish within graceMs, writes their records. */
  stop(options?: { graceMs?: number }): Promise<void>;
  wake(): void;
}

/** Settings for one-off callbackUrl deliveries: standard envelope, POST, unsigned (webhook-id still sent). */
const CALLBACK_SETTINGS: Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'> = {
  method: 'POST',
  headers: {},
  envelope: 'standard',
  signature: { scheme: 'none' },
};
const RECORD_FLUSH_MS = 5;
const RECORD_FLUSH_COUNT = 100;
const PROJECT_CACHE_MS = 5_000;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, send, config, workerId } = options;
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const hooks = options.hooks ?? {};

  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let inFlight = 0;
  const perEndpoint = new Map<string, number>();
  const buckets = new Map<string, { bucket: TokenBucket; perSecond: number; burst: number | undefined }>();
  const projectSchedules = new Map<string, { schedule: number[] | null; at: number }>();
  let wakeUp: (() => void) | null = null;
  let woken = false;
  let unsubscribe: (() => void) | null = null;
  const attemptsRunning = new Set<Promise<void>>();
  let records: AttemptRecord[] = [];
  let recordTimer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        return resolve();
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });

  const flushRecords = (): Promise<void> => {
    if (recordTimer) clearTimeout(recordTimer);
    recordTimer = null;
    const batch = records;
    records = [];
    if (batch.length === 0) return flushing;
    flushing = flushing.then(async () => {
      try {
        const result = await store.recordAttempts(batch, {
          now: clock(),
          failureThreshold: config.failureThreshold,
        });
        for (const d of result.disabledEndpoints) hooks.onEndpointDisabled?.(d);
      } catch (error) {
        // The claims stay leased: these deliveries come back after the lease and are tried again.
        hooks.onError?.(error, 'recordAttempts');
      }
    });
    return flushing;
  };
  const queueRecord = (rec: AttemptRecord) => {
    records.push(rec);
    if (records.length >= RECORD_FLUSH_COUNT) void flushRecords();
    else recordTimer ??= setTimeout(() => void flushRecords(), RECORD_FLUSH_MS);
  };

  const projectSchedule = async (projectId: string): Promise<number[] | null> => {
    const hit = projectSchedules.get(projectId);
    if (hit && clock() - hit.at < PROJECT_CACHE_MS) return hit.schedule;
    const project = await store.getProject(projectId);
    const schedule = project?.retrySchedule ?? null;
    projectSchedules.set(projectId, { schedule, at: clock() });
    return schedule;
  };

  const rateWait = (endpoint: Endpoint, now: number): number => {
    if (!endpoint.rateLimit) return 0;
    let entry = buckets.get(endpoint.id);
    if (
      !entry ||
      entry.perSecond !== endpoint.rateLimit.perSecond ||
      entry.burst !== endpoint.rateLimit.burst
    ) {
      entry = {
        bucket: createTokenBucket(endpoint.rateLimit),
        perSecond: endpoint.rateLimit.perSecond,
        burst: endpoint.rateLimit.burst,
      };
      buckets.set(endpoint.id, entry);
    }
    return entry.bucket.take(now);
  };

  const attempt = async (
    claimed: ClaimedDelivery,
    settings: Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>,
    secrets: EndpointSecret[],
    timeoutMs: number,
    schedule: readonly number[],
  ) => {
    const { delivery, event } = claimed;
    const request = buildRequest({ event, url: delivery.url, endpoint: settings, secrets, now: clock() });
    const result = await send({ ...request, timeoutMs });
    const rec = attemptRecord({
      delivery,
      event,
      request,
      result,
      schedule,
      jitter: config.retryJitter,
      random,
      countsForEndpoint: delivery.endpointId !== null,
      workerId,
      now: clock(),
    });
    hooks.onAttempt?.({
      outcome: rec.next.status === 'pending' ? 'retrying' : (rec.next.status as DeliveryOutcome),
      durationMs: result.durationMs,
      projectId: delivery.projectId,
      endpointId: delivery.endpointId,
    });
    queueRecord(rec);
  };

  const launch = (key: string | null, run: () => Promise<void>) => {
    inFlight++;
    if (key) perEndpoint.set(key, (perEndpoint.get(key) ?? 0) + 1);
    const p: Promise<void> = run()
      .catch((error: unknown) => hooks.onError?.(error, 'attempt'))
      .finally(() => {
        inFlight--;
        if (key) {
          const n = (perEndpoint.get(key) ?? 1) - 1;
          if (n <= 0) perEndpoint.delete(key);
          else perEndpoint.set(key, n);
        }
        attemptsRunning.delete(p);
        wake();
      });
    attemptsRunning.add(p);
  };

  const dispatchBatch = async (claimed: ClaimedDelivery[]) => {
    const now = clock();
    const refs = claimed
      .filter((c) => c.delivery.endpointId !== null)
      .map((c) => ({ projectId: c.delivery.projectId, endpointId: c.delivery.endpointId! }));
    const endpoints = refs.length ? await store.getDispatchEndpoints(refs, now) : new Map();
    const releases: ReleaseItem[] = [];
    for (const c of claimed) {
      const d = c.delivery;
      const projSchedule = await projectSchedule(d.projectId);
      if (d.endpointId === null) {
        const schedule = resolveSchedule(null, projSchedule, config.retrySchedule);
        launch(null, () => attempt(c, CALLBACK_SETTINGS, [], config.defaultTimeoutMs, schedule));
        continue;
      }
      const target = endpoints.get(d.endpointId);
      if (!target) {
        // Endpoint deleted after the event was accepted: nothing to send it to.
        queueRecord(
          attemptRecord({
            delivery: d,
            event: c.event,
            request: { method: 'POST', url: d.url, headers: {}, body: null },
            result: {
              startedAt: now,
              durationMs: 0,
              response: null,
              error: { kind: 'internal', message: 'endpoint deleted' },
            },
            schedule: [],
            jitter: 0,
            random,
            countsForEndpoint: false,
            workerId,
            now,
          }),
        );
        continue;
      }
      const ep = target.endpoint;
      if (ep.status === 'disabled') {
        releases.push({ projectId: d.projectId, deliveryId: d.id, nextAttemptAt: now, status: 'parked' });
        continue;
      }
      if ((perEndpoint.get(ep.id) ?? 0) >= config.perEndpointConcurrency) {
        releases.push({ projectId: d.projectId, deliveryId: d.id, nextAttemptAt: now + 50 });
        continue;
      }
      const wait = rateWait(ep, now);
      if (wait > 0) {
        releases.push({ projectId: d.projectId, deliveryId: d.id, nextAttemptAt: now + wait });
        continue;
      }
      const timeoutMs = Math.min(ep.timeoutMs || config.defaultTimeoutMs, config.maxTimeoutMs);
      const schedule = resolveSchedule(ep.retrySchedule, projSchedule, config.retrySchedule);
      launch(ep.id, () => attempt(c, ep, target.secrets, timeoutMs, schedule));
    }
    if (releases.length) await store.releaseDeliveries(releases);
  };

  const loop = async () => {
    while (running) {
      const free = config.concurrency - inFlight;
      if (free <= 0) {
        await sleep(config.pollIntervalMs);
        continue;
      }
      const limit = Math.min(config.claimBatch, free);
      try {
        const saturated = [...perEndpoint]
          .filter(([, n]) => n >= config.perEndpointConcurrency)
          .map(([id]) => id);
        const claimed = await store.claimDueDeliveries({
          limit,
          leaseMs: config.leaseMs,
          now: clock(),
          workerId,
          excludeEndpointIds: saturated,
        });
        if (claimed.length) await dispatchBatch(claimed);
        if (claimed.length < limit) await sleep(config.pollIntervalMs);
      } catch (error) {
        hooks.onError?.(error, 'claim');
        await sleep(Math.max(config.pollIntervalMs, 1000));
      }
    }
  };

  return {
    async start() {
      if (running) return;
      if (!store.capabilities.multiProcess) await store.releaseClaims('*', clock());
      running = true;
      unsubscribe = store.subscribeDue(wake);
      loopDone = loop();
    },
    async stop({ graceMs = 10_000 } = {}) {
      if (!running) return;
      running = false;
      unsubscribe?.();
      wake();
      await loopDone;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...attemptsRunning]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      // Attempts still running keep their lease: the delivery comes back when it ends.
      await flushRecords();
      await flushing;
    },
    wake,
  };
}
