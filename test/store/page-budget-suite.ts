/**
 * Conformance of the page byte budget (src/store/page-budget.ts): listings of events, attempts,
 * endpoints and event types stop before an item that would start past the budget (pageBudget,
 * PAGE_BUDGET_BYTES in a running Herald, made small here) and continue from their cursor, so large
 * payloads, response bodies, headers or schemas never make one page a gigabyte. Called from
 * store-suite.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { PAGE_BUDGET_BYTES, pageBudget } from '../../src/store/page-budget.ts';
import type { Store } from '../../src/store/store.ts';
import {
  allPages,
  attemptRecord,
  endpointInput,
  eventInput,
  projectWithEndpoints,
  storeTest,
  T0,
} from './helpers.ts';

/** A string of `bytes` ASCII characters that compresses poorly (as real payloads mostly do). */
const blob = (bytes: number) =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes);
/**
 * The budget these tests cut pages at: what is checked is where a page stops against its budget,
 * whatever its size. At PAGE_BUDGET_BYTES (4 MiB) each test stored and read items of 2 MiB, 10 MiB
 * and more a test (random text, each listing read several times): about 30 s of the PostgreSQL
 * file on a loaded machine. 64 KiB keeps every such item a large value (TOASTed by PostgreSQL,
 * sized by octet_length, not by its stored size as values under 2 KB are).
 */
const BUDGET = 64 * 1024;
/** Just over half the budget: two such items fill a page, the third starts the next one. */
const HALF = BUDGET / 2 + 1024;

export function definePageBudgetSuite(name: string, open: () => Promise<Store>): void {
  const withStore = storeTest(open);

  describe(`store conformance: ${name}: page byte budget`, () => {
    before(() => {
      pageBudget.bytes = BUDGET;
    });
    after(() => {
      pageBudget.bytes = PAGE_BUDGET_BYTES;
    });

    withStore('listEvents: large payloads cut pages short, and the cursor goes on', async (store) => {
      const { project } = await projectWithEndpoints(store, 0);
      for (let i = 0; i < 5; i++) {
        await store.acceptEvents(
          project.id,
          [eventInput('big', { payload: { i, blob: blob(HALF) } })],
          T0 + i,
        );
      }
      await store.acceptEvents(project.id, [eventInput('small')], T0 + 10);
      const pages = await allPages((cursor) => store.listEvents(project.id, { limit: 100, cursor }));
      // The small event and two large ones (the second starts under the budget), then 2, then 1.
      assert.deepEqual(
        pages.map((p) => p.length),
        [3, 2, 1],
      );
      assert.deepEqual(
        pages.flat().map((e) => e.createdAt),
        [T0 + 10, T0 + 4, T0 + 3, T0 + 2, T0 + 1, T0],
        'every event once, newest first',
      );
      assert.equal((pages[1]![0]!.payload as { blob: string }).blob.length, HALF, 'payloads whole');
      // A limit the budget does not reach is unchanged; limit 1 pages one by one.
      assert.equal((await store.listEvents(project.id, { limit: 2 })).data.length, 2);
      const ones = await allPages((cursor) => store.listEvents(project.id, { limit: 1, cursor }));
      assert.deepEqual(
        ones.map((p) => p.length),
        [1, 1, 1, 1, 1, 1],
      );
      // The last page cut by the budget still says there is more; the final one does not.
      const first = await store.listEvents(project.id, { limit: 100 });
      assert.ok(first.nextCursor);
    });

    withStore('listAttempts: large response bodies cut pages short', async (store) => {
      const { project } = await projectWithEndpoints(store, 1);
      await store.acceptEvents(project.id, [eventInput('a'), eventInput('a'), eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w' });
      assert.equal(claims.length, 3);
      const records = claims.map((c, i) => {
        const r = attemptRecord(c.delivery, c.event, { startedAt: T0 + 10 + i });
        r.attempt.response = { status: 200, headers: {}, body: blob(HALF) };
        return r;
      });
      await store.recordAttempts(records, { now: T0 + 100, failureThreshold: 10 });
      const pages = await allPages((cursor) => store.listAttempts(project.id, { limit: 100, cursor }));
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 1],
      );
      assert.equal(new Set(pages.flat().map((a) => a.id)).size, 3);
      assert.equal(pages[0]![0]!.response!.body.length, HALF);
    });

    withStore("listAttempts: an attempt weighs its event's payload too", async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      for (let i = 0; i < 3; i++) {
        await store.acceptEvents(project.id, [eventInput('big', { payload: { blob: blob(HALF) } })], T0 + i);
      }
      const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + 5, workerId: 'w' });
      assert.equal(claims.length, 3);
      const records = claims.map((c, i) => attemptRecord(c.delivery, c.event, { startedAt: T0 + 10 + i }));
      await store.recordAttempts(records, { now: T0 + 100, failureThreshold: 10 });
      const endpointId = endpoints[0]!.id;
      const pages = await allPages((cursor) =>
        store.listAttempts(project.id, { limit: 50, cursor, endpointId }),
      );
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 1],
      );
    });

    withStore('listEndpoints: large custom headers cut pages short', async (store) => {
      const { project } = await projectWithEndpoints(store, 0);
      for (let i = 0; i < 5; i++) {
        await store.createEndpoint(
          endpointInput(project.id, { url: `http://127.0.0.1:9/big${i}`, headers: { 'x-big': blob(HALF) } }),
          `whsec_${i}`,
          T0 + i,
        );
      }
      await store.createEndpoint(endpointInput(project.id), 'whsec_small', T0 + 10);
      const pages = await allPages((cursor) => store.listEndpoints(project.id, { limit: 100, cursor }));
      assert.deepEqual(
        pages.map((p) => p.length),
        [3, 2, 1],
      );
      assert.equal(new Set(pages.flat().map((e) => e.id)).size, 6, 'every endpoint once');
      assert.equal(pages[1]![0]!.headers['x-big']!.length, HALF, 'headers whole');
      assert.equal((await store.listEndpoints(project.id, { limit: 2 })).data.length, 2);
    });

    withStore('listEventTypes: large schemas and examples cut pages short', async (store) => {
      for (const name of ['a.big', 'b.big', 'c.big']) {
        await store.upsertEventType({ name, schema: { description: blob(HALF) }, example: { x: 1 } }, T0);
      }
      await store.upsertEventType({ name: 'd.small' }, T0);
      await store.upsertEventType({ name: 'e.big', example: { blob: blob(HALF) } }, T0);
      const pages = await allPages((cursor) => store.listEventTypes({ limit: 100, cursor }));
      assert.deepEqual(
        pages.map((p) => p.map((t) => t.name)),
        [
          ['a.big', 'b.big'],
          ['c.big', 'd.small', 'e.big'],
        ],
      );
      const ones = await allPages((cursor) => store.listEventTypes({ limit: 1, cursor }));
      assert.equal(ones.length, 5);
    });
  });
}
