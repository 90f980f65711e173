/**
 * Conformance of the dispatcher's view of endpoints (`getDispatchEndpoints`) over time: whatever a
 * store keeps between reads (the SQLite store caches it by dispatch_version), every change to an
 * endpoint or its secrets shows in the next read, field for field as the management reads return
 * it. Called from store-suite.ts, so every backend runs it.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Store } from '../../src/store/store.ts';
import { attemptRecord, eventInput, HOUR, projectWithEndpoints, SECOND, storeTest, T0 } from './helpers.ts';

export function defineDispatchViewSuite(name: string, open: () => Promise<Store>): void {
  const withStore = storeTest(open);

  describe(`${name}: the dispatcher's view of endpoints`, () => {
    withStore('every change to an endpoint or its secrets shows in the next read', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      const [ep, other] = [endpoints[0]!, endpoints[1]!];
      const refs = [
        { projectId: project.id, endpointId: ep.id },
        { projectId: project.id, endpointId: other.id },
      ];
      /** The view at `now`, checked against the management reads at the same moment. */
      const view = async (now: number) => {
        const map = await store.getDispatchEndpoints(refs, now);
        for (const [id, value] of map) {
          assert.deepEqual(value.endpoint, await store.getEndpoint(project.id, id));
          assert.deepEqual(value.secrets, await store.getEndpointSecrets(project.id, id, now));
        }
        return map;
      };
      let now = T0 + SECOND;
      assert.deepEqual(
        (await view(now)).get(ep.id)?.secrets.map((s) => s.secret),
        ['whsec_0'],
      );
      await view(now); // read twice: a store that keeps it answers the same

      // Settings.
      await store.updateEndpoint(
        project.id,
        ep.id,
        { url: 'http://127.0.0.1:9/moved', headers: { 'x-a': '1' } },
        now,
      );
      const moved = (await view(now)).get(ep.id)!;
      assert.equal(moved.endpoint.url, 'http://127.0.0.1:9/moved');
      assert.deepEqual(moved.endpoint.headers, { 'x-a': '1' });

      // A rotation, then the retired secret's grace running out (no write at all).
      await store.rotateEndpointSecret(project.id, ep.id, 'whsec_new', HOUR, now);
      assert.deepEqual(
        (await view(now)).get(ep.id)?.secrets.map((s) => s.secret),
        ['whsec_new', 'whsec_0'],
      );
      assert.deepEqual(
        (await view(now + HOUR - 1)).get(ep.id)?.secrets.map((s) => s.secret),
        ['whsec_new', 'whsec_0'],
      );
      now += HOUR;
      assert.deepEqual(
        (await view(now)).get(ep.id)?.secrets.map((s) => s.secret),
        ['whsec_new'],
      );

      // The dispatcher's own writes: a failure count, then a disable at the threshold.
      await store.acceptEvents(project.id, [eventInput('a')], now);
      const claimed = await store.claimDueDeliveries({ limit: 10, leaseMs: 60 * SECOND, now, workerId: 'w' });
      const mine = claimed.filter((c) => c.delivery.endpointId === ep.id);
      assert.equal(mine.length, 1);
      await store.recordAttempts(
        [attemptRecord(mine[0]!.delivery, mine[0]!.event, { outcome: 'failed', startedAt: now })],
        {
          now,
          failureThreshold: 2,
        },
      );
      assert.equal((await view(now)).get(ep.id)?.endpoint.consecutiveFailures, 1);
      const again = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: now + HOUR,
        workerId: 'w',
      });
      const retry = again.find((c) => c.delivery.endpointId === ep.id);
      assert.ok(retry, 'the failed delivery is due again');
      const result = await store.recordAttempts(
        [attemptRecord(retry!.delivery, retry!.event, { outcome: 'failed', startedAt: now + HOUR })],
        { now: now + HOUR, failureThreshold: 2 },
      );
      assert.equal(result.disabledEndpoints.length, 1);
      assert.equal((await view(now + HOUR)).get(ep.id)?.endpoint.status, 'disabled');
      await store.enableEndpoint(project.id, ep.id, now + HOUR);
      assert.equal((await view(now + HOUR)).get(ep.id)?.endpoint.status, 'active');

      // Deleted: gone from the view; the other endpoint is untouched throughout.
      assert.equal(await store.deleteEndpoint(project.id, ep.id, T0), true);
      const last = await view(now + HOUR);
      assert.deepEqual([...last.keys()], [other.id]);
      assert.equal(last.get(other.id)?.endpoint.url, other.url);

      // The project deleted: nothing.
      await store.deleteProject(project.id);
      assert.equal((await store.getDispatchEndpoints(refs, now + HOUR)).size, 0);
    });
  });
}
