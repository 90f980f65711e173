/**
 * The delivery loop: claim due deliveries in batches → build and sign → send → record attempts in
 * batches. One slow or dead endpoint cannot starve the others: each endpoint has an in-flight cap
 * and a saturated endpoint is left out of the next claims.
 */

import type { DeliveryConfig } from '../config/config-types.ts';
import { buildRequest } from '../domain/build-request.ts';
import type { BuiltRequest } from '../domain/build-request-types.ts';
import { resolveSchedule } from '../domain/retry-schedule.ts';
import { createTokenBucket, type TokenBucket } from '../domain/token-bucket.ts';
import type { Endpoint, EndpointSecret } from '../domain/types.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import type { AttemptRecord, ClaimedDelivery, DispatchEndpoint, ReleaseItem, Store } from '../store/store.ts';
import { attemptRecord } from './attempt-outcome.ts';
import type { SendFn, SendResult } from './send-types.ts';

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
/** How long the queued work of an endpoint that just failed waits before it is claimable again. */
const FAILING_ENDPOINT_PAUSE_MS = 1_000;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, send, config, workerId } = options;
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const hooks = options.hooks ?? {};

  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let inFlight = 0;
  const perEndpoint = new Map<string, number>();
  /** Claimed deliveries waiting for a slot of their endpoint (at most perEndpointConcurrency each). */
  const queued = new Map<
    string,
    { claimed: ClaimedDelivery; claimedAt: number; run: () => Promise<void> }[]
  >();
  /** Queued deliveries not started because the dispatcher is stopping: released on stop. */
  const held: ClaimedDelivery[] = [];
  const buckets = new Map<string, { bucket: TokenBucket; perSecond: number; burst: number | undefined }>();
  const projectSchedules = new Map<string, { schedule: number[] | null; at: number }>();
  let wakeUp: (() => void) | null = null;
  let woken = false;
  let unsubscribe: (() => void) | null = null;
  const attemptsRunning = new Set<Promise<void>>();
  let records: AttemptRecord[] = [];
  let recordWaiters: (() => void)[] = [];
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
    const waiters = recordWaiters;
    records = [];
    recordWaiters = [];
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
      for (const done of waiters) done();
    });
    return flushing;
  };
  /** Queues a record for the next batch; resolves once that batch is written (or failed). */
  const queueRecord = (rec: AttemptRecord): Promise<void> => {
    records.push(rec);
    const written = new Promise<void>((resolve) => recordWaiters.push(resolve));
    if (records.length >= RECORD_FLUSH_COUNT) void flushRecords();
    else recordTimer ??= setTimeout(() => void flushRecords(), RECORD_FLUSH_MS);
    return written;
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
    const startedAt = clock();
    let request: BuiltRequest;
    let result: SendResult | null = null;
    try {
      request = buildRequest({ event, url: delivery.url, endpoint: settings, secrets, now: startedAt });
    } catch (error) {
      // Settings the signer refuses (e.g. sha256-body with GET): record why instead of letting the
      // claim lapse and come back forever without a trace.
      request = { method: settings.method, url: delivery.url, headers: {}, body: null };
      result = {
        startedAt,
        durationMs: 0,
        response: null,
        error: { kind: 'internal', message: `cannot build request: ${(error as Error).message ?? error}` },
      };
    }
    result ??= await send({ ...request, timeoutMs });
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
    // Queued before the hook (a throwing metrics hook must not lose the record); the slot is held until
    // the record is written, so unrecorded attempts, which a crash would send again, stay bounded by
    // the concurrency limits instead of piling up when the database is slower than the receivers.
    const written = queueRecord(rec);
    if (delivery.endpointId && rec.endpointEffect !== 'success') dropQueue(delivery.endpointId);
    hooks.onAttempt?.({
      outcome: rec.next.status === 'pending' ? 'retrying' : (rec.next.status as DeliveryOutcome),
      durationMs: result.durationMs,
      projectId: delivery.projectId,
      endpointId: delivery.endpointId,
    });
    await written;
  };

  /**
   * A failing endpoint gets no more of its queued work from this batch: it goes back to the store,
   * so the failure count (and a disable at the threshold or on 410) decides before anything else is sent.
   */
  const dropQueue = (endpointId: string) => {
    const q = queued.get(endpointId);
    if (!q) return;
    queued.delete(endpointId);
    held.push(...q.map((x) => x.claimed));
    // A short pause: the failure is recorded (and may disable the endpoint) before they come back.
    if (running) releaseHeld(FAILING_ENDPOINT_PAUSE_MS);
  };

  const releaseHeld = (delayMs = 0) => {
    const at = clock() + delayMs;
    const items = held
      .splice(0)
      .map((c) => ({ projectId: c.delivery.projectId, deliveryId: c.delivery.id, nextAttemptAt: at }));
    void store.releaseDeliveries(items).catch((error: unknown) => hooks.onError?.(error, 'release'));
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
          let next = queued.get(key)?.shift();
          // Waited half its lease already (a slow endpoint): hand it back rather than risk sending it
          // after the lease ran out and another worker took it.
          while (next && clock() - next.claimedAt > config.leaseMs / 2) {
            held.push(next.claimed);
            next = queued.get(key)?.shift();
          }
          if (queued.get(key)?.length === 0) queued.delete(key);
          if (next && running) launch(key, next.run);
          else if (next) held.push(next.claimed);
          if (held.length && running) releaseHeld();
        }
        attemptsRunning.delete(p);
        wake();
      });
    attemptsRunning.add(p);
  };

  /**
   * Launches or releases every claimed delivery. All store reads happen first; the launch/release
   * pass that follows is synchronous, so nothing is ever left "claimed but not started" (a read that
   * fails releases the whole batch). Returns when the earliest deferred delivery is due, if any.
   */
  const dispatchBatch = async (claimed: ClaimedDelivery[]): Promise<number | null> => {
    let endpoints: Map<string, DispatchEndpoint>;
    const schedules = new Map<string, number[] | null>();
    try {
      const refs = claimed
        .filter((c) => c.delivery.endpointId !== null)
        .map((c) => ({ projectId: c.delivery.projectId, endpointId: c.delivery.endpointId! }));
      endpoints = refs.length ? await store.getDispatchEndpoints(refs, clock()) : new Map();
      for (const c of claimed) {
        const id = c.delivery.projectId;
        if (!schedules.has(id)) schedules.set(id, await projectSchedule(id));
      }
    } catch (error) {
      const at = clock() + 1_000;
      await store
        .releaseDeliveries(
          claimed.map((c) => ({
            projectId: c.delivery.projectId,
            deliveryId: c.delivery.id,
            nextAttemptAt: at,
          })),
        )
        .catch(() => {}); // if even this fails, the lease brings them back
      throw error;
    }
    const now = clock();
    const releases: ReleaseItem[] = [];
    const deferredPerEndpoint = new Map<string, number>();
    let earliest: number | null = null;
    const defer = (d: ClaimedDelivery['delivery'], at: number) => {
      releases.push({ projectId: d.projectId, deliveryId: d.id, nextAttemptAt: at });
      earliest = earliest === null ? at : Math.min(earliest, at);
    };
    for (const c of claimed) {
      const d = c.delivery;
      const projSchedule = schedules.get(d.projectId) ?? null;
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
      if ((perEndpoint.get(ep.id) ?? 0) + (queued.get(ep.id)?.length ?? 0) >= config.perEndpointConcurrency) {
        // Held here (up to one cap's worth) and started as slots free up: releasing them would cost a
        // write per delivery and bring them straight back. The rest go back to the store.
        const q = queued.get(ep.id) ?? [];
        if (q.length < config.claimBatch + config.perEndpointConcurrency) {
          const timeoutMs = Math.min(ep.timeoutMs || config.defaultTimeoutMs, config.maxTimeoutMs);
          const schedule = resolveSchedule(ep.retrySchedule, projSchedule, config.retrySchedule);
          q.push({
            claimed: c,
            claimedAt: now,
            run: () => attempt(c, ep, target.secrets, timeoutMs, schedule),
          });
          queued.set(ep.id, q);
        } else {
          defer(d, now + 50);
        }
        continue;
      }
      const wait = rateWait(ep, now);
      if (wait > 0) {
        // Spread the deferred ones one token apart, so they do not all come back at the same
        // instant only to be deferred again.
        const k = deferredPerEndpoint.get(ep.id) ?? 0;
        deferredPerEndpoint.set(ep.id, k + 1);
        defer(d, now + wait + Math.ceil((k * 1000) / ep.rateLimit!.perSecond));
        continue;
      }
      const timeoutMs = Math.min(ep.timeoutMs || config.defaultTimeoutMs, config.maxTimeoutMs);
      const schedule = resolveSchedule(ep.retrySchedule, projSchedule, config.retrySchedule);
      launch(ep.id, () => attempt(c, ep, target.secrets, timeoutMs, schedule));
    }
    if (releases.length) await store.releaseDeliveries(releases);
    return earliest;
  };

  let newWork = true;
  let emptyClaimKey: string | null = null;
  let emptyClaimAt = 0;
  const onDue = () => {
    newWork = true;
    wake();
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
          .filter(
            ([id, n]) =>
              n >= config.perEndpointConcurrency &&
              (queued.get(id)?.length ?? 0) >= config.perEndpointConcurrency,
          )
          .map(([id]) => id);
        // A claim that leaves endpoints out may scan their whole backlog to find nothing. After one
        // such empty claim, claim again only when new work arrives, the set of saturated endpoints
        // changes, or the poll interval passes, not after every finished attempt.
        const key = saturated.sort().join(',');
        if (
          saturated.length > 0 &&
          key === emptyClaimKey &&
          !newWork &&
          clock() - emptyClaimAt < config.pollIntervalMs
        ) {
          await sleep(config.pollIntervalMs - (clock() - emptyClaimAt));
          continue;
        }
        newWork = false;
        const claimed = await store.claimDueDeliveries({
          limit,
          leaseMs: config.leaseMs,
          now: clock(),
          workerId,
          excludeEndpointIds: saturated,
        });
        if (claimed.length === 0 && saturated.length > 0) {
          emptyClaimKey = key;
          emptyClaimAt = clock();
        } else emptyClaimKey = null;
        const deferredUntil = claimed.length ? await dispatchBatch(claimed) : null;
        // Deferred (rate-limited) work is due before the next poll: come back for it then.
        const idle = deferredUntil === null ? config.pollIntervalMs : Math.max(1, deferredUntil - clock());
        if (claimed.length < limit) await sleep(Math.min(config.pollIntervalMs, idle));
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
      unsubscribe = store.subscribeDue(onDue);
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
      // Claimed but never started: hand back, due now, so another worker (or the next start) takes them.
      for (const q of queued.values()) held.push(...q.map((x) => x.claimed));
      queued.clear();
      const now = clock();
      if (held.length) {
        await store
          .releaseDeliveries(
            held.splice(0).map((c) => ({
              projectId: c.delivery.projectId,
              deliveryId: c.delivery.id,
              nextAttemptAt: now,
            })),
          )
          .catch((error: unknown) => hooks.onError?.(error, 'release')); // the lease brings them back anyway
      }
      // Attempts still running keep their lease: the delivery comes back when it ends.
      await flushRecords();
      await flushing;
    },
    wake,
  };
}
