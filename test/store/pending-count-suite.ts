/**
 * Conformance of `Store.countPendingDeliveries` (intake backpressure, src/api/backlog-gate.ts): a
 * project's pending deliveries (leased ones included, parked and finished ones not), its callbacks
 * too, never another project's, capped at `atMost`; on SQLite in steps (pending-count.ts), made
 * small here so a count crosses several. Called from store-suite.ts.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { pendingStep } from '../../src/store/sqlite/pending-count.ts';
import type { Store } from '../../src/store/store.ts';
import { eventInput, projectWithEndpoints, storeTest, T0, withRows } from './helpers.ts';

const withPendingStep = <T>(rows: number, fn: () => Promise<T>): Promise<T> =>
  withRows(pendingStep, rows, fn);

export function definePendingCountSuite(name: string, open: () => Promise<Store>): void {
  const withStore = storeTest(open);
  describe(`pending count: ${name}`, () => {
    withStore('counts a project’s pending deliveries and callbacks, up to atMost, in steps', async (store) =>
      withPendingStep(2, async () => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const other = await projectWithEndpoints(store, 1);
        const count = (atMost = 1_000) => store.countPendingDeliveries(project.id, atMost);
        assert.equal(await count(), 0);
        // 4 events to 2 endpoints at different due times, one with a callback: 11 pending.
        for (let i = 0; i < 4; i++) await store.acceptEvents(project.id, [eventInput('a')], T0 + i);
        await store.acceptEvents(
          project.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' })],
          T0 + 9,
        );
        await store.acceptEvents(other.project.id, [eventInput('a')], T0);
        assert.equal(await count(), 11);
        assert.equal(await count(7), 7, 'capped at atMost');
        assert.equal(await count(1), 1);
        assert.equal(await store.countPendingDeliveries(other.project.id, 1_000), 1, 'projects apart');
        // Leased deliveries are still pending.
        const claimed = await store.claimDueDeliveries({
          limit: 3,
          leaseMs: 60_000,
          now: T0 + 10,
          workerId: 'w',
        });
        assert.equal(claimed.length, 3);
        assert.equal(await count(), 11);
        // A disable parks the endpoint's (not in flight) deliveries, a delete ends them: neither counts.
        const [first, second] = endpoints;
        await store.updateEndpoint(project.id, first!.id, { active: false }, T0 + 20);
        const inFlight = claimed.filter((c) => c.delivery.endpointId === first!.id).length;
        assert.equal(await count(), 11 - 5 + inFlight);
        assert.equal(await store.deleteEndpoint(project.id, second!.id, T0), true);
        assert.equal(await count(), 1 + inFlight, 'the callback, and the disabled endpoint’s leased ones');
      }),
    );
  });
}
