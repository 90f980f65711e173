/**
 * Every statement shape a request can make of the listings, and what runs in the background or for
 * the operator, run once on `store` (a fresh one): the conformance suite reads what it checks, so
 * the query-plan guards (sqlite-query-plans, postgres-query-plans) combine the listings' filters
 * here, each with and without a cursor and with a scan window of one row.
 */
import assert from 'node:assert/strict';
import { encodeCursor } from '../../src/store/cursor.ts';
import type { Store } from '../../src/store/store.ts';
import { attemptRecord, eventInput, projectWithEndpoints, T0 } from './helpers.ts';

/** Every non-empty subset of `keys`' options (the empty one too), for a listing's filters. */
function subsets<T extends object>(options: T): Partial<T>[] {
  const entries = Object.entries(options);
  return Array.from({ length: 2 ** entries.length }, (_, mask) =>
    Object.fromEntries(entries.filter((_, i) => mask & (2 ** i))),
  ) as Partial<T>[];
}

export async function runEveryListingShape(store: Store): Promise<void> {
  const { project, endpoints } = await projectWithEndpoints(store, 1);
  const p = project.id;
  const endpointId = endpoints[0]!.id;
  for (let i = 0; i < 3; i++) {
    const accepted = await store.acceptEvents(
      p,
      [eventInput('order.created', { idempotencyKey: `k${i}` })],
      T0 + i,
    );
    const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + i, workerId: 'w' });
    await store.recordAttempts(
      claims.map((c, k) =>
        attemptRecord(c.delivery, c.event, k % 2 ? {} : { outcome: 'failed', status: 'failed' }),
      ),
      { now: T0 + i, failureThreshold: 1 },
    );
    assert.equal(accepted.length, 1);
  }
  // The oldest: its endpoint was disabled by its failure before the later ones came.
  const event = (await store.listEvents(p, { limit: 10 })).data.at(-1)!;
  const delivery = (await store.listEventDeliveries(p, event.id, { limit: 10 }))!.data[0]!;
  // A listing's cursor, or one of the same form where a listing has only one page here.
  const any = encodeCursor('zzzz');
  const cursors = {
    events: (await store.listEvents(p, { limit: 1 })).nextCursor ?? any,
    attempts: (await store.listAttempts(p, { limit: 1 })).nextCursor ?? any,
    operational: (await store.listOperationalEvents(p, { limit: 1 })).nextCursor ?? any,
    deliveries: (await store.listEventDeliveries(p, event.id, { limit: 1 }))?.nextCursor ?? any,
  };
  const pages = (cursor: string) => [{}, { cursor }, { scanRows: 1 }, { cursor, scanRows: 1 }];
  for (const filters of subsets({ type: 'order.created', since: T0, until: T0 + 5, idempotencyKey: 'k1' }))
    for (const page of pages(cursors.events)) await store.listEvents(p, { limit: 2, ...filters, ...page });
  for (const outcome of ['succeeded', 'failed'] as const)
    for (const filters of subsets({
      endpointId,
      eventId: event.id,
      deliveryId: delivery.id,
      outcome,
      eventType: 'order.created',
      since: T0,
      until: T0 + 5,
    }))
      for (const page of pages(cursors.attempts))
        await store.listAttempts(p, { limit: 2, ...filters, ...page });
  for (const filters of subsets({ type: 'endpoint.disabled' as const, endpointId }))
    for (const page of pages(cursors.operational))
      await store.listOperationalEvents(p, { limit: 2, ...filters, ...page });
  for (const status of [undefined, 'pending', 'succeeded', 'failed', 'parked'] as const)
    for (const cursor of [null, cursors.deliveries])
      await store.listEventDeliveries(p, event.id, { limit: 1, ...(status ? { status } : {}), cursor });
  for (const status of ['pending', 'parked'] as const) {
    const first = await store.listEndpointDeliveries(p, endpointId, { limit: 1, status });
    await store.listEndpointDeliveries(p, endpointId, {
      limit: 1,
      status,
      cursor: first.nextCursor ?? encodeCursor(`dlv_zzzz@${T0}`),
    });
  }
  await store.endpointStats(p, endpointId, { since: T0 - 60_000, until: T0 + 60_000, bucketMs: 10_000 });
  // What runs in the background or for the operator, whether or not the suite reached it.
  await store.countEndpointBacklog(p, endpointId, 10);
  await store.countPendingDeliveries(p, 10);
  await store.heldIdempotencyKeys(p, ['k1', 'k9'], T0);
  await store.backlog(T0);
  await store.finishEndpointDeletes(T0);
  await store.resumeStrandedParked(T0);
  await store.listUnforwardedOperationalEvents(10);
  await store.purgeBefore(p, T0 + 1, 10);
  await store.releaseClaims('*', T0);
}
