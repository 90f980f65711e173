/** Builders shared by the store conformance suite (backend-neutral: only domain and Store types). */
import { test } from 'node:test';
import { ID_PREFIX, newId } from '../../src/domain/ids.ts';
import type { Attempt, Delivery, HeraldEvent } from '../../src/domain/types.ts';
import type {
  AttemptRecord,
  EndpointEffect,
  NewEndpoint,
  NewEventInput,
  Store,
} from '../../src/store/store.ts';

/** A fixed clock start, so tests say exactly which time they mean. */
export const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
export const SECOND = 1000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** An endpoint input with sensible defaults; `over` replaces any field. */
export function endpointInput(projectId: string, over: Partial<NewEndpoint> = {}): NewEndpoint {
  return {
    projectId,
    url: 'http://127.0.0.1:9/hook',
    name: 'hook',
    description: '',
    eventTypes: [],
    method: 'POST',
    headers: {},
    dev: false,
    timeoutMs: 5_000,
    envelope: 'standard',
    signature: { scheme: 'standard' },
    rateLimit: null,
    retrySchedule: null,
    active: true,
    ...over,
  };
}

/** One event input (no idempotency key, no callback) of `type`. */
export function eventInput(type = 'order.created', over: Partial<NewEventInput> = {}): NewEventInput {
  return { type, payload: { n: 1 }, test: false, idempotencyKey: null, callbackUrl: null, ...over };
}

export interface AttemptOptions {
  outcome?: 'succeeded' | 'failed';
  startedAt?: number;
  durationMs?: number;
  status?: Delivery['status'];
  nextAttemptAt?: number | null;
  effect?: EndpointEffect;
  workerId?: string;
}

/** An attempt record for `delivery` as the dispatcher would write it. */
export function attemptRecord(delivery: Delivery, event: HeraldEvent, o: AttemptOptions = {}): AttemptRecord {
  const outcome = o.outcome ?? 'succeeded';
  const startedAt = o.startedAt ?? T0;
  const attempt: Attempt = {
    id: newId(ID_PREFIX.attempt, startedAt),
    projectId: delivery.projectId,
    deliveryId: delivery.id,
    eventId: event.id,
    endpointId: delivery.endpointId,
    eventType: event.type,
    number: delivery.attempts + 1,
    startedAt,
    durationMs: o.durationMs ?? 10,
    outcome,
    request: {
      method: 'POST',
      url: delivery.url,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    },
    response:
      outcome === 'succeeded'
        ? { status: 200, headers: {}, body: 'ok' }
        : { status: 500, headers: {}, body: 'no' },
    error: outcome === 'succeeded' ? null : { kind: 'http_status', message: 'HTTP 500' },
  };
  const status = o.status ?? (outcome === 'succeeded' ? 'succeeded' : 'pending');
  return {
    attempt,
    next: {
      status,
      nextAttemptAt: status === 'pending' ? (o.nextAttemptAt ?? startedAt + 5 * SECOND) : null,
    },
    endpointEffect:
      o.effect ?? (delivery.endpointId ? (outcome === 'succeeded' ? 'success' : 'failure') : 'none'),
    workerId: o.workerId ?? 'w1',
  };
}

/** A project with `n` catch-all endpoints, for tests that only need somewhere to deliver. */
/** Runs `fn` with a batch size (`{rows}` objects such as park-batch.ts's) set to `rows`, then restores it. */
export async function withRows<T>(setting: { rows: number }, rows: number, fn: () => Promise<T>): Promise<T> {
  const before = setting.rows;
  setting.rows = rows;
  try {
    return await fn();
  } finally {
    setting.rows = before;
  }
}

export async function projectWithEndpoints(store: Store, n: number, now = T0) {
  const project = await store.createProject({ name: 'p' }, now);
  const endpoints = [];
  for (let i = 0; i < n; i++) {
    endpoints.push(
      await store.createEndpoint(
        endpointInput(project.id, { url: `http://127.0.0.1:9/e${i}` }),
        `whsec_${i}`,
        now,
      ),
    );
  }
  return { project, endpoints };
}

/**
 * 3,000 callback deliveries (callbackUrl) of one project due before one endpoint delivery of
 * another project (due at T0 + 1 s); returns that other project's endpoint.
 */
export async function callbackBacklogBeforeAnotherTenant(store: Store) {
  const noisy = await store.createProject({ name: 'callbacks' }, T0);
  for (let i = 0; i < 30; i++) {
    const batch = Array.from({ length: 100 }, () =>
      eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' }),
    );
    await store.acceptEvents(noisy.id, batch, T0 + i);
  }
  const quiet = (await projectWithEndpoints(store, 1)).endpoints[0]!;
  await store.acceptEvents(quiet.projectId, [eventInput('a')], T0 + 1_000);
  return quiet;
}

/** Every page of a paginated list, following cursors. */
export async function allPages<T>(
  fetch: (cursor: string | null) => Promise<{ data: T[]; nextCursor: string | null }>,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page: { data: T[]; nextCursor: string | null } = await fetch(cursor);
    pages.push(page.data);
    if (!page.nextCursor) return pages;
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

/** A `test` that runs `fn` on a fresh store from `open` and always closes it. */
export function storeTest(open: () => Promise<Store>) {
  return (title: string, fn: (store: Store) => Promise<void>) =>
    test(title, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
}

/**
 * One delivery claimed by w1 for a second, then (its lease run out) by w2 for a minute: a worker
 * paused past its lease, and the one that took over.
 */
export async function leaseTakenOver(store: Store) {
  const { project } = await projectWithEndpoints(store, 1);
  await store.acceptEvents(project.id, [eventInput('a')], T0);
  const [c1] = await store.claimDueDeliveries({ limit: 1, leaseMs: SECOND, now: T0, workerId: 'w1' });
  const [c2] = await store.claimDueDeliveries({
    limit: 1,
    leaseMs: 60 * SECOND,
    now: T0 + 2 * SECOND,
    workerId: 'w2',
  });
  if (!c1 || c2?.delivery.id !== c1.delivery.id) throw new Error('the lease did not pass from w1 to w2');
  return { project, c1, c2 };
}
