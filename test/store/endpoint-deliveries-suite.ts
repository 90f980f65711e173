/**
 * Conformance of Store.listEndpointDeliveries and countEndpointBacklog: what waits for one endpoint,
 * pending (leased ones too) or parked, in due order with ties by id, paged without a repeat or a
 * gap; never another endpoint's or project's, never a finished one; counts capped at `atMost`.
 * Called from store-suite.ts, so every backend runs it.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Delivery } from '../../src/domain/types.ts';
import type { EndpointDeliveryQuery, Store } from '../../src/store/store.ts';
import { attemptRecord, eventInput, projectWithEndpoints, SECOND, storeTest, T0 } from './helpers.ts';

/** Every page of the list, `limit` at a time, followed to its end. */
async function allPages(
  store: Store,
  projectId: string,
  endpointId: string,
  status: EndpointDeliveryQuery['status'],
  limit: number,
): Promise<Delivery[]> {
  const out: Delivery[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await store.listEndpointDeliveries(projectId, endpointId, { status, limit, cursor });
    assert.ok(page.data.length <= limit);
    out.push(...page.data);
    cursor = page.nextCursor;
    if (cursor === null) return out;
  }
  throw new Error('the list did not end');
}

const dueOrder = (a: Delivery, b: Delivery) =>
  a.nextAttemptAt! - b.nextAttemptAt! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function defineEndpointDeliveriesSuite(name: string, open: () => Promise<Store>): void {
  const withStore = storeTest(open);
  describe(`endpoint deliveries: ${name}`, () => {
    withStore(
      'lists an endpoint’s pending deliveries in due order, ties by id, page by page',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [target, neighbour] = endpoints;
        const other = await projectWithEndpoints(store, 1);
        // Batches of 3 share a due time (the ties); later batches are due later.
        for (let i = 0; i < 4; i++) {
          await store.acceptEvents(
            project.id,
            [eventInput('a'), eventInput('a'), eventInput('a')],
            T0 + i * SECOND,
          );
        }
        await store.acceptEvents(other.project.id, [eventInput('a')], T0);
        // The first batch's deliveries are claimed: one fails and is due again after the others, one
        // succeeds (finished: not waiting), one stays leased (in flight: still pending).
        const claimed = (
          await store.claimDueDeliveries({ limit: 100, leaseMs: 60_000, now: T0, workerId: 'w1' })
        )
          .filter((c) => c.delivery.endpointId === target!.id)
          .sort((a, b) => dueOrder(a.delivery, b.delivery));
        assert.equal(claimed.length, 3, 'the first batch, due at T0');
        const [retried, succeeded, leased] = claimed;
        await store.recordAttempts(
          [
            attemptRecord(retried!.delivery, retried!.event, {
              outcome: 'failed',
              nextAttemptAt: T0 + 120 * SECOND,
              workerId: 'w1',
            }),
            attemptRecord(succeeded!.delivery, succeeded!.event, { workerId: 'w1' }),
          ],
          { now: T0 + 1, failureThreshold: 100 },
        );

        const whole = await store.listEndpointDeliveries(project.id, target!.id, {
          status: 'pending',
          limit: 100,
        });
        assert.equal(whole.nextCursor, null);
        assert.equal(whole.data.length, 11, '12 made, 1 succeeded');
        assert.ok(whole.data.every((d) => d.endpointId === target!.id && d.status === 'pending'));
        // The one in flight is placed by its lease's end (SQLite) or the due time it had when taken
        // (PostgreSQL): the others are in due order around it.
        const waiting = whole.data.filter((d) => d.id !== leased!.delivery.id);
        assert.deepEqual(
          waiting.map((d) => d.id),
          [...waiting].sort(dueOrder).map((d) => d.id),
          'due order',
        );
        assert.equal(waiting.at(-1)!.id, retried!.delivery.id, 'the retry, due last');
        assert.equal(waiting.at(-1)!.attempts, 1);
        const inFlight = whole.data.find((d) => d.id === leased!.delivery.id);
        assert.ok(inFlight?.leasedUntil, 'the leased one is listed, in flight');
        assert.ok(!whole.data.some((d) => d.id === succeeded!.delivery.id));

        // Every page size crosses the ties and gives the same list, each delivery once.
        for (const limit of [1, 2, 3, 5]) {
          const paged = await allPages(store, project.id, target!.id, 'pending', limit);
          assert.deepEqual(
            paged.map((d) => d.id),
            whole.data.map((d) => d.id),
            `pages of ${limit}`,
          );
        }
        const first = await store.listEndpointDeliveries(project.id, target!.id, {
          status: 'pending',
          limit: 4,
        });
        assert.equal(first.data.length, 4);
        assert.notEqual(first.nextCursor, null);

        // Nothing parked yet; the neighbour has its own 12; another project's endpoint is not this one.
        assert.deepEqual(
          (await store.listEndpointDeliveries(project.id, target!.id, { status: 'parked', limit: 10 })).data,
          [],
        );
        assert.equal(
          (await store.listEndpointDeliveries(project.id, neighbour!.id, { status: 'pending', limit: 100 }))
            .data.length,
          12,
        );
        assert.deepEqual(
          (await store.listEndpointDeliveries(other.project.id, target!.id, { status: 'pending', limit: 10 }))
            .data,
          [],
          'another project cannot read this endpoint’s',
        );
        assert.deepEqual(await store.countEndpointBacklog(project.id, target!.id, 10_000), {
          pending: 11,
          parked: 0,
        });
      },
    );

    withStore(
      'lists and counts parked deliveries once the endpoint is disabled, capped counts',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const [endpoint] = endpoints;
        for (let i = 0; i < 5; i++) await store.acceptEvents(project.id, [eventInput('a')], T0 + i);
        assert.deepEqual(await store.countEndpointBacklog(project.id, endpoint!.id, 10_000), {
          pending: 5,
          parked: 0,
        });
        assert.deepEqual(await store.countEndpointBacklog(project.id, endpoint!.id, 3), {
          pending: 3,
          parked: 0,
        });

        await store.updateEndpoint(project.id, endpoint!.id, { active: false }, T0 + 10);
        assert.deepEqual(await store.countEndpointBacklog(project.id, endpoint!.id, 10_000), {
          pending: 0,
          parked: 5,
        });
        assert.deepEqual(await store.countEndpointBacklog(project.id, endpoint!.id, 2), {
          pending: 0,
          parked: 2,
        });
        const parked = await allPages(store, project.id, endpoint!.id, 'parked', 2);
        assert.equal(parked.length, 5);
        assert.ok(parked.every((d) => d.status === 'parked'));
        assert.deepEqual(
          parked.map((d) => d.createdAt),
          [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4],
          'in the order they were due when parked (each was due when it was made)',
        );
        assert.ok(
          parked.every((d) => d.nextAttemptAt === null),
          'nothing is due while parked',
        );
        assert.deepEqual(
          (await store.listEndpointDeliveries(project.id, endpoint!.id, { status: 'pending', limit: 10 }))
            .data,
          [],
        );

        // Deleted: its deliveries failed for good, nothing waits.
        assert.equal(await store.deleteEndpoint(project.id, endpoint!.id, T0), true);
        assert.deepEqual(await store.countEndpointBacklog(project.id, endpoint!.id, 10_000), {
          pending: 0,
          parked: 0,
        });
      },
    );
  });
}
