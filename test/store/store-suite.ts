/**
 * The store conformance suite: every backend runs it (`defineStoreSuite('sqlite', …)`,
 * `defineStoreSuite('postgres', …)`). Written only against the Store interface; backend
 * differences come from `store.capabilities`, never from the backend's name.
 */

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { attemptRecord as outcomeRecord } from '../../src/delivery/attempt-outcome.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import type { Attempt, Delivery, Endpoint, EndpointSecret } from '../../src/domain/types.ts';
import { WINDOW_SKIP_MS } from '../../src/store/claim-limits.ts';
import { CALLBACKS_ID } from '../../src/store/claim-turns.ts';
import { parkBatch } from '../../src/store/park-batch.ts';
import { recoverBatch } from '../../src/store/recover-batch.ts';
import { percentile95 } from '../../src/store/row-mapping.ts';
import {
  type ClaimedDelivery,
  MAX_VALID_SECRETS,
  type Store,
  StoreConflictError,
  StoreTooManyDeliveriesError,
} from '../../src/store/store.ts';
import { defineDispatchViewSuite } from './dispatch-view-suite.ts';
import { defineEndpointDeliveriesSuite } from './endpoint-deliveries-suite.ts';
import {
  allPages,
  attemptRecord,
  callbackBacklogBeforeAnotherTenant,
  DAY,
  endpointInput,
  eventInput,
  HOUR,
  leaseTakenOver,
  projectWithEndpoints,
  SECOND,
  storeTest,
  T0,
  withRows,
} from './helpers.ts';
import { defineLimitsRetentionSuite } from './limits-retention-suite.ts';
import { definePageBudgetSuite } from './page-budget-suite.ts';
import { definePendingCountSuite } from './pending-count-suite.ts';
import { defineProjectDeleteSuite } from './project-delete-suite.ts';
import { defineReplaySuite } from './replay-suite.ts';

/** The secrets a rotation answered (it must have rotated). */
function rotated(
  result: { endpoint: Endpoint; secrets: EndpointSecret[] } | 'same-as-current' | null,
): EndpointSecret[] {
  assert.ok(typeof result === 'object' && result !== null, `rotation answered ${String(result)}`);
  return result.secrets;
}

/** 3,000 due deliveries for the project's endpoints, older than anything a test adds after them. */
/** The record of a 410 for a claimed delivery: it disables the endpoint (effect gone). */
const goneRecord = (c: ClaimedDelivery) =>
  attemptRecord(c.delivery, c.event, { outcome: 'failed', status: 'failed', effect: 'gone' });

/** Every due delivery at T0, leased for a minute by w1. */
const claimAtStart = (store: Store) =>
  store.claimDueDeliveries({ limit: 10, leaseMs: 60 * SECOND, now: T0, workerId: 'w1' });

/** Runs `fn` with a disable parking `rows` deliveries per write (park-batch.ts), then restores it. */
const withParkBatch = <T>(rows: number, fn: () => Promise<T>): Promise<T> => withRows(parkBatch, rows, fn);

/** Claims everything due at `now` and checks that the endpoint's claimed deliveries are `ids`. */
async function claimedAll(store: Store, endpointId: string, ids: string[], now: number) {
  const claims = await store.claimDueDeliveries({ limit: 100, leaseMs: 1000, now, workerId: 'w' });
  const claimed = claims.filter((c) => c.delivery.endpointId === endpointId).map((c) => c.delivery.id);
  assert.deepEqual(claimed.sort(), [...ids].sort());
  return claims;
}

/** One event accepted at `t`, its deliveries claimed and failed for good (or succeeded, with `ok`). */
async function deliveredAt(store: Store, projectId: string, t: number, ok = false) {
  await store.acceptEvents(projectId, [eventInput('a')], t);
  const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: t, workerId: 'w1' });
  const how = ok ? { startedAt: t } : ({ outcome: 'failed', status: 'failed', startedAt: t } as const);
  await store.recordAttempts(
    claims.map((c) => attemptRecord(c.delivery, c.event, how)),
    { now: t, failureThreshold: 1000 },
  );
  return claims;
}

/**
 * On SQLite (one writer at a time), a write asked for while later batches run goes between two
 * of them, not after them all: some deliveries still have their old status. (PostgreSQL writes run
 * side by side: only the counts tell there.)
 */
async function assertWriteInterleaves(
  store: Store,
  statuses: () => Promise<(string | undefined)[]>,
  old: string,
  what: string,
) {
  await store.createProject({ name: 'meanwhile' }, T0 + 2);
  if (store.capabilities.multiProcess) return;
  assert.ok((await statuses()).includes(old), `a write asked for meanwhile did not wait for all the ${what}`);
}

async function deepBacklog(store: Store, projectId: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await store.acceptEvents(
      projectId,
      Array.from({ length: 100 }, () => eventInput('a')),
      T0 + i,
    );
  }
}

/**
 * Defines the suite. `open` must return a migrated store over an EMPTY database each time it is
 * called (claims and backlog are operator-wide, so leftovers of another test would be seen).
 */
export function defineStoreSuite(
  name: string,
  open: () => Promise<Store>,
  /** Another store on the database `open` returned last, as the next process would open it. */
  reopen: () => Promise<Store>,
): void {
  /** Runs `fn` on a fresh store and always closes it. */
  const withStore = storeTest(open);

  describe(`store conformance: ${name}`, () => {
    withStore('migrate is idempotent and ping answers', async (store) => {
      await store.migrate();
      assert.deepEqual(await store.migrate(), { applied: [], unknown: [] });
      // Read without migrating (src/schema-watch.ts); test/e2e/schema-newer-while-running.test.ts
      // records newer migrations on both stores.
      assert.deepEqual(await store.unknownMigrations(), []);
      await store.ping();
      assert.equal(typeof store.capabilities.multiProcess, 'boolean');
      assert.equal(typeof store.capabilities.crossProcessWakeups, 'boolean');
    });

    withStore('projects: create, get by id or uid, update, uid conflicts, list pages', async (store) => {
      const a = await store.createProject(
        {
          name: 'Alpha',
          uid: 'alpha',
          retrySchedule: [1, 2],
          enforceCatalog: true,
          backlogLimit: 1_000_000_000,
        },
        T0,
      );
      assert.match(a.id, /^prj_/);
      assert.deepEqual(
        {
          uid: a.uid,
          name: a.name,
          retrySchedule: a.retrySchedule,
          enforceCatalog: a.enforceCatalog,
          backlogLimit: a.backlogLimit,
          createdAt: a.createdAt,
        },
        {
          uid: 'alpha',
          name: 'Alpha',
          retrySchedule: [1, 2],
          enforceCatalog: true,
          backlogLimit: 1_000_000_000,
          createdAt: T0,
        },
      );
      assert.deepEqual(await store.getProject(a.id), a);
      assert.deepEqual(await store.getProject('alpha'), a);
      assert.equal(await store.getProject('nope'), null);
      const b = await store.createProject({ name: 'Beta' }, T0 + 1);
      assert.equal(b.uid, null);
      assert.equal(b.retrySchedule, null);
      assert.equal(b.enforceCatalog, false);
      assert.equal(b.backlogLimit, null, "no limit of its own: the installation's");
      await assert.rejects(
        store.createProject({ name: 'Dup', uid: 'alpha' }, T0 + 2),
        (e: unknown) => e instanceof StoreConflictError && e.field === 'uid',
      );
      await assert.rejects(
        store.updateProject(b.id, { uid: 'alpha' }, T0 + 3),
        (e: unknown) => e instanceof StoreConflictError && e.field === 'uid',
      );
      const b2 = await store.updateProject(
        b.id,
        { name: 'Beta 2', uid: 'beta', retrySchedule: null },
        T0 + 4,
      );
      assert.equal(b2?.name, 'Beta 2');
      assert.equal(b2?.uid, 'beta');
      assert.equal(b2?.updatedAt, T0 + 4);
      assert.equal(b2?.backlogLimit, null, 'a patch without it leaves it');
      // Set, kept by a patch of something else, 0 (no limit) kept apart from null, and back to null.
      const limited = await store.updateProject(b.id, { backlogLimit: 500 }, T0 + 5);
      assert.equal(limited?.backlogLimit, 500);
      assert.equal((await store.updateProject(b.id, { name: 'Beta 3' }, T0 + 6))?.backlogLimit, 500);
      assert.equal((await store.getProject('beta'))?.backlogLimit, 500);
      assert.equal((await store.updateProject(b.id, { backlogLimit: 0 }, T0 + 7))?.backlogLimit, 0);
      assert.equal((await store.getProject(b.id))?.backlogLimit, 0);
      assert.equal((await store.updateProject(b.id, { backlogLimit: null }, T0 + 8))?.backlogLimit, null);
      assert.equal((await store.getProject(b.id))?.backlogLimit, null);
      assert.equal(
        (await store.getProject(a.id))?.backlogLimit,
        1_000_000_000,
        'the other project kept its own',
      );
      assert.equal(await store.updateProject('prj_missing', { name: 'x' }, T0), null);
      for (let i = 0; i < 3; i++) await store.createProject({ name: `P${i}` }, T0 + 10 + i);
      const pages = await allPages((cursor) => store.listProjects({ limit: 2, cursor }));
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 2, 1],
      );
      const names = pages.flat().map((p) => p.name);
      assert.deepEqual(names, ['P2', 'P1', 'P0', 'Beta 3', 'Alpha'], 'newest first');
    });

    withStore(
      'revokePortalLinks: sets portalLinksNotBefore, never earlier, leaves the rest and other projects',
      async (store) => {
        const a = await store.createProject({ name: 'A', uid: 'a', retrySchedule: [5] }, T0);
        const b = await store.createProject({ name: 'B' }, T0 + 1);
        assert.equal(a.portalLinksNotBefore, null);
        assert.equal(await store.revokePortalLinks(a.id, T0 + 100), true);
        const revoked = await store.getProject(a.id);
        assert.deepEqual(
          revoked,
          { ...a, portalLinksNotBefore: T0 + 100, portalLinksGeneration: 1 },
          'only the marks change',
        );
        assert.deepEqual(await store.getProject('a'), revoked);
        assert.equal((await store.getProject(b.id))?.portalLinksNotBefore, null);
        // A later revocation moves it on; an earlier one (a process with a slow clock) does not move it back.
        assert.equal(await store.revokePortalLinks(a.id, T0 + 200), true);
        assert.equal((await store.getProject(a.id))?.portalLinksNotBefore, T0 + 200);
        assert.equal(await store.revokePortalLinks(a.id, T0 + 150), true);
        assert.equal((await store.getProject(a.id))?.portalLinksNotBefore, T0 + 200);
        // Listing and updating the project keep it.
        const listed = (await store.listProjects({ limit: 10, cursor: null })).data.find(
          (p) => p.id === a.id,
        );
        assert.equal(listed?.portalLinksNotBefore, T0 + 200);
        const updated = await store.updateProject(a.id, { name: 'A2' }, T0 + 300);
        assert.equal(updated?.portalLinksNotBefore, T0 + 200);
        // Epoch milliseconds of today survive the column (BIGINT on PostgreSQL).
        const later = Date.UTC(2030, 0, 1, 12, 0, 0, 123);
        assert.equal(await store.revokePortalLinks(b.id, later), true);
        assert.equal((await store.getProject(b.id))?.portalLinksNotBefore, later);
        assert.equal(await store.revokePortalLinks('prj_missing', T0), false);
        assert.equal(await store.deleteProject(a.id), true);
        assert.equal(await store.revokePortalLinks(a.id, T0 + 400), false);
      },
    );

    withStore(
      'revokePortalLinks: increments portalLinksGeneration whatever `now` says, only of that project; a deleted project returns false',
      async (store) => {
        const a = await store.createProject({ name: 'A' }, T0);
        const b = await store.createProject({ name: 'B' }, T0 + 1);
        assert.equal(a.portalLinksGeneration, 0, 'a new project is of generation 0');
        assert.equal(await store.revokePortalLinks(a.id, T0 + 100), true);
        assert.equal((await store.getProject(a.id))?.portalLinksGeneration, 1);
        // A revoker whose clock is behind (an earlier `now`) still ends the links made until then.
        assert.equal(await store.revokePortalLinks(a.id, T0 + 50), true);
        assert.equal((await store.getProject(a.id))?.portalLinksGeneration, 2);
        // Two revocations at once both count (one UPDATE each, no read-then-write).
        await Promise.all([store.revokePortalLinks(a.id, T0 + 200), store.revokePortalLinks(a.id, T0 + 200)]);
        assert.equal((await store.getProject(a.id))?.portalLinksGeneration, 4);
        assert.equal((await store.getProject(b.id))?.portalLinksGeneration, 0, 'other projects untouched');
        // Listing and updating the project keep it; the generation comes back as a number.
        const listed = (await store.listProjects({ limit: 10, cursor: null })).data.find(
          (p) => p.id === a.id,
        );
        assert.strictEqual(listed?.portalLinksGeneration, 4);
        assert.strictEqual(
          (await store.updateProject(a.id, { name: 'A2' }, T0 + 300))?.portalLinksGeneration,
          4,
        );
        assert.equal(await store.revokePortalLinks('prj_missing', T0), false);
        assert.equal(await store.deleteProject(a.id), true);
        assert.equal(await store.revokePortalLinks(a.id, T0 + 400), false);
        assert.equal((await store.getProject(b.id))?.portalLinksGeneration, 0);
      },
    );

    withStore('deleteProject removes the project and everything it owns', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const other = await projectWithEndpoints(store, 1);
      const key = await store.createApiKey(
        { projectId: project.id, name: 'k', prefix: 'hk_a', keyHash: 'h1' },
        T0,
      );
      const [accepted] = await store.acceptEvents(
        project.id,
        [eventInput('a', { idempotencyKey: 'k1' })],
        T0,
      );
      const [otherAccepted] = await store.acceptEvents(other.project.id, [eventInput('a')], T0);
      assert.ok(accepted && otherAccepted);
      const [claimed] = await store
        .claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w1' })
        .then((c) => c.filter((x) => x.delivery.projectId === project.id));
      assert.ok(claimed);
      await store.recordAttempts(
        [attemptRecord(claimed.delivery, claimed.event, { outcome: 'failed', effect: 'failure' })],
        {
          now: T0,
          failureThreshold: 1,
        },
      );
      assert.equal(await store.deleteProject(project.id), true);
      assert.equal(await store.deleteProject(project.id), false);
      assert.equal(await store.getProject(project.id), null);
      assert.equal(await store.findApiKeyByHash(key.keyHash), null);
      assert.equal(await store.getEndpoint(project.id, endpoints[0]!.id), null);
      assert.equal(await store.getEvent(project.id, accepted.event.id), null);
      assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 0);
      assert.equal((await store.listOperationalEvents(project.id, { limit: 10 })).data.length, 0);
      // A new project may reuse nothing of the old one; the other project is untouched.
      assert.ok(await store.getEvent(other.project.id, otherAccepted.event.id));
      const backlog = await store.backlog(T0 + 10 * SECOND);
      assert.equal(backlog.pending, 1, 'only the other project’s delivery is left');
    });

    withStore('an attempt recorded after its project was deleted leaves no row behind', async (store) => {
      const gone = await projectWithEndpoints(store, 1);
      const kept = await projectWithEndpoints(store, 1);
      await store.acceptEvents(gone.project.id, [eventInput('a'), eventInput('a')], T0);
      await store.acceptEvents(kept.project.id, [eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w1' });
      assert.equal(claims.length, 3);
      assert.equal(await store.deleteProject(gone.project.id), true);
      // The attempts were out while the project went: one succeeded, one failed for good.
      const records = claims.map((c, i) =>
        attemptRecord(c.delivery, c.event, {
          startedAt: T0 + 1 + i,
          ...(c.delivery.projectId === gone.project.id && i % 2
            ? { outcome: 'failed', status: 'failed' }
            : {}),
        }),
      );
      await store.recordAttempts(records, { now: T0 + 10, failureThreshold: 100 });
      assert.deepEqual((await store.listAttempts(gone.project.id, { limit: 10 })).data, []);
      assert.deepEqual((await store.listOperationalEvents(gone.project.id, { limit: 10 })).data, []);
      const survivor = (await store.listAttempts(kept.project.id, { limit: 10 })).data;
      assert.equal(survivor.length, 1, 'the live project’s attempt of the same batch is kept');
      assert.equal(survivor[0]!.endpointId, kept.endpoints[0]!.id);
    });

    withStore(
      'a record write tried again after its first was stored answers what the first did, once',
      async (store) => {
        // The first write committed but its answer was lost (a PostgreSQL connection cut during
        // COMMIT): the caller tries it again (`retried`) and must learn what the first write did.
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const claims = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60_000,
          now: T0,
          workerId: 'w1',
        });
        assert.equal(claims.length, 2);
        const failing = claims.find((c) => c.delivery.endpointId === endpoints[0]!.id)!;
        const fine = claims.find((c) => c.delivery.endpointId === endpoints[1]!.id)!;
        const records = [
          attemptRecord(failing.delivery, failing.event, { outcome: 'failed', startedAt: T0 + 1 }),
          attemptRecord(fine.delivery, fine.event, { startedAt: T0 + 2 }),
        ];
        const options = { now: T0 + 10, failureThreshold: 1 };
        const first = await store.recordAttempts(records, options);
        assert.deepEqual(first.statuses, ['parked', 'succeeded']);
        assert.deepEqual(first.disabledEndpoints, [
          { projectId: project.id, endpointId: endpoints[0]!.id, reason: 'consecutive_failures' },
        ]);
        const again = await store.recordAttempts(records, { ...options, retried: true });
        assert.deepEqual(again, first, 'the result of the write that was stored');
        assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 2, 'stored once');
        assert.equal((await store.getDelivery(project.id, failing.delivery.id))!.attempts, 1);
        const disabledEvents = (await store.listOperationalEvents(project.id, { limit: 10 })).data.filter(
          (e) => e.type === 'endpoint.disabled',
        );
        assert.equal(disabledEvents.length, 1);
        // Not stored before: a retried write writes it.
        await store.acceptEvents(project.id, [eventInput('a')], T0 + 20);
        const [next] = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60_000,
          now: T0 + 20,
          workerId: 'w1',
        });
        assert.ok(next);
        const late = await store.recordAttempts(
          [attemptRecord(next.delivery, next.event, { startedAt: T0 + 21 })],
          {
            now: T0 + 30,
            failureThreshold: 1,
            retried: true,
          },
        );
        assert.deepEqual(late, { disabledEndpoints: [], statuses: ['succeeded'] });
        assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 3);
      },
    );

    withStore('API keys: create, find by hash, list, delete within the project only', async (store) => {
      const p = await store.createProject({ name: 'p' }, T0);
      const q = await store.createProject({ name: 'q' }, T0);
      const k1 = await store.createApiKey(
        { projectId: p.id, name: 'one', prefix: 'hk_1', keyHash: 'hash1' },
        T0,
      );
      const k2 = await store.createApiKey(
        { projectId: p.id, name: 'two', prefix: 'hk_2', keyHash: 'hash2' },
        T0 + 1,
      );
      assert.match(k1.id, /^key_/);
      assert.equal(k1.lastUsedAt, null);
      assert.deepEqual(await store.findApiKeyByHash('hash2'), k2);
      assert.equal(await store.findApiKeyByHash('hash3'), null);
      assert.deepEqual(
        (await store.listApiKeys(p.id)).map((k) => k.id),
        [k2.id, k1.id],
      );
      assert.deepEqual(await store.listApiKeys(q.id), []);
      assert.deepEqual(await store.getApiKey(p.id, k1.id), k1);
      assert.equal(await store.getApiKey(q.id, k1.id), null, 'another project does not have it');
      assert.equal(await store.getApiKey(p.id, 'key_none'), null);
      assert.equal(await store.deleteApiKey(q.id, k1.id), false, 'another project cannot delete it');
      assert.equal(await store.deleteApiKey(p.id, k1.id), true);
      assert.equal(await store.findApiKeyByHash('hash1'), null);
      assert.equal(await store.getApiKey(p.id, k1.id), null, 'deleted');
    });

    withStore('API keys: a scope is kept as given, full when none is', async (store) => {
      const p = await store.createProject({ name: 'p' }, T0);
      const full = await store.createApiKey(
        { projectId: p.id, name: 'f', prefix: 'hk_f', keyHash: 'hf' },
        T0,
      );
      const send = await store.createApiKey(
        { projectId: p.id, name: 's', prefix: 'hk_s', keyHash: 'hs', scope: 'send' },
        T0 + 1,
      );
      const read = await store.createApiKey(
        { projectId: p.id, name: 'r', prefix: 'hk_r', keyHash: 'hr', scope: 'read' },
        T0 + 2,
      );
      assert.deepEqual([full.scope, send.scope, read.scope], ['full', 'send', 'read']);
      // Authentication reads it with the key, and listings show it.
      assert.equal((await store.findApiKeyByHash('hs'))?.scope, 'send');
      assert.equal((await store.getApiKey(p.id, read.id))?.scope, 'read');
      assert.deepEqual(
        (await store.listApiKeys(p.id)).map((k) => [k.name, k.scope]),
        [
          ['r', 'read'],
          ['s', 'send'],
          ['f', 'full'],
        ],
      );
    });

    withStore(
      'API keys: a use sets lastUsedAt, at most once per coarse interval, within the project only',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const q = await store.createProject({ name: 'q' }, T0);
        const k = await store.createApiKey(
          { projectId: p.id, name: 'k', prefix: 'hk_k', keyHash: 'hashk' },
          T0,
        );
        const lastUsed = async () => (await store.findApiKeyByHash('hashk'))!.lastUsedAt;
        await store.touchApiKey(q.id, k.id, T0 + SECOND, 60 * SECOND);
        assert.equal(await lastUsed(), null, 'another project cannot touch it');
        await store.touchApiKey(p.id, k.id, T0 + SECOND, 60 * SECOND);
        assert.equal(await lastUsed(), T0 + SECOND);
        await store.touchApiKey(p.id, k.id, T0 + 30 * SECOND, 60 * SECOND);
        assert.equal(await lastUsed(), T0 + SECOND, 'within the interval: unchanged');
        await store.touchApiKey(p.id, k.id, T0 + 62 * SECOND, 60 * SECOND);
        assert.equal(await lastUsed(), T0 + 62 * SECOND);
        assert.equal((await store.listApiKeys(p.id))[0]!.lastUsedAt, T0 + 62 * SECOND);
      },
    );

    withStore(
      'event types: concurrent upserts that leave out different fields lose none of them',
      async (store) => {
        // PostgreSQL read the entry, then wrote the merge in a statement of its own: two PUTs at once
        // each wrote back the field the other changed, as it was before either.
        const names = Array.from({ length: 20 }, (_, i) => `order.${i}`);
        for (const name of names) {
          await store.upsertEventType({ name, description: 'old', example: { v: 0 } }, T0);
        }
        await Promise.all(
          names.flatMap((name) => [
            store.upsertEventType({ name, description: 'new' }, T0 + 1),
            store.upsertEventType({ name, deprecated: true }, T0 + 1),
            store.upsertEventType({ name, example: { v: 1 } }, T0 + 1),
            store.upsertEventType({ name, schema: { type: 'object' } }, T0 + 1),
          ]),
        );
        for (const name of names) {
          const t = await store.getEventType(name);
          assert.deepEqual(
            [t?.description, t?.deprecated, t?.example, t?.schema, t?.createdAt],
            ['new', true, { v: 1 }, { type: 'object' }, T0],
            name,
          );
        }
      },
    );

    withStore('event types: upsert keeps unspecified fields, list by name with pages', async (store) => {
      const t = await store.upsertEventType(
        { name: 'order.created', description: 'An order', schema: { type: 'object' }, example: { id: 1 } },
        T0,
      );
      assert.deepEqual(
        { ...t },
        {
          name: 'order.created',
          description: 'An order',
          schema: { type: 'object' },
          example: { id: 1 },
          deprecated: false,
          createdAt: T0,
          updatedAt: T0,
        },
      );
      const u = await store.upsertEventType({ name: 'order.created', deprecated: true }, T0 + 5);
      assert.equal(u.description, 'An order');
      assert.deepEqual(u.schema, { type: 'object' });
      assert.equal(u.deprecated, true);
      assert.equal(u.createdAt, T0);
      assert.equal(u.updatedAt, T0 + 5);
      const cleared = await store.upsertEventType({ name: 'order.created', schema: null }, T0 + 6);
      assert.equal(cleared.schema, null);
      await store.upsertEventType({ name: 'a.first' }, T0);
      await store.upsertEventType({ name: 'z.last' }, T0);
      assert.equal(await store.getEventType('missing'), null);
      assert.equal(await store.hasEventType('missing'), false);
      assert.equal(await store.hasEventType('order.created'), true);
      const pages = await allPages((cursor) => store.listEventTypes({ limit: 2, cursor }));
      assert.deepEqual(
        pages.map((p) => p.map((x) => x.name)),
        [['a.first', 'order.created'], ['z.last']],
      );
    });

    withStore(
      'patches at the same time: each applies to the row as the other left it, none is lost',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const e = await store.createEndpoint(endpointInput(p.id, { eventTypes: ['a'] }), 's', T0);
        // Started together: each store call reads the row before the other's write if it reads outside it.
        await Promise.all([
          store.updateEndpoint(p.id, e.id, { name: 'renamed' }, T0 + 1),
          store.updateEndpoint(p.id, e.id, { url: 'http://127.0.0.1:9/moved', timeoutMs: 1234 }, T0 + 2),
          store.updateEndpoint(p.id, e.id, { eventTypes: ['b'], headers: { 'x-k': 'v' } }, T0 + 3),
        ]);
        const after = await store.getEndpoint(p.id, e.id);
        assert.equal(after?.name, 'renamed');
        assert.equal(after?.url, 'http://127.0.0.1:9/moved');
        assert.equal(after?.timeoutMs, 1234);
        assert.deepEqual(after?.eventTypes, ['b']);
        assert.deepEqual(after?.headers, { 'x-k': 'v' });
        // Two disables at once park once and record one operational event.
        await Promise.all([
          store.updateEndpoint(p.id, e.id, { active: false }, T0 + 4),
          store.updateEndpoint(p.id, e.id, { active: false }, T0 + 5),
        ]);
        const ops = await store.listOperationalEvents(p.id, { limit: 10 });
        assert.equal(ops.data.filter((o) => o.type === 'endpoint.disabled').length, 1);

        await Promise.all([
          store.updateProject(p.id, { name: 'p2' }, T0 + 6),
          store.updateProject(p.id, { retrySchedule: [5, 10] }, T0 + 7),
          store.updateProject(p.id, { enforceCatalog: true }, T0 + 8),
        ]);
        const project = await store.getProject(p.id);
        assert.equal(project?.name, 'p2');
        assert.deepEqual(project?.retrySchedule, [5, 10]);
        assert.equal(project?.enforceCatalog, true);
      },
    );

    withStore('endpoints: create, get, list pages, update, delete', async (store) => {
      const p = await store.createProject({ name: 'p' }, T0);
      const e = await store.createEndpoint(
        endpointInput(p.id, {
          url: 'http://127.0.0.1:9/a',
          eventTypes: ['a'],
          headers: { 'x-k': 'v' },
          rateLimit: { perSecond: 5 },
          retrySchedule: [1, 2],
          signature: { scheme: 'github' },
          envelope: 'raw',
          method: 'PUT',
        }),
        'whsec_first',
        T0,
      );
      assert.match(e.id, /^ep_/);
      assert.equal(e.status, 'active');
      assert.equal(e.consecutiveFailures, 0);
      assert.deepEqual(e.eventTypes, ['a']);
      assert.deepEqual(e.headers, { 'x-k': 'v' });
      assert.deepEqual(e.rateLimit, { perSecond: 5 });
      assert.deepEqual(e.signature, { scheme: 'github' });
      assert.equal(e.method, 'PUT');
      assert.equal(e.envelope, 'raw');
      assert.deepEqual(await store.getEndpoint(p.id, e.id), e);
      const secrets = await store.getEndpointSecrets(p.id, e.id, T0);
      assert.equal(secrets.length, 1);
      assert.equal(secrets[0]?.secret, 'whsec_first');
      assert.equal(secrets[0]?.expiresAt, null);

      const u = await store.updateEndpoint(
        p.id,
        e.id,
        { url: 'http://127.0.0.1:9/b', eventTypes: [], dev: true },
        T0 + 1,
      );
      assert.equal(u?.url, 'http://127.0.0.1:9/b');
      assert.deepEqual(u?.eventTypes, []);
      assert.equal(u?.dev, true);
      assert.deepEqual(u?.headers, { 'x-k': 'v' }, 'unpatched fields stay');
      assert.equal(u?.updatedAt, T0 + 1);
      assert.equal(await store.updateEndpoint(p.id, 'ep_missing', { name: 'x' }, T0), null);

      const off = await store.createEndpoint(endpointInput(p.id, { active: false }), 's', T0 + 2);
      assert.equal(off.status, 'disabled');
      const more = await store.createEndpoint(endpointInput(p.id), 's', T0 + 3);
      const pages = await allPages((cursor) => store.listEndpoints(p.id, { limit: 2, cursor }));
      assert.deepEqual(
        pages.flat().map((x) => x.id),
        [more.id, off.id, e.id],
      );
      assert.equal(await store.deleteEndpoint(p.id, e.id, T0), true);
      assert.equal(await store.deleteEndpoint(p.id, e.id, T0), false);
      assert.equal(await store.getEndpoint(p.id, e.id), null);
      assert.deepEqual(await store.getEndpointSecrets(p.id, e.id, T0), []);
    });

    withStore(
      'fan-out: type filters, dev endpoints for test events, disabled get nothing, callbackUrl',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const all = await store.createEndpoint(
          endpointInput(p.id, { url: 'http://127.0.0.1:9/all' }),
          's',
          T0,
        );
        const onlyA = await store.createEndpoint(
          endpointInput(p.id, { url: 'http://127.0.0.1:9/a', eventTypes: ['a'] }),
          's',
          T0,
        );
        const dev = await store.createEndpoint(
          endpointInput(p.id, { url: 'http://127.0.0.1:9/dev', dev: true }),
          's',
          T0,
        );
        await store.createEndpoint(
          endpointInput(p.id, { url: 'http://127.0.0.1:9/off', active: false }),
          's',
          T0,
        );
        let woken = 0;
        const unsubscribe = store.subscribeDue(() => woken++);
        const [a, b, t, cb] = await store.acceptEvents(
          p.id,
          [
            eventInput('a'),
            eventInput('b'),
            eventInput('a', { test: true }),
            eventInput('b', { callbackUrl: 'http://127.0.0.1:9/cb' }),
          ],
          T0 + 100,
        );
        assert.ok(woken >= 1, 'subscribeDue listeners are called after the commit');
        unsubscribe();
        const targets = (x: typeof a) => new Set(x?.deliveries.map((d) => d.endpointId));
        assert.deepEqual(targets(a), new Set([all.id, onlyA.id, dev.id]));
        assert.deepEqual(targets(b), new Set([all.id, dev.id]));
        assert.deepEqual(targets(t), new Set([dev.id]), 'test events go to dev endpoints only');
        assert.deepEqual(targets(cb), new Set([all.id, dev.id, null]));
        const callback = cb?.deliveries.find((d) => d.endpointId === null);
        assert.equal(callback?.url, 'http://127.0.0.1:9/cb');
        assert.equal(cb?.event.callbackEnvelope, undefined, 'standard is not stored');
        // A callback with another envelope keeps it, read back and claimed.
        const [raw] = await store.acceptEvents(
          p.id,
          [eventInput('none', { callbackUrl: 'http://127.0.0.1:9/raw', callbackEnvelope: 'raw' })],
          T0 + 100,
        );
        assert.equal(raw?.event.callbackEnvelope, 'raw');
        assert.equal((await store.getEvent(p.id, raw!.event.id))?.event.callbackEnvelope, 'raw');
        const claimedRaw = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 30 * SECOND,
          now: T0 + 100,
          workerId: 'w-raw',
        });
        const rawClaim = claimedRaw.find((c) => c.delivery.url === 'http://127.0.0.1:9/raw');
        assert.equal(rawClaim?.event.callbackEnvelope, 'raw');
        assert.ok(
          claimedRaw
            .filter((c) => c.event.id !== raw!.event.id)
            .every((c) => c.event.callbackEnvelope === undefined),
        );
        await store.releaseClaims('w-raw', T0 + 100);
        for (const r of [a, b, t, cb]) {
          assert.ok(r);
          assert.equal(r.duplicate, false);
          assert.match(r.event.id, /^evt_/);
          assert.equal(r.event.createdAt, T0 + 100);
          for (const d of r.deliveries) {
            assert.match(d.id, /^dlv_/);
            assert.equal(d.status, 'pending');
            assert.equal(d.nextAttemptAt, T0 + 100);
            assert.equal(d.attempts, 0);
            assert.equal(d.eventId, r.event.id);
            if (d.endpointId === all.id) assert.equal(d.url, 'http://127.0.0.1:9/all');
          }
          assert.deepEqual(await store.getEvent(p.id, r.event.id), {
            event: r.event,
            deliveries: [...r.deliveries].sort((x, y) => (x.id < y.id ? -1 : 1)),
          });
        }
        // Each event says how many deliveries it has, accepted and listed, so a list need not read them.
        const counts = new Map([a, b, t, cb].map((r) => [r!.event.id, r!.deliveries.length]));
        assert.deepEqual([...counts.values()], [3, 2, 1, 3]);
        for (const r of [a, b, t, cb]) assert.equal(r?.event.deliveryCount, r?.deliveries.length);
        const listed = (await store.listEvents(p.id, { limit: 100 })).data.filter((e) => counts.has(e.id));
        assert.deepEqual(new Map(listed.map((e) => [e.id, e.deliveryCount])), counts);
        assert.equal(t?.event.test, true);
        assert.deepEqual(a?.event.payload, { n: 1 });
        // A test send to one endpoint ignores its filter and dev flag, and adds no callback.
        const [only] = await store.acceptEvents(
          p.id,
          [eventInput('b', { test: true, onlyEndpointId: onlyA.id, callbackUrl: 'http://127.0.0.1:9/cb' })],
          T0 + 200,
        );
        assert.deepEqual(targets(only), new Set([onlyA.id]));
      },
    );

    withStore(
      'idempotency: same key within 24 h returns the original, also inside one batch; expired keys are reused',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 2);
        const [first] = await store.acceptEvents(project.id, [eventInput('a', { idempotencyKey: 'k' })], T0);
        const [again] = await store.acceptEvents(
          project.id,
          [eventInput('a', { idempotencyKey: 'k', payload: 2 })],
          T0 + HOUR,
        );
        assert.ok(first && again);
        assert.equal(again.duplicate, true);
        assert.equal(again.event.id, first.event.id);
        assert.equal(again.event.deliveryCount, 2, 'the original, read back, with its count');
        assert.deepEqual(again.deliveries.map((d) => d.id).sort(), first.deliveries.map((d) => d.id).sort());
        const batch = await store.acceptEvents(
          project.id,
          [
            eventInput('a', { idempotencyKey: 'n' }),
            eventInput('a', { idempotencyKey: 'n' }),
            eventInput('a'),
          ],
          T0 + 2 * HOUR,
        );
        assert.deepEqual(
          batch.map((r) => r.duplicate),
          [false, true, false],
        );
        assert.equal(batch[1]?.event.id, batch[0]?.event.id);
        assert.equal((await store.listEvents(project.id, { limit: 100 })).data.length, 3);
        assert.equal((await store.backlog(T0 + 3 * HOUR)).pending, 6, 'duplicates created no deliveries');
        const held = async (projectId: string, keys: string[], now: number) =>
          [...(await store.heldIdempotencyKeys(projectId, keys, now))].sort();
        assert.deepEqual(await held(project.id, ['k', 'n', 'x'], T0 + 3 * HOUR), ['k', 'n']);
        assert.deepEqual(await held(project.id, [], T0 + 3 * HOUR), []);
        // Another project may use the same key.
        const other = await store.createProject({ name: 'q' }, T0);
        const [theirs] = await store.acceptEvents(
          other.id,
          [eventInput('a', { idempotencyKey: 'k' })],
          T0 + HOUR,
        );
        assert.equal(theirs?.duplicate, false);
        assert.deepEqual(await held(other.id, ['k', 'n'], T0 + HOUR), ['k'], 'keys are per project');
        // After 24 h the key is free again.
        assert.deepEqual(await held(project.id, ['k', 'n'], T0 + DAY + 1), ['n']);
        const [later] = await store.acceptEvents(
          project.id,
          [eventInput('a', { idempotencyKey: 'k' })],
          T0 + DAY + 1,
        );
        assert.equal(later?.duplicate, false);
        assert.notEqual(later?.event.id, first.event.id);
        const [laterAgain] = await store.acceptEvents(
          project.id,
          [eventInput('a', { idempotencyKey: 'k' })],
          T0 + DAY + 2,
        );
        assert.equal(laterAgain?.event.id, later?.event.id);
      },
    );

    withStore(
      'maxDeliveries: at the limit accepted, one over refused with nothing stored; repeated keys count none; a refused accept leaves the others of its group',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const p = project.id;
        // Not counted: another type's filter, a disabled endpoint, and (for a test event) not dev.
        await store.createEndpoint(endpointInput(p, { eventTypes: ['other'] }), 'whsec_f', T0);
        await store.createEndpoint(endpointInput(p, { active: false }), 'whsec_d', T0);
        const dev = await store.createEndpoint(endpointInput(p, { dev: true }), 'whsec_v', T0);
        const cb = 'http://127.0.0.1:9/cb';
        const pending = async () => (await store.backlog(T0 + DAY)).pending;
        const events = async () => (await store.listEvents(p, { limit: 100 })).data.length;

        // 3 + (3 + callback) + 1 (a test event: the dev endpoint) + 1 (a test send) = 9.
        const nine = [
          eventInput('a'),
          eventInput('a', { callbackUrl: cb }),
          eventInput('a', { test: true }),
          eventInput('a', { onlyEndpointId: endpoints[0]!.id, callbackUrl: cb }),
        ];
        const atLimit = await store.acceptEvents(p, nine, T0, { maxDeliveries: 9 });
        assert.deepEqual(
          atLimit.map((r) => r.deliveries.length),
          [3, 4, 1, 1],
        );
        assert.equal(await pending(), 9);

        const refused = await store
          .acceptEvents(p, [...nine, eventInput('a', { idempotencyKey: 'r' })], T0 + 1, { maxDeliveries: 11 })
          .then(
            () => assert.fail('12 deliveries over a limit of 11 were accepted'),
            (error: unknown) => error,
          );
        assert.ok(refused instanceof StoreTooManyDeliveriesError, String(refused));
        assert.deepEqual(
          { limit: refused.limit, deliveries: refused.deliveries },
          { limit: 11, deliveries: 12 },
        );
        assert.equal(await events(), 4, 'no event of the refused accept was stored');
        assert.equal(await pending(), 9, 'no delivery of the refused accept was stored');
        assert.deepEqual([...(await store.heldIdempotencyKeys(p, ['r'], T0 + 2))], [], 'nor its key');

        // Repeated idempotency keys (stored before, or earlier in the same accept) count none.
        const [held] = await store.acceptEvents(p, [eventInput('a', { idempotencyKey: 'k' })], T0 + 2);
        const repeats = await store.acceptEvents(
          p,
          [
            eventInput('a', { idempotencyKey: 'k' }),
            eventInput('a', { idempotencyKey: 'n' }),
            eventInput('a', { idempotencyKey: 'n' }),
          ],
          T0 + 3,
          { maxDeliveries: 3 },
        );
        assert.deepEqual(
          repeats.map((r) => r.duplicate),
          [true, false, true],
        );
        assert.equal(repeats[0]?.event.id, held?.event.id);
        assert.equal(repeats[2]?.event.id, repeats[1]?.event.id);
        assert.equal(await pending(), 9 + 3 + 3);

        // Two accepts of one tick share a group commit: the refused one stores nothing, the other is
        // written; with the same idempotency key, the other's event is the new one, not a repeat.
        const [over, good] = await Promise.allSettled([
          store.acceptEvents(p, [eventInput('a'), eventInput('a', { idempotencyKey: 'x' })], T0 + 4, {
            maxDeliveries: 5,
          }),
          store.acceptEvents(p, [eventInput('a', { idempotencyKey: 'x' })], T0 + 4, { maxDeliveries: 5 }),
        ]);
        assert.equal(over.status, 'rejected');
        assert.ok(over.reason instanceof StoreTooManyDeliveriesError, String(over.reason));
        assert.equal(over.reason.deliveries, 6);
        assert.equal(good.status, 'fulfilled');
        const [stored] = good.value;
        assert.equal(stored?.duplicate, false);
        assert.equal(stored?.deliveries.length, 3);
        assert.equal((await store.getEvent(p, stored!.event.id))?.deliveries.length, 3);
        const [again] = await store.acceptEvents(p, [eventInput('a', { idempotencyKey: 'x' })], T0 + 5);
        assert.equal(again?.event.id, stored?.event.id, "the key is the stored event's");
        assert.equal(await pending(), 9 + 3 + 3 + 3);
        assert.ok(dev);
      },
    );

    withStore(
      'claims: due order, limit, a lease hides the delivery until it runs out, exclusion, releaseClaims',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [e0, e1] = endpoints;
        assert.ok(e0 && e1);
        await store.acceptEvents(project.id, [eventInput('a')], T0 + 2);
        await store.acceptEvents(project.id, [eventInput('a')], T0 + 1);
        await store.acceptEvents(project.id, [eventInput('a')], T0 + 50 * SECOND); // not due yet
        assert.deepEqual(
          await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w1' }),
          [],
        );

        const now = T0 + 10 * SECOND;
        const first = await store.claimDueDeliveries({ limit: 3, leaseMs: 30 * SECOND, now, workerId: 'w1' });
        assert.equal(first.length, 3);
        assert.deepEqual(
          first.map((c) => c.delivery.createdAt),
          [T0 + 1, T0 + 1, T0 + 2],
          'oldest due first',
        );
        for (const c of first) {
          assert.equal(c.event.id, c.delivery.eventId);
          assert.equal(c.event.type, 'a');
          assert.deepEqual(c.event.payload, eventInput('a').payload);
          // A store that hands the stored text on hands exactly the payload's JSON.stringify.
          if (c.payloadJson !== undefined) assert.equal(c.payloadJson, JSON.stringify(c.event.payload));
        }
        // A held delivery reads as held until its lease's end, which is also when it is next due.
        const held = await store.getDelivery(project.id, first[0]!.delivery.id);
        assert.equal(held?.leasedUntil, now + 30 * SECOND);
        assert.equal(held?.nextAttemptAt, now + 30 * SECOND);
        const rest = await store.claimDueDeliveries({ limit: 10, leaseMs: 30 * SECOND, now, workerId: 'w2' });
        assert.equal(rest.length, 1, 'claimed deliveries are not handed out twice');
        await store.releaseDeliveries([
          { projectId: project.id, deliveryId: first[0]!.delivery.id, nextAttemptAt: now + 5 },
        ]);
        const released = await store.getDelivery(project.id, first[0]!.delivery.id);
        assert.equal(released?.leasedUntil, null);
        assert.equal(released?.nextAttemptAt, now + 5);
        assert.deepEqual(
          await store.claimDueDeliveries({ limit: 10, leaseMs: 30 * SECOND, now: now + 1, workerId: 'w3' }),
          [],
        );
        // When the lease runs out, the work comes back by itself (crashed worker).
        const expired = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 30 * SECOND,
          now: now + 41 * SECOND,
          workerId: 'w3',
        });
        assert.equal(expired.length, 4 + 2, 'the 4 expired leases plus the 2 deliveries now due');

        // Exclusion leaves a saturated endpoint's work for later.
        await store.releaseClaims('*', now + 50 * SECOND);
        const excluded = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 30 * SECOND,
          now: now + 50 * SECOND,
          workerId: 'w4',
          excludeEndpointIds: [e0.id],
        });
        assert.equal(excluded.length, 3);
        assert.ok(excluded.every((c) => c.delivery.endpointId === e1.id));

        // releaseClaims by worker and by '*'.
        assert.equal(await store.releaseClaims('nobody', now + 51 * SECOND), 0);
        assert.equal(await store.releaseClaims('w4', now + 51 * SECOND), 3);
        const again = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 30 * SECOND,
          now: now + 51 * SECOND,
          workerId: 'w5',
        });
        assert.equal(again.length, 6);
        let woken = 0;
        const off = store.subscribeDue(() => woken++);
        assert.equal(await store.releaseClaims('*', now + 52 * SECOND), 6);
        off();
        assert.ok(woken >= 1, 'released work wakes the dispatcher');
        // Handed back unsent, they are late since they became due (the first at T0 + 1), not since the hand-back.
        const backlog = await store.backlog(now + 52 * SECOND);
        assert.deepEqual(backlog, { pending: 6, oldestDueAt: T0 + 1 });
      },
    );

    withStore(
      'claims: maxBytes stops the claim once the payloads read hold that many bytes; the rest stay due, untouched',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2); // two deliveries per event
        const blob = 'é'.repeat(5_000); // 10,000 bytes of UTF-8, 5,000 characters
        for (let n = 0; n < 5; n++) {
          await store.acceptEvents(project.id, [eventInput('a', { payload: { n, blob } })], T0 + n);
        }
        const size = Buffer.byteLength(JSON.stringify({ n: 0, blob }), 'utf8');
        const now = T0 + 10 * SECOND;
        // Two events' payloads hold less than 2.5 sizes, three more: the claim stops after the third.
        const claim = (workerId: string, maxBytes: number | undefined, at = now) =>
          store.claimDueDeliveries({
            limit: 100,
            leaseMs: 30 * SECOND,
            now: at,
            workerId,
            ...(maxBytes === undefined ? {} : { maxBytes }),
          });
        const first = await claim('w1', Math.floor(2.5 * size));
        assert.deepEqual(
          first.map((c) => (c.event.payload as { n: number }).n),
          [0, 0, 1, 1, 2, 2],
          'three events, each with both its deliveries, in due order',
        );
        // The deliveries left are due as they were, not leased.
        for (const ep of endpoints) {
          const page = await store.listEndpointDeliveries(project.id, ep.id, {
            status: 'pending',
            limit: 10,
          });
          const left = page.data.filter((d) => d.leasedUntil === null);
          assert.deepEqual(
            left.map((d) => d.nextAttemptAt),
            [T0 + 3, T0 + 4],
          );
        }
        // A single event larger than the room still goes, whole.
        const one = await claim('w2', 1);
        assert.deepEqual(
          one.map((c) => (c.event.payload as { n: number }).n),
          [3, 3],
        );
        assert.equal(
          one[0]?.payloadJson ?? JSON.stringify(one[0]?.event.payload),
          JSON.stringify({ n: 3, blob }),
        );
        const rest = await claim('w3', undefined);
        assert.deepEqual(
          rest.map((c) => (c.event.payload as { n: number }).n),
          [4, 4],
        );
      },
    );

    withStore("claims: a saturated endpoint's deep backlog does not hide the others' work", async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const { endpoints: theirs } = await projectWithEndpoints(store, 2);
      const busy = endpoints[0]!;
      // 3,000 older deliveries of the busy endpoint, then two for each of two others (another project).
      await deepBacklog(store, project.id);
      const owner = (await store.getEndpoint(theirs[0]!.projectId, theirs[0]!.id))!;
      await store.acceptEvents(owner.projectId, [eventInput('a'), eventInput('a')], T0 + 1_000);
      const claimed = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 30 * SECOND,
        now: T0 + 2_000,
        workerId: 'w',
        excludeEndpointIds: [busy.id],
      });
      assert.equal(claimed.length, 4, 'both deliveries of each of the two other endpoints');
      assert.ok(claimed.every((c) => c.delivery.endpointId !== busy.id));
      const rest = await store.claimDueDeliveries({
        limit: 5_000,
        leaseMs: 30 * SECOND,
        now: T0 + 2_000,
        workerId: 'w',
      });
      assert.equal(rest.length, 3_000, 'without exclusion the busy endpoint gets its turn');
    });

    withStore(
      'claims: with more active endpoints than one probe visits, most of them idle, the probes reach every endpoint with work in turn',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const busy = endpoints[0]!;
        await deepBacklog(store, project.id); // fills the window of oldest due: the claims probe
        const other = await store.createProject({ name: 'q' }, T0);
        const working = new Set<string>();
        for (let i = 0; i < 300; i++) {
          const wanted = i % 50 === 7; // six endpoints with work, spread over 300 (CLAIM_PROBES 256)
          const ep = await store.createEndpoint(
            endpointInput(other.id, { url: `http://127.0.0.1:9/q${i}`, eventTypes: [wanted ? 'a' : 'b'] }),
            `whsec_q${i}`,
            T0,
          );
          if (wanted) working.add(ep.id);
        }
        await store.acceptEvents(other.id, [eventInput('a'), eventInput('a')], T0 + 1_000);
        const seen: string[] = [];
        for (let claim = 0; claim < 3; claim++) {
          const claimed = await store.claimDueDeliveries({
            limit: 4,
            leaseMs: 30 * SECOND,
            now: T0 + 2_000,
            workerId: 'w',
            excludeEndpointIds: [busy.id],
          });
          assert.equal(claimed.length, 4, `claim ${claim} is full`);
          for (const c of claimed) {
            assert.ok(working.has(c.delivery.endpointId!), 'only endpoints with work, never the busy one');
            seen.push(c.delivery.id);
          }
        }
        assert.equal(new Set(seen).size, 12, 'both deliveries of each of the six, none twice');
      },
    );

    withStore(
      "claims: one endpoint's backlog at the head of the due order does not hold other tenants' work back",
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const busy = endpoints[0]!;
        const { endpoints: quiet } = await projectWithEndpoints(store, 3);
        await deepBacklog(store, project.id); // 3,000 deliveries due before anything of the others
        await store.acceptEvents(quiet[0]!.projectId, [eventInput('a')], T0 + 1_000); // one to each
        const idle = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        const quietIds = new Set(quiet.map((ep) => ep.id));
        const claim = (limit: number, excludeEndpointIds?: string[]) =>
          store.claimDueDeliveries({
            limit,
            leaseMs: 30 * SECOND,
            now: T0 + 2_000,
            workerId: 'w1',
            ...(excludeEndpointIds ? { excludeEndpointIds } : {}),
          });
        // 100: the dispatcher's claims; 32: a HERALD_CLAIM_BATCH of 32, or a process with 32 slots
        // free (claims under 64 took strictly the oldest due, and the quiet ones none).
        for (const limit of [100, 32]) {
          for (const exclude of [undefined, [idle.id]]) {
            const claimed = await claim(limit, exclude);
            assert.equal(claimed.length, limit, 'a full claim');
            const theirs = claimed.filter((c) => quietIds.has(c.delivery.endpointId!));
            assert.equal(theirs.length, 3, `each quiet one's delivery, before older (${limit}, ${exclude})`);
            assert.equal(new Set(claimed.map((c) => c.delivery.id)).size, limit, 'none twice');
            // What the quiet endpoints leave of the claim's share goes to the oldest due.
            const next = await claim(limit, exclude);
            assert.equal(next.length, limit);
            assert.ok(next.every((c) => c.delivery.endpointId === busy.id));
            assert.equal(await store.releaseClaims('w1', T0 + 2_000), 2 * limit);
          }
        }
      },
    );

    withStore(
      "claims of fewer than 8 deliveries, and claims cut by their bytes, still give other tenants' work its turn",
      async (store) => {
        // Claims of a few deliveries: a process whose claims are sized by large payloads (4 MiB of
        // bytes in flight, 1 MiB events: claims of 4), or with few slots free. They took strictly
        // the oldest due, and another tenant's delivery waited for the whole backlog before it.
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const busy = endpoints[0]!;
        const quiet = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        await deepBacklog(store, project.id); // 3,000 deliveries due before the quiet one's
        await store.acceptEvents(quiet.projectId, [eventInput('a')], T0 + 1_000);
        const claim = (limit: number, maxBytes?: number) =>
          store.claimDueDeliveries({
            limit,
            leaseMs: 30 * SECOND,
            now: T0 + 2_000,
            workerId: 'w1',
            ...(maxBytes === undefined ? {} : { maxBytes }),
          });
        for (const limit of [4, 2, 1]) {
          // A quarter of the deliveries claimed goes in turn, over several claims when one is too
          // small to give any; the turns go to both projects, so within eight claims' quarters.
          let claims = 0;
          let found = false;
          while (!found && claims < 8 * Math.max(1, 4 / limit)) {
            const claimed = await claim(limit);
            claims++;
            assert.equal(claimed.length, limit, 'a full claim');
            found = claimed.some((c) => c.delivery.endpointId === quiet.id);
          }
          assert.ok(found, `claims of ${limit}: the quiet tenant's delivery within ${claims} claims`);
          await store.releaseClaims('w1', T0 + 2_000);
        }
        // A claim stopped by its bytes (its oldest rows' payloads hold them all) keeps its part in
        // turn: it was cut with the rows after the oldest, the quiet tenant's among them.
        const bytes = JSON.stringify(eventInput('a').payload).length;
        let claims = 0;
        let found = false;
        while (!found && claims < 8) {
          const claimed = await claim(8, 3 * bytes);
          claims++;
          assert.ok(claimed.length >= 3, 'the oldest rows up to the bytes');
          found = claimed.some((c) => c.delivery.endpointId === quiet.id);
        }
        assert.ok(found, `claims cut by their bytes: the quiet tenant's delivery within ${claims} claims`);
        assert.ok(busy.id !== quiet.id);
      },
    );

    withStore(
      "claims: one tenant's backlog of callbacks does not take the other tenants' turns",
      async (store) => {
        // 3,000 callback deliveries (callbackUrl) of one project due before another project's
        // endpoint delivery: the part in turn took callbacks first, all of them whatever their
        // project, so the other tenant got nothing until they were gone.
        const quiet = await callbackBacklogBeforeAnotherTenant(store);
        for (const exclude of [undefined, ['ep_saturated']]) {
          const claimed = await store.claimDueDeliveries({
            limit: 100,
            leaseMs: 30 * SECOND,
            now: T0 + 2_000,
            workerId: 'w1',
            ...(exclude ? { excludeEndpointIds: exclude } : {}),
          });
          assert.equal(claimed.length, 100, 'a full claim');
          const theirs = claimed.filter((c) => c.delivery.endpointId === quiet.id).length;
          assert.equal(theirs, 1, `the quiet tenant's delivery in the claim (exclude ${exclude})`);
          await store.releaseClaims('w1', T0 + 2_000);
        }
      },
    );

    withStore(
      "claims: one tenant's backlog of callbacks does not hold back another tenant's callbacks",
      async (store) => {
        // 3,000 callback deliveries of one project due before another project's callback and
        // endpoint delivery. The callbacks took their part in turn oldest first whatever their
        // project, so the other tenant's callback waited for the whole backlog of callbacks (30
        // claims of 100 here; 7.5 s behind 200,000 in a scratch run) while its endpoint went at once.
        const quiet = await callbackBacklogBeforeAnotherTenant(store);
        const [theirs] = await store.acceptEvents(
          quiet.projectId,
          [eventInput('b', { callbackUrl: 'http://127.0.0.1:9/quiet' })],
          T0 + 1_000,
        );
        const callback = theirs!.deliveries.find((d) => d.endpointId === null)!;
        for (const exclude of [undefined, ['ep_saturated']]) {
          let claims = 0;
          let found = false;
          while (!found && claims < 30) {
            const claimed = await store.claimDueDeliveries({
              limit: 100,
              leaseMs: 30 * SECOND,
              now: T0 + 2_000,
              workerId: 'w1',
              ...(exclude ? { excludeEndpointIds: exclude } : {}),
            });
            claims++;
            assert.equal(claimed.length, 100, 'a full claim');
            found = claimed.some((c) => c.delivery.id === callback.id);
          }
          assert.equal(claims, 1, `the quiet tenant's callback in the first claim (exclude ${exclude})`);
          await store.releaseClaims('w1', T0 + 2_000);
        }
      },
    );

    withStore(
      "claims: a project's callbacks left out (its cap reached) are not claimed, past a window full of them; claimed first, up to its room",
      async (store) => {
        // 3,000 callbacks of a project at its cap, due before another tenant's endpoint delivery
        // and callback. Callbacks could not be left out: claims took the full project's, and the
        // dispatcher handed them back 50 ms later, claim after claim.
        const full = await store.createProject({ name: 'at its cap' }, T0);
        for (let i = 0; i < 30; i++) {
          const batch = Array.from({ length: 100 }, () =>
            eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' }),
          );
          await store.acceptEvents(full.id, batch, T0 + i);
        }
        const quiet = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        await store.acceptEvents(
          quiet.projectId,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/quiet' })],
          T0 + 1_000,
        );
        for (const exclude of [undefined, ['ep_saturated']]) {
          const claimed = await store.claimDueDeliveries({
            limit: 100,
            leaseMs: 30 * SECOND,
            now: T0 + 2_000,
            workerId: 'w1',
            excludeCallbackProjectIds: [full.id],
            ...(exclude ? { excludeEndpointIds: exclude } : {}),
          });
          assert.deepEqual(
            claimed.map((c) => [c.delivery.projectId, c.delivery.endpointId]).sort(),
            [
              [quiet.projectId, null],
              [quiet.projectId, quiet.id],
            ].sort(),
            `the other tenant's two deliveries, none of the full project's callbacks (exclude ${exclude})`,
          );
          // With room for 3: 3 of its callbacks, oldest first, and no more.
          const first = await store.claimDueDeliveries({
            limit: 100,
            leaseMs: 30 * SECOND,
            now: T0 + 2_000,
            workerId: 'w1',
            excludeCallbackProjectIds: [full.id],
            first: [{ projectId: full.id, endpointId: CALLBACKS_ID, limit: 3 }],
            ...(exclude ? { excludeEndpointIds: exclude } : {}),
          });
          assert.equal(first.length, 3, `3 callbacks of the project with room for 3 (exclude ${exclude})`);
          assert.ok(first.every((c) => c.delivery.projectId === full.id && c.delivery.endpointId === null));
          assert.ok(first.every((c) => c.event.createdAt === T0));
          await store.releaseClaims('w1', T0 + 2_000);
        }
      },
    );

    withStore(
      "claims of a few deliveries: one tenant's backlog of callbacks does not take every turn either",
      async (store) => {
        // A part in turn of one delivery (claims of 4 to 7, or every fourth claim of 1: a process
        // with few slots free, claims sized by large payloads) went to the callbacks whenever any
        // was due (a project's part, rounded up, is all of one), so the other tenant's delivery
        // waited for the whole backlog of callbacks, as the part in turn is there to prevent.
        const quiet = await callbackBacklogBeforeAnotherTenant(store);
        for (const limit of [4, 1]) {
          // Callbacks and the quiet project share the turns: within a few claims' parts.
          const most = 8 * (4 / limit);
          let claims = 0;
          let found = false;
          while (!found && claims < most) {
            const claimed = await store.claimDueDeliveries({
              limit,
              leaseMs: 30 * SECOND,
              now: T0 + 2_000,
              workerId: 'w1',
            });
            claims++;
            assert.equal(claimed.length, limit, 'a full claim');
            found = claimed.some((c) => c.delivery.endpointId === quiet.id);
          }
          assert.ok(found, `claims of ${limit}: the quiet tenant's delivery within ${claims} claims`);
          await store.releaseClaims('w1', T0 + 2_000);
        }
      },
    );

    withStore(
      "claims: a tenant with more endpoints than a claim probes does not take the other tenants' turns",
      async (store) => {
        // 300 endpoints of one project, each with 3 due deliveries older than anything of the other
        // project's one endpoint: turns by endpoint gave that one endpoint none in the first claims
        // (it is last of the 301, and only 64 are served per turn), and one every ~5 claims after.
        const { project, endpoints: many } = await projectWithEndpoints(store, 300);
        for (let i = 0; i < 3; i++) await store.acceptEvents(project.id, [eventInput('a')], T0 + i);
        const quiet = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        const mine = Array.from({ length: 100 }, () => eventInput('a'));
        await store.acceptEvents(quiet.projectId, mine, T0 + 1_000);
        for (const exclude of [undefined, [many[0]!.id]]) {
          for (let claim = 1; claim <= 2; claim++) {
            const claimed = await store.claimDueDeliveries({
              limit: 256,
              leaseMs: 30 * SECOND,
              now: T0 + 2_000,
              workerId: 'w1',
              ...(exclude ? { excludeEndpointIds: exclude } : {}),
            });
            assert.equal(claimed.length, 256, 'a full claim');
            const theirs = claimed.filter((c) => c.delivery.endpointId === quiet.id).length;
            // The claim's part in turn (a quarter, 64) split between the two projects.
            assert.ok(theirs >= 32, `claim ${claim} (exclude ${exclude}): the quiet tenant got ${theirs}`);
          }
          await store.releaseClaims('w1', T0 + 2_000);
        }
      },
    );

    withStore(
      'claims: endpoints asked for first are claimed before older work, up to their limit each',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const paced = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        const idle = (await projectWithEndpoints(store, 1)).endpoints[0]!; // nothing due
        await deepBacklog(store, project.id); // 3,000 older deliveries of another endpoint
        const newer = [eventInput('a'), eventInput('a'), eventInput('a')];
        await store.acceptEvents(paced.projectId, newer, T0 + 1_000);
        const claimed = await store.claimDueDeliveries({
          limit: 4,
          leaseMs: 30 * SECOND,
          now: T0 + 2_000,
          workerId: 'w',
          excludeEndpointIds: [],
          first: [
            { projectId: idle.projectId, endpointId: idle.id, limit: 10 },
            { projectId: paced.projectId, endpointId: paced.id, limit: 2 },
          ],
        });
        const ids = claimed.map((c) => c.delivery.endpointId);
        assert.equal(claimed.length, 4);
        assert.equal(ids.filter((id) => id === paced.id).length, 2, 'the first endpoint, up to its limit');
        assert.equal(ids.filter((id) => id === endpoints[0]!.id).length, 2, 'the rest: the oldest due');
        // Leased: asking for it first again gets its third only, never one handed out already.
        const again = await store.claimDueDeliveries({
          limit: 1,
          leaseMs: 30 * SECOND,
          now: T0 + 2_000,
          workerId: 'w',
          first: [{ projectId: paced.projectId, endpointId: paced.id, limit: 5 }],
        });
        assert.equal(again.length, 1);
        assert.equal(again[0]!.delivery.endpointId, paced.id);
        assert.ok(!claimed.some((c) => c.delivery.id === again[0]!.delivery.id), 'not handed out twice');
        // With nothing of it left due, a claim asking for it first takes the oldest due instead.
        const rest = await store.claimDueDeliveries({
          limit: 2,
          leaseMs: 30 * SECOND,
          now: T0 + 2_000,
          workerId: 'w',
          first: [{ projectId: paced.projectId, endpointId: paced.id, limit: 5 }],
        });
        assert.deepEqual(
          rest.map((c) => c.delivery.endpointId),
          [endpoints[0]!.id, endpoints[0]!.id],
        );
      },
    );

    withStore(
      'claims: a claim stopped by its bytes keeps the endpoints asked for first, ahead of older large events',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const paced = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        const blob = 'x'.repeat(10_000);
        // Five older events of 10 KB to another endpoint, then the paced endpoint's small one.
        for (let n = 0; n < 5; n++) {
          await store.acceptEvents(project.id, [eventInput('a', { payload: { n, blob } })], T0 + n);
        }
        await store.acceptEvents(
          paced.projectId,
          [eventInput('a', { payload: { paced: true } })],
          T0 + 1_000,
        );
        const claimed = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 30 * SECOND,
          now: T0 + 2_000,
          workerId: 'w',
          first: [{ projectId: paced.projectId, endpointId: paced.id, limit: 1 }],
          maxBytes: 25_000,
        });
        const ids = claimed.map((c) => c.delivery.endpointId);
        assert.equal(ids.filter((id) => id === paced.id).length, 1, 'the endpoint asked for first');
        const older = ids.filter((id) => id === endpoints[0]!.id).length;
        assert.ok(older >= 1 && older <= 3, `${older} of the older ones, within the bytes`);
      },
    );

    withStore(
      'claims: an endpoint left out and asked for first gets its limit and no more (a failing one)',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const failing = endpoints[0]!;
        await deepBacklog(store, project.id); // 3,000 of it, older than anything else
        const other = (await projectWithEndpoints(store, 1)).endpoints[0]!;
        await store.acceptEvents(
          other.projectId,
          Array.from({ length: 5 }, () => eventInput('a')),
          T0 + 1_000,
        );
        const claimed = await store.claimDueDeliveries({
          limit: 50,
          leaseMs: 30 * SECOND,
          now: T0 + 2_000,
          workerId: 'w',
          excludeEndpointIds: [failing.id],
          first: [{ projectId: failing.projectId, endpointId: failing.id, limit: 3 }],
        });
        const ids = claimed.map((c) => c.delivery.endpointId);
        assert.equal(ids.filter((id) => id === failing.id).length, 3, 'its limit, not the claim');
        assert.equal(ids.filter((id) => id === other.id).length, 5, "the others' due work");
        assert.equal(claimed.length, 8);
      },
    );

    withStore(
      "claims: callbacks behind a left-out endpoint's deep backlog are still claimed",
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const busy = endpoints[0]!;
        await deepBacklog(store, project.id);
        // Another project, no endpoints: its event only has its callback delivery.
        const other = await store.createProject({ name: 'callbacks only' }, T0);
        await store.acceptEvents(
          other.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' })],
          T0 + 1_000,
        );
        const claimed = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 30 * SECOND,
          now: T0 + 2_000,
          workerId: 'w',
          excludeEndpointIds: [busy.id],
        });
        assert.deepEqual(
          claimed.map((c) => [c.delivery.endpointId, c.delivery.url]),
          [[null, 'http://127.0.0.1:9/cb']],
        );
      },
    );

    withStore(
      'claims: while a window full of left-out work is skipped, new work and callbacks are still claimed',
      async (store) => {
        const { project: busyProject, endpoints: busy } = await projectWithEndpoints(store, 1);
        const { project, endpoints: others } = await projectWithEndpoints(store, 1);
        // 3,000 due deliveries of the left-out endpoint at the head of the due order, then 2 others.
        await deepBacklog(store, busyProject.id);
        await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0 + 100);
        const claim = (now: number, exclude: string[]) =>
          store.claimDueDeliveries({
            limit: 10,
            leaseMs: 60_000,
            now,
            workerId: 'w',
            excludeEndpointIds: exclude,
          });
        const now = T0 + 2_000;
        const first = await claim(now, [busy[0]!.id]);
        assert.deepEqual(
          first.map((c) => c.delivery.endpointId),
          [others[0]!.id, others[0]!.id],
        );
        // While the window is skipped, new work is found by the probes, callbacks included...
        await store.acceptEvents(
          project.id,
          [eventInput('b', { callbackUrl: 'http://127.0.0.1:9/cb' })],
          now,
        );
        const during = await claim(now + 1, [busy[0]!.id]);
        assert.deepEqual(
          during.map((c) => c.delivery.endpointId ?? c.delivery.url).sort(),
          [others[0]!.id, 'http://127.0.0.1:9/cb'].sort(),
        );
        // ...and once the skip has run out, the window is read again (it holds nothing new here).
        await store.acceptEvents(project.id, [eventInput('c')], now + 2);
        const after = await claim(now + 2 + WINDOW_SKIP_MS, [busy[0]!.id]);
        assert.deepEqual(
          after.map((c) => c.delivery.endpointId),
          [others[0]!.id],
        );
        // A claim that leaves out fewer endpoints reads the window again at once.
        const all = await claim(now + 3, []);
        assert.equal(all.length, 10);
        assert.ok(all.every((c) => c.delivery.endpointId === busy[0]!.id));
      },
    );

    withStore(
      'claims that probe endpoint by endpoint give each project an equal share first, split between its endpoints',
      async (store) => {
        const { project: busyProject, endpoints: busy } = await projectWithEndpoints(store, 1);
        // The left-out endpoint's 3,000 deliveries fill the window; behind them two projects' work:
        // 40 deliveries each for the two endpoints of one, 4 for the other's one endpoint.
        await deepBacklog(store, busyProject.id);
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        await store.acceptEvents(
          project.id,
          Array.from({ length: 40 }, () => eventInput('a')),
          T0 + 100,
        );
        const { project: small, endpoints: smallEndpoints } = await projectWithEndpoints(store, 1);
        await store.acceptEvents(
          small.id,
          Array.from({ length: 4 }, () => eventInput('a')),
          T0 + 100,
        );
        const claimed = await store.claimDueDeliveries({
          limit: 30,
          leaseMs: 60_000,
          now: T0 + 2_000,
          workerId: 'w',
          excludeEndpointIds: [busy[0]!.id],
        });
        const per = new Map<string, number>();
        for (const c of claimed) per.set(c.delivery.endpointId!, (per.get(c.delivery.endpointId!) ?? 0) + 1);
        // Shares of 15 a project, 8 an endpoint of the first; the small project's 11 unused go to
        // the endpoints that had more.
        assert.equal(claimed.length, 30);
        assert.equal(per.get(smallEndpoints[0]!.id), 4);
        assert.equal((per.get(endpoints[0]!.id) ?? 0) + (per.get(endpoints[1]!.id) ?? 0), 26);
        assert.ok(
          (per.get(endpoints[0]!.id) ?? 0) >= 8 && (per.get(endpoints[1]!.id) ?? 0) >= 8,
          `${[...per]}`,
        );
      },
    );

    withStore('claims: excluding endpoints never skips callback deliveries', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      await store.acceptEvents(project.id, [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' })], T0);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 1000,
        now: T0,
        workerId: 'w',
        excludeEndpointIds: [endpoints[0]!.id],
      });
      assert.deepEqual(
        claims.map((c) => [c.delivery.endpointId, c.delivery.url, c.delivery.nextAttemptAt]),
        [[null, 'http://127.0.0.1:9/cb', T0 + 1000]],
      );
    });

    withStore(
      'releaseDeliveries by a worker whose lease another took over leaves that lease',
      async (store) => {
        const { project, c1 } = await leaseTakenOver(store);
        const back = { projectId: project.id, deliveryId: c1.delivery.id, nextAttemptAt: T0 + 2 * SECOND };
        await store.releaseDeliveries([{ ...back, heldBy: 'w1' }]);
        const claimW3 = (now: number) =>
          store.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now, workerId: 'w3' });
        assert.deepEqual(await claimW3(T0 + 3 * SECOND), [], 'still w2’s');
        await store.releaseDeliveries([{ ...back, heldBy: 'w2' }]);
        assert.equal((await claimW3(T0 + 3 * SECOND)).length, 1, 'its holder hands it back');
      },
    );

    withStore(
      'releaseDeliveries of a claim from before another worker’s attempt record leaves the retry it scheduled',
      async (store) => {
        // w1 paused past its lease; w2 claimed the delivery, failed, and scheduled a retry at +30 s
        // (the row leased to nobody). w1's late hand-back of its old claim must not make it due sooner.
        const { project, c1, c2 } = await leaseTakenOver(store);
        const failed = attemptRecord(c2.delivery, c2.event, {
          outcome: 'failed',
          status: 'pending',
          nextAttemptAt: T0 + 30 * SECOND,
          startedAt: T0 + 2 * SECOND + 1,
          workerId: 'w2',
        });
        await store.recordAttempts([failed], { now: T0 + 3 * SECOND, failureThreshold: 10 });
        const back = (c: ClaimedDelivery, worker: string, at: number) => ({
          projectId: project.id,
          deliveryId: c.delivery.id,
          nextAttemptAt: at,
          heldBy: worker,
          leasedUntil: c.delivery.leasedUntil,
          attempts: c.delivery.attempts,
        });
        await store.releaseDeliveries([back(c1, 'w1', T0 + 4 * SECOND)]);
        const d = await store.getDelivery(project.id, c1.delivery.id);
        assert.equal(d?.attempts, 1);
        assert.equal(d?.nextAttemptAt, T0 + 30 * SECOND, 'still due at the retry’s time');
        const claimW3 = (now: number) =>
          store.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now, workerId: 'w3' });
        assert.deepEqual(await claimW3(T0 + 5 * SECOND), [], 'not sent before its backoff');
        const [retry] = await claimW3(T0 + 30 * SECOND);
        assert.equal(retry?.delivery.id, c1.delivery.id, 'sent at its retry’s time');
        // Leased to nobody with the attempts its claim read (its lease freed at a start), a
        // hand-back still applies: the retry's own claim, freed and then handed back.
        await store.releaseClaims('w3', T0 + 31 * SECOND);
        await store.releaseDeliveries([back(retry, 'w3', T0 + 40 * SECOND)]);
        assert.deepEqual(await claimW3(T0 + 35 * SECOND), [], 'held until the hand-back’s time');
        assert.equal((await claimW3(T0 + 40 * SECOND)).length, 1);
      },
    );

    for (const [kind, rateLimited] of [
      ['put off by its rate limit', true],
      ['held (its endpoint paused)', false],
    ] as const) {
      withStore(
        `releaseDeliveries of a claim from before another worker’s hand-back, ${kind}, leaves its time`,
        async (store) => {
          // w1 paused past its lease; w2 claimed the delivery and handed it back due at +20 s, its
          // attempts unchanged. w1's late hand-back of its old claim must not make it due sooner.
          const { project, c1, c2 } = await leaseTakenOver(store);
          const back = (c: ClaimedDelivery, worker: string, at: number) => ({
            projectId: project.id,
            deliveryId: c.delivery.id,
            nextAttemptAt: at,
            heldBy: worker,
            leasedUntil: c.delivery.leasedUntil,
            attempts: c.delivery.attempts,
          });
          await store.releaseDeliveries([{ ...back(c2, 'w2', T0 + 20 * SECOND), rateLimited }]);
          await store.releaseDeliveries([back(c1, 'w1', T0 + 4 * SECOND)]);
          const d = await store.getDelivery(project.id, c1.delivery.id);
          assert.equal(d?.nextAttemptAt, T0 + 20 * SECOND, 'still due at w2’s hand-back’s time');
          const claimW3 = (now: number) =>
            store.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now, workerId: 'w3' });
          assert.deepEqual(await claimW3(T0 + 5 * SECOND), [], 'not claimed before that time');
          assert.equal((await claimW3(T0 + 20 * SECOND))[0]?.delivery.id, c1.delivery.id);
        },
      );
    }

    withStore(
      'releaseDeliveries of a claim after a claim that stopped at its bytes before that delivery still applies',
      async (store) => {
        // w1 paused past its lease of both; w2's claim, stopped by its bytes, took only the first.
        // The second's last claim is still w1's: its hand-back (put off by a rate limit) holds it.
        const { project } = await projectWithEndpoints(store, 1);
        const blob = 'x'.repeat(10_000);
        await store.acceptEvents(project.id, [eventInput('a', { payload: { n: 0, blob } })], T0);
        await store.acceptEvents(project.id, [eventInput('a', { payload: { n: 1, blob } })], T0 + 1);
        const old = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: SECOND,
          now: T0 + 1,
          workerId: 'w1',
        });
        assert.equal(old.length, 2);
        const cut = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60 * SECOND,
          now: T0 + 2 * SECOND,
          workerId: 'w2',
          maxBytes: 1,
        });
        assert.deepEqual(
          cut.map((c) => c.delivery.id),
          [old[0]!.delivery.id],
        );
        const second = old[1]!.delivery;
        await store.releaseDeliveries([
          {
            projectId: project.id,
            deliveryId: second.id,
            nextAttemptAt: T0 + 20 * SECOND,
            rateLimited: true,
            heldBy: 'w1',
            leasedUntil: second.leasedUntil,
            attempts: second.attempts,
          },
        ]);
        assert.equal((await store.getDelivery(project.id, second.id))?.nextAttemptAt, T0 + 20 * SECOND);
        const claimW3 = (now: number) =>
          store.claimDueDeliveries({ limit: 10, leaseMs: 60 * SECOND, now, workerId: 'w3' });
        assert.deepEqual(await claimW3(T0 + 5 * SECOND), [], 'not before the limit lets it go');
      },
    );

    withStore(
      'releaseDeliveries of an older claim of the same worker leaves the newer claim of that delivery',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 1);
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const claimW = (worker: string, now: number, leaseMs: number) =>
          store.claimDueDeliveries({ limit: 1, leaseMs, now, workerId: worker });
        const [older] = await claimW('w1', T0, SECOND);
        assert.ok(older);
        assert.equal(older.delivery.leasedUntil, T0 + SECOND, 'a claim says when its lease ends');
        // Its lease ran out while it waited in its process: the same process claims it again.
        const [newer] = await claimW('w1', T0 + 2 * SECOND, 60 * SECOND);
        assert.equal(newer?.delivery.id, older.delivery.id);
        assert.equal(newer.delivery.leasedUntil, T0 + 62 * SECOND);
        const back = (c: ClaimedDelivery) => ({
          projectId: project.id,
          deliveryId: c.delivery.id,
          nextAttemptAt: T0 + 3 * SECOND,
          heldBy: 'w1',
          leasedUntil: c.delivery.leasedUntil,
        });
        // The older claim handed back (its turn came): the newer one is being sent, and stays leased.
        await store.releaseDeliveries([back(older)]);
        assert.equal(
          (await store.getDelivery(project.id, older.delivery.id))?.leasedUntil,
          T0 + 62 * SECOND,
          'still under the newer lease',
        );
        assert.deepEqual(await claimW('w3', T0 + 4 * SECOND, 60 * SECOND), [], 'no other worker takes it');
        // The newer claim handed back: free from its time on.
        await store.releaseDeliveries([back(newer)]);
        assert.equal(
          (await claimW('w3', T0 + 4 * SECOND, 60 * SECOND)).length,
          1,
          'its own claim hands it back',
        );
      },
    );

    withStore(
      'a delivery handed back keeps its place in the due order, and no claim takes it before its time',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!.id;
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const [first] = await store.claimDueDeliveries({
          limit: 1,
          leaseMs: 60 * SECOND,
          now: T0,
          workerId: 'w1',
        });
        assert.ok(first);
        const dA = first.delivery.id;
        // Each way a claim picks: the oldest due; with endpoints left out (the window, the probes);
        // the endpoint asked for first; the endpoint's part in turn.
        const shapes = [
          {},
          { excludeEndpointIds: ['not-this-one'] },
          { first: [{ projectId: project.id, endpointId: ep, limit: 1 }] },
          {
            excludeEndpointIds: ['not-this-one'],
            first: [{ projectId: project.id, endpointId: ep, limit: 1 }],
          },
        ];
        let t = T0;
        for (const [i, shape] of shapes.entries()) {
          // Handed back due a second later (a failing endpoint's queue): held until then, whatever the claim.
          await store.releaseDeliveries([
            { projectId: project.id, deliveryId: dA, nextAttemptAt: t + 2 * SECOND, heldBy: 'w1' },
          ]);
          assert.equal((await store.getDelivery(project.id, dA))?.nextAttemptAt, t + 2 * SECOND);
          // (Those the rounds before left due are taken here, leased past the end of the test.)
          for (const [k, s] of shapes.entries()) {
            const early = await store.claimDueDeliveries({
              limit: 10,
              leaseMs: 60 * SECOND,
              now: t + SECOND,
              workerId: 'w2',
              ...s,
            });
            assert.ok(
              !early.some((c) => c.delivery.id === dA),
              `round ${i}, shape ${k}: held until its time`,
            );
          }
          // Meanwhile another event comes due: it became due after dA, which goes first once free.
          await store.acceptEvents(project.id, [eventInput('b')], t + SECOND);
          const [next] = await store.claimDueDeliveries({
            limit: 1,
            leaseMs: 60 * SECOND,
            now: t + 3 * SECOND,
            workerId: 'w1',
            ...shape,
          });
          assert.equal(
            next?.delivery.id,
            dA,
            `round ${i}: the oldest due, before the one that came due since`,
          );
          t += 3 * SECOND;
        }
      },
    );

    withStore(
      'claims released at a start (releaseClaims) keep their place in the due order: before what came due since',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 1);
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const [claimed] = await store.claimDueDeliveries({
          limit: 1,
          leaseMs: 60 * SECOND,
          now: T0,
          workerId: 'crashed',
        });
        assert.ok(claimed);
        // The process stops with it in flight; a backlog comes due meanwhile.
        await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0 + 5 * SECOND);
        assert.equal(await store.releaseClaims('*', T0 + 10 * SECOND), 1);
        assert.equal((await store.getDelivery(project.id, claimed.delivery.id))?.leasedUntil, null);
        const [next] = await store.claimDueDeliveries({
          limit: 1,
          leaseMs: 60 * SECOND,
          now: T0 + 10 * SECOND,
          workerId: 'started',
        });
        assert.equal(next?.delivery.id, claimed.delivery.id, 'the oldest due, not behind the backlog');
      },
    );

    withStore(
      'a hold ends when something else makes the delivery due: an enable, a recorded attempt, a recover',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!.id;
        const claimNow = (now: number) =>
          store.claimDueDeliveries({ limit: 10, leaseMs: 60 * SECOND, now, workerId: 'w2' });
        /** A delivery claimed at `t` and handed back held for a second (a failing endpoint's queue). */
        const heldAt = async (t: number) => {
          await store.acceptEvents(project.id, [eventInput()], t);
          const [c] = await store.claimDueDeliveries({
            limit: 1,
            leaseMs: 60 * SECOND,
            now: t,
            workerId: 'w1',
          });
          assert.ok(c);
          await store.releaseDeliveries([
            { projectId: project.id, deliveryId: c.delivery.id, nextAttemptAt: t + SECOND, heldBy: 'w1' },
          ]);
          return c;
        };
        // An enable by hand (a disable, then an enable within the second): its deliveries are due at once.
        const a = await heldAt(T0);
        assert.ok(await store.updateEndpoint(project.id, ep, { active: false }, T0 + 10));
        assert.equal((await store.getDelivery(project.id, a.delivery.id))?.status, 'parked');
        assert.ok(await store.enableEndpoint(project.id, ep, T0 + 20));
        assert.equal((await store.getDelivery(project.id, a.delivery.id))?.nextAttemptAt, T0 + 20);
        assert.deepEqual(
          (await claimNow(T0 + 30)).map((c) => c.delivery.id),
          [a.delivery.id],
          'enabled: due at the enable, not held',
        );
        // A recorded attempt sets the delivery's next state (here a retry 100 ms on).
        const t1 = T0 + 10 * SECOND;
        const b = await heldAt(t1);
        await store.recordAttempts(
          [
            attemptRecord(b.delivery, b.event, {
              outcome: 'failed',
              startedAt: t1 + 10,
              status: 'pending',
              nextAttemptAt: t1 + 100,
            }),
          ],
          { now: t1 + 20, failureThreshold: 1000 },
        );
        assert.equal((await store.getDelivery(project.id, b.delivery.id))?.nextAttemptAt, t1 + 100);
        assert.deepEqual(
          (await claimNow(t1 + 200)).map((c) => c.delivery.id),
          [b.delivery.id],
          'recorded: due at its retry',
        );
        // A recover makes failed deliveries due at once.
        const t2 = T0 + 20 * SECOND;
        const d = await heldAt(t2);
        await store.recordAttempts(
          [
            attemptRecord(d.delivery, d.event, {
              outcome: 'failed',
              startedAt: t2 + 10,
              status: 'failed',
              nextAttemptAt: null,
            }),
          ],
          { now: t2 + 20, failureThreshold: 1000 },
        );
        assert.equal((await store.getDelivery(project.id, d.delivery.id))?.status, 'failed');
        assert.equal((await store.recoverDeliveries(project.id, ep, t2, t2, t2 + 30)).recovered, 1);
        assert.equal((await store.getDelivery(project.id, d.delivery.id))?.nextAttemptAt, t2 + 30);
        assert.deepEqual(
          (await claimNow(t2 + 40)).map((c) => c.delivery.id),
          [d.delivery.id],
          'recovered: due at the recover',
        );
      },
    );

    withStore(
      'a lease that runs out keeps its place in the due order: before what came due while it ran',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!.id;
        // Each way a claim picks: the oldest due; with endpoints left out; the endpoint asked for first;
        // and a lease an accept took (handed to the worker in memory, never taken).
        const shapes = [
          {},
          { excludeEndpointIds: ['not-this-one'] },
          { first: [{ projectId: project.id, endpointId: ep, limit: 1 }] },
          { byAccept: true },
        ];
        let t = T0;
        for (const [i, { byAccept, ...shape }] of shapes.entries()) {
          const lease = { workerId: 'stalled', leaseMs: 60 * SECOND, max: 1 };
          const [accepted] = await store.acceptEvents(
            project.id,
            [eventInput('a')],
            t,
            byAccept ? { lease } : {},
          );
          const [claimed] = byAccept
            ? accepted!.deliveries
            : (
                await store.claimDueDeliveries({
                  limit: 1,
                  leaseMs: 60 * SECOND,
                  now: t,
                  workerId: 'stalled',
                })
              ).map((c) => c.delivery);
          assert.ok(claimed);
          assert.equal((await store.getDelivery(project.id, claimed.id))?.leasedUntil, t + 60 * SECOND);
          // Its worker stalls past the lease (or stops without handing it back); a backlog comes due meanwhile.
          await store.acceptEvents(project.id, [eventInput('b'), eventInput('b')], t + 5 * SECOND);
          const [next] = await store.claimDueDeliveries({
            limit: 1,
            leaseMs: DAY, // (past the end of the test)
            now: t + 61 * SECOND,
            workerId: 'other',
            ...shape,
          });
          assert.equal(next?.delivery.id, claimed.id, `round ${i}: the oldest due, not behind the backlog`);
          // The backlog taken out of the next round's way.
          assert.equal(
            (
              await store.claimDueDeliveries({
                limit: 10,
                leaseMs: DAY,
                now: t + 61 * SECOND,
                workerId: 'other',
              })
            ).length,
            2,
          );
          t += 62 * SECOND;
        }
      },
    );

    withStore('releaseDeliveries puts work back without an attempt, pending or parked', async (store) => {
      const { project } = await projectWithEndpoints(store, 2);
      await store.acceptEvents(project.id, [eventInput('a')], T0);
      const [c1, c2] = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w1',
      });
      assert.ok(c1 && c2);
      // c2's endpoint disabled while c2 is out: handed back, it is parked (its endpoint is disabled).
      await store.updateEndpoint(project.id, c2.delivery.endpointId!, { active: false }, T0);
      await store.releaseDeliveries([
        { projectId: project.id, deliveryId: c1.delivery.id, nextAttemptAt: T0 + 5 * SECOND },
        {
          projectId: project.id,
          deliveryId: c2.delivery.id,
          nextAttemptAt: T0 + 5 * SECOND,
          status: 'parked',
        },
      ]);
      await store.releaseDeliveries([]);
      const d1 = await store.getDelivery(project.id, c1.delivery.id);
      const d2 = await store.getDelivery(project.id, c2.delivery.id);
      assert.equal(d1?.status, 'pending');
      assert.equal(d1?.nextAttemptAt, T0 + 5 * SECOND);
      assert.equal(d1?.attempts, 0);
      assert.equal(d2?.status, 'parked');
      assert.equal(d2?.nextAttemptAt, null);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 1000,
        now: T0 + 5 * SECOND,
        workerId: 'w2',
      });
      assert.deepEqual(
        claims.map((c) => c.delivery.id),
        [c1.delivery.id],
      );
    });

    withStore(
      'a rate limit removed or raised makes the deliveries it put off due at once, not retries or work in flight',
      async (store) => {
        const project = await store.createProject({ name: 'p' }, T0);
        const ep = await store.createEndpoint(
          endpointInput(project.id, { rateLimit: { perSecond: 1 } }),
          'whsec_x',
          T0,
        );
        await store.acceptEvents(
          project.id,
          Array.from({ length: 5 }, () => eventInput('a')),
          T0,
        );
        const claims = await claimAtStart(store);
        assert.equal(claims.length, 5);
        const [d1, d2, d3, d4, d5] = claims.map((c) => c.delivery.id) as [
          string,
          string,
          string,
          string,
          string,
        ];
        const release = (id: string, at: number, rateLimited?: boolean) => ({
          projectId: project.id,
          deliveryId: id,
          nextAttemptAt: at,
          ...(rateLimited === undefined ? {} : { rateLimited }),
        });
        await store.releaseDeliveries([
          release(d1, T0 + 10 * SECOND, true),
          release(d2, T0 + 20 * SECOND, true),
          release(d4, T0 + 30 * SECOND), // a full concurrency cap, not the limit
          release(d5, T0 + SECOND, true),
        ]);
        // d3 waits out a retry delay.
        await store.recordAttempts(
          [
            attemptRecord(claims[2]!.delivery, claims[2]!.event, {
              outcome: 'failed',
              nextAttemptAt: T0 + HOUR,
            }),
          ],
          { now: T0, failureThreshold: 10 },
        );
        // d5's deferral came due: it is in flight again when the limit changes.
        const [inFlight] = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60 * SECOND,
          now: T0 + SECOND,
          workerId: 'w1',
        });
        assert.equal(inFlight?.delivery.id, d5);
        const due = async (id: string) => (await store.getDelivery(project.id, id))?.nextAttemptAt;

        // The same limit written again, or a stricter one, or another setting: nothing moves.
        await store.updateEndpoint(
          project.id,
          ep.id,
          { rateLimit: { perSecond: 1, burst: 1 }, name: 'n' },
          T0 + 2 * SECOND,
        );
        await store.updateEndpoint(project.id, ep.id, { rateLimit: { perSecond: 0.5 } }, T0 + 2 * SECOND);
        assert.deepEqual(
          [await due(d1), await due(d2), await due(d3), await due(d4)],
          [T0 + 10 * SECOND, T0 + 20 * SECOND, T0 + HOUR, T0 + 30 * SECOND],
        );

        // Raised: what the limit put off is due now; the retry, the cap's and the one in flight are not.
        const raisedAt = T0 + 3 * SECOND;
        await store.updateEndpoint(project.id, ep.id, { rateLimit: { perSecond: 10 } }, raisedAt);
        assert.deepEqual(
          [await due(d1), await due(d2), await due(d3), await due(d4)],
          [raisedAt, raisedAt, T0 + HOUR, T0 + 30 * SECOND],
        );
        const again = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60 * SECOND,
          now: raisedAt,
          workerId: 'w1',
        });
        assert.deepEqual(again.map((c) => c.delivery.id).sort(), [d1, d2].sort(), 'd5 is still leased');

        // d1 is put off again by the new limit; d2 is sent and fails: its retry delay is its own.
        const d2Claim = again.find((c) => c.delivery.id === d2)!;
        await store.releaseDeliveries([release(d1, T0 + 8 * SECOND, true)]);
        await store.recordAttempts(
          [
            attemptRecord(d2Claim.delivery, d2Claim.event, {
              outcome: 'failed',
              nextAttemptAt: T0 + 2 * HOUR,
            }),
          ],
          { now: raisedAt, failureThreshold: 10 },
        );
        // Removed: d1 is due now; d2 keeps its retry time.
        const removedAt = T0 + 4 * SECOND;
        await store.updateEndpoint(project.id, ep.id, { rateLimit: null }, removedAt);
        assert.deepEqual(
          [await due(d1), await due(d2), await due(d3), await due(d4)],
          [removedAt, T0 + 2 * HOUR, T0 + HOUR, T0 + 30 * SECOND],
        );
        assert.ok(
          (await store.getDelivery(project.id, d1))?.status === 'pending' &&
            (await store.getDelivery(project.id, d2))?.status === 'pending',
        );
        // No limit before: a new one moves nothing.
        await store.updateEndpoint(project.id, ep.id, { rateLimit: { perSecond: 5 } }, T0 + 5 * SECOND);
        assert.equal(await due(d2), T0 + 2 * HOUR);
      },
    );

    withStore(
      'a delivery put off under a rate limit changed while it was in flight is due as of the change, not at the old limit’s time',
      async (store) => {
        const project = await store.createProject({ name: 'p' }, T0);
        const limit = { perSecond: 0.01 }; // one a hundred seconds
        const ep = await store.createEndpoint(endpointInput(project.id, { rateLimit: limit }), 'whsec_x', T0);
        const other = await store.createEndpoint(
          endpointInput(project.id, { rateLimit: { perSecond: 0.01, burst: 3 } }),
          'whsec_y',
          T0,
        );
        await store.acceptEvents(project.id, [eventInput('a'), eventInput('b'), eventInput('c')], T0);
        // The dispatcher claimed them and read its endpoints' limits (its view); meanwhile the API
        // removes the first endpoint's limit and renames the second, while they are in flight.
        const claims = await claimAtStart(store);
        assert.equal(claims.length, 6);
        const changedAt = T0 + SECOND;
        await store.updateEndpoint(project.id, ep.id, { rateLimit: null }, changedAt);
        await store.updateEndpoint(project.id, other.id, { name: 'renamed' }, changedAt);
        // Then it hands them back put off by the limits it read, a token apart.
        await store.releaseDeliveries(
          claims.map((c, i) => ({
            projectId: project.id,
            deliveryId: c.delivery.id,
            nextAttemptAt: T0 + (i + 1) * 100 * SECOND,
            rateLimited: true,
            rateLimit: c.delivery.endpointId === ep.id ? limit : { perSecond: 0.01, burst: 3 },
            heldBy: 'w1',
          })),
        );
        const due = async (id: string) => (await store.getDelivery(project.id, id))?.nextAttemptAt;
        for (const [i, c] of claims.entries()) {
          assert.equal(
            await due(c.delivery.id),
            // The removed limit's: due as the removal made those it found; the other's limit is
            // the one they were put off under (a rename moves nothing).
            c.delivery.endpointId === ep.id ? changedAt : T0 + (i + 1) * 100 * SECOND,
          );
        }
      },
    );

    withStore(
      'recordAttempts: a late record of a worker whose lease another took over counts, and leaves that lease',
      async (store) => {
        // A worker paused past its lease: another claimed the delivery and is sending it when the
        // first one's failure comes in. That must not free the delivery for a third send meanwhile.
        const { project, c1, c2 } = await leaseTakenOver(store);
        const late = attemptRecord(c1.delivery, c1.event, {
          outcome: 'failed',
          status: 'pending',
          nextAttemptAt: T0 + 3 * SECOND,
          startedAt: T0 + 1,
          workerId: 'w1',
        });
        const result = await store.recordAttempts([late], { now: T0 + 2.5 * SECOND, failureThreshold: 10 });
        assert.deepEqual(result.statuses, ['pending']);
        assert.equal(
          (await store.getDelivery(project.id, c1.delivery.id))?.attempts,
          1,
          'the attempt counts',
        );
        const third = await store.claimDueDeliveries({
          limit: 1,
          leaseMs: 60 * SECOND,
          now: T0 + 4 * SECOND,
          workerId: 'w3',
        });
        assert.deepEqual(third, [], 'still w2’s: nobody else sends it meanwhile');
        const done = attemptRecord({ ...c2.delivery, attempts: 1 }, c2.event, {
          startedAt: T0 + 2 * SECOND + 1,
          workerId: 'w2',
        });
        assert.deepEqual(
          (await store.recordAttempts([done], { now: T0 + 5 * SECOND, failureThreshold: 10 })).statuses,
          ['succeeded'],
        );
        const d = await store.getDelivery(project.id, c1.delivery.id);
        assert.equal(d?.status, 'succeeded');
        assert.equal(d?.attempts, 2);
      },
    );

    withStore('recordAttempts: two records of one delivery in one batch each count', async (store) => {
      // A late record (its worker's lease ran out and another took over) can land in the same group
      // commit as the new worker's: both attempts count, in order, as if written one after the other.
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const ep = endpoints[0]!;
      await store.acceptEvents(project.id, [eventInput('a')], T0);
      const [c] = await store.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now: T0, workerId: 'w1' });
      assert.ok(c);
      const late = attemptRecord(c.delivery, c.event, {
        outcome: 'failed',
        startedAt: T0 + 1,
        workerId: 'w1',
      });
      const retried = attemptRecord({ ...c.delivery, attempts: 1 }, c.event, {
        startedAt: T0 + 2,
        workerId: 'w2',
      });
      const result = await store.recordAttempts([late, retried], { now: T0 + 3, failureThreshold: 10 });
      assert.deepEqual(result.statuses, ['pending', 'succeeded']);
      const d = await store.getDelivery(project.id, c.delivery.id);
      assert.equal(d?.attempts, 2);
      assert.equal(d?.status, 'succeeded');
      assert.equal(d?.lastAttemptAt, T0 + 2);
      assert.equal(
        (await store.getEndpoint(project.id, ep.id))?.consecutiveFailures,
        0,
        'the later success resets',
      );
      const listed = await store.listAttempts(project.id, { limit: 10, deliveryId: c.delivery.id });
      assert.equal(listed.data.length, 2);
    });

    for (const order of ['the late record first', 'the late record last', 'both in one batch'] as const) {
      withStore(
        `recordAttempts: a delivery two workers sent (a lease taken over) has attempts 1 and 2, ${order}`,
        async (store) => {
          // Both workers read the same count at their claims, so both numbered their attempt 1. The
          // history must still read 1, 2 in the order the records were written, and the next try 3.
          const { project, c1, c2 } = await leaseTakenOver(store);
          const late = attemptRecord(c1.delivery, c1.event, {
            outcome: 'failed',
            status: 'pending',
            nextAttemptAt: T0 + 3 * SECOND,
            startedAt: T0 + 1,
            workerId: 'w1',
          });
          const holder = attemptRecord(c2.delivery, c2.event, {
            outcome: 'failed',
            status: 'pending',
            nextAttemptAt: T0 + 4 * SECOND,
            startedAt: T0 + 2 * SECOND + 1,
            workerId: 'w2',
          });
          assert.deepEqual([late.attempt.number, holder.attempt.number], [1, 1]);
          const written = order === 'the late record last' ? [holder, late] : [late, holder];
          const options = { now: T0 + 3 * SECOND, failureThreshold: 10 };
          if (order === 'both in one batch') await store.recordAttempts(written, options);
          else for (const rec of written) await store.recordAttempts([rec], options);
          const listed = await store.listAttempts(project.id, { limit: 10, deliveryId: c1.delivery.id });
          const numberOf = new Map(listed.data.map((a) => [a.id, a.number]));
          assert.deepEqual(
            written.map((rec) => numberOf.get(rec.attempt.id)),
            [1, 2],
            'numbered in the order written',
          );
          const d = await store.getDelivery(project.id, c1.delivery.id);
          assert.equal(d?.attempts, 2);
          assert.equal(d?.status, 'pending');
          const [c3] = await store.claimDueDeliveries({
            limit: 1,
            leaseMs: 60 * SECOND,
            now: T0 + 5 * SECOND,
            workerId: 'w3',
          });
          assert.equal(c3?.delivery.id, c1.delivery.id, 'the last record freed it for its retry');
          const third = attemptRecord(c3!.delivery, c3!.event, {
            startedAt: T0 + 5 * SECOND,
            workerId: 'w3',
          });
          assert.equal(third.attempt.number, 3);
          await store.recordAttempts([third], { now: T0 + 6 * SECOND, failureThreshold: 10 });
          assert.deepEqual(await store.getAttempt(project.id, third.attempt.id), third.attempt);
        },
      );
    }

    withStore('recordAttempts: success, retry scheduling, failure count reset', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const ep = endpoints[0]!;
      await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0);
      const [c1, c2] = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w1',
      });
      assert.ok(c1 && c2);
      const fail = attemptRecord(c1.delivery, c1.event, {
        outcome: 'failed',
        startedAt: T0 + 1,
        nextAttemptAt: T0 + 5000,
      });
      const result = await store.recordAttempts([fail], { now: T0 + 2, failureThreshold: 10 });
      assert.deepEqual(result.disabledEndpoints, []);
      const d1 = await store.getDelivery(project.id, c1.delivery.id);
      assert.equal(d1?.status, 'pending');
      assert.equal(d1?.attempts, 1);
      assert.equal(d1?.nextAttemptAt, T0 + 5000);
      assert.equal(d1?.lastAttemptAt, T0 + 1);
      assert.equal((await store.getEndpoint(project.id, ep.id))?.consecutiveFailures, 1);
      assert.deepEqual(await store.getAttempt(project.id, fail.attempt.id), fail.attempt);

      const ok = attemptRecord(c2.delivery, c2.event, { startedAt: T0 + 3 });
      await store.recordAttempts([ok], { now: T0 + 4, failureThreshold: 10 });
      assert.equal((await store.getDelivery(project.id, c2.delivery.id))?.status, 'succeeded');
      assert.equal((await store.getDelivery(project.id, c2.delivery.id))?.nextAttemptAt, null);
      assert.equal(
        (await store.getEndpoint(project.id, ep.id))?.consecutiveFailures,
        0,
        'any success resets',
      );

      // Retry scheduling: the retry comes back when due.
      assert.deepEqual(
        await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + 4999, workerId: 'w1' }),
        [],
      );
      const [retry] = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 1000,
        now: T0 + 5000,
        workerId: 'w1',
      });
      assert.equal(retry?.delivery.id, c1.delivery.id);
      assert.equal(retry?.delivery.attempts, 1);
      // Exhausted: failed for good.
      await store.recordAttempts(
        [
          attemptRecord(retry!.delivery, retry!.event, {
            outcome: 'failed',
            status: 'failed',
            startedAt: T0 + 5000,
          }),
        ],
        { now: T0 + 5001, failureThreshold: 10 },
      );
      const failed = await store.getDelivery(project.id, c1.delivery.id);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.attempts, 2);

      // retryDelivery makes any delivery pending and due now…
      const retried = await store.retryDelivery(project.id, c1.delivery.id, T0 + 9000);
      assert.ok(retried && typeof retried !== 'string');
      assert.equal(retried.status, 'pending');
      assert.equal(retried.nextAttemptAt, T0 + 9000);
      assert.equal(await store.retryDelivery(project.id, 'dlv_missing', T0), null);
      // …except while a worker's lease on it runs: its attempt is being sent.
      const [leased] = await store.claimDueDeliveries({
        limit: 1,
        leaseMs: 1000,
        now: T0 + 9000,
        workerId: 'w2',
      });
      assert.equal(leased?.delivery.id, c1.delivery.id);
      assert.equal(await store.retryDelivery(project.id, c1.delivery.id, T0 + 9500), 'in-flight');
      assert.deepEqual(
        await store.claimDueDeliveries({ limit: 1, leaseMs: 1000, now: T0 + 9500, workerId: 'w3' }),
        [],
        'the lease still holds',
      );
      // A lease that ran out (its worker died) no longer stands in the way.
      const afterLease = await store.retryDelivery(project.id, c1.delivery.id, T0 + 10_001);
      assert.ok(afterLease && typeof afterLease !== 'string');
      assert.equal(afterLease.nextAttemptAt, T0 + 10_001);
    });

    withStore(
      'retryDelivery: a delivery whose endpoint was deleted or disabled (after the route looked at it) is refused and left as it is',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [deleted, disabled] = endpoints;
        const [acc] = await store.acceptEvents(project.id, [eventInput('a')], T0);
        const to = (id: string) => acc!.deliveries.find((d) => d.endpointId === id)!;
        assert.equal(await store.deleteEndpoint(project.id, deleted!.id, T0), true);
        assert.ok(await store.updateEndpoint(project.id, disabled!.id, { active: false }, T0));
        // The retry route looked at the endpoint before the delete (the disable) was written.
        // Before, the retry made the delivery pending again: the deleted endpoint's was claimed
        // and closed a second time with an "endpoint deleted" attempt, the disabled one's claimed
        // and parked again, and both answered 202.
        assert.equal(await store.retryDelivery(project.id, to(deleted!.id).id, T0 + 1), 'endpoint-deleted');
        assert.equal(await store.retryDelivery(project.id, to(disabled!.id).id, T0 + 1), 'endpoint-disabled');
        assert.equal((await store.getDelivery(project.id, to(deleted!.id).id))?.status, 'failed');
        assert.equal((await store.getDelivery(project.id, to(disabled!.id).id))?.status, 'parked');
        assert.deepEqual(
          await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + 2, workerId: 'w1' }),
          [],
        );
      },
    );

    withStore(
      'recordAttempts: threshold disables, parks pending work, records endpoint.disabled; enable resumes',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [bad, good] = endpoints;
        assert.ok(bad && good);
        await store.acceptEvents(project.id, [eventInput('a'), eventInput('a'), eventInput('a')], T0);
        const claims = await claimAtStart(store);
        const badClaims = claims.filter((c) => c.delivery.endpointId === bad.id);
        assert.equal(badClaims.length, 3);
        const [b1, b2, b3] = badClaims;
        assert.ok(b1 && b2 && b3);
        // Two failures in one batch reach a threshold of 2: disabled once, the retry of the second is parked.
        const result = await store.recordAttempts(
          [
            attemptRecord(b1.delivery, b1.event, { outcome: 'failed' }),
            attemptRecord(b2.delivery, b2.event, { outcome: 'failed' }),
          ],
          { now: T0 + 10, failureThreshold: 2 },
        );
        assert.deepEqual(result.disabledEndpoints, [
          { projectId: project.id, endpointId: bad.id, reason: 'consecutive_failures' },
        ]);
        const disabled = await store.getEndpoint(project.id, bad.id);
        assert.equal(disabled?.status, 'disabled');
        assert.equal(disabled?.disabledReason, 'consecutive_failures');
        assert.equal(disabled?.disabledAt, T0 + 10);
        assert.equal(disabled?.consecutiveFailures, 2);
        assert.equal(
          (await store.getDelivery(project.id, b2.delivery.id))?.status,
          'parked',
          'pending next on a disabled endpoint',
        );
        // A record arriving after the disable (claimed before it) is parked too.
        await store.recordAttempts([attemptRecord(b3.delivery, b3.event, { outcome: 'failed' })], {
          now: T0 + 11,
          failureThreshold: 2,
        });
        assert.equal((await store.getDelivery(project.id, b3.delivery.id))?.status, 'parked');
        assert.equal((await store.getDelivery(project.id, b1.delivery.id))?.status, 'parked');
        const ops = await store.listOperationalEvents(project.id, { limit: 10 });
        assert.equal(ops.data.length, 1);
        assert.equal(ops.data[0]?.type, 'endpoint.disabled');
        assert.equal(ops.data[0]?.data.endpointId, bad.id);
        assert.equal(ops.data[0]?.data.reason, 'consecutive_failures');
        assert.equal(ops.data[0]?.data.consecutiveFailures, 2);
        // b1 and b2, parked by the batch that disabled it; b3 was in flight then, and its own record parked it.
        assert.equal(ops.data[0]?.data.parked, 2);
        // New events skip the disabled endpoint; its parked work is not claimed.
        const [next] = await store.acceptEvents(project.id, [eventInput('a')], T0 + 20);
        assert.deepEqual(
          next?.deliveries.map((d) => d.endpointId),
          [good.id],
        );
        await store.releaseClaims('*', T0 + 21);
        const claimable = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 1000,
          now: T0 + 21,
          workerId: 'w2',
        });
        assert.ok(claimable.every((c) => c.delivery.endpointId === good.id));

        const enabled = await store.enableEndpoint(project.id, bad.id, T0 + 30);
        assert.equal(enabled?.resumed, 3);
        assert.equal(enabled?.endpoint.status, 'active');
        assert.equal(enabled?.endpoint.consecutiveFailures, 0);
        assert.equal(enabled?.endpoint.disabledReason, null);
        assert.equal(enabled?.endpoint.disabledAt, null);
        const resumed = await store.getDelivery(project.id, b1.delivery.id);
        assert.equal(resumed?.status, 'pending');
        assert.equal(resumed?.nextAttemptAt, T0 + 30);
        const ops2 = await store.listOperationalEvents(project.id, { limit: 10 });
        assert.deepEqual(
          ops2.data.map((o) => o.type),
          ['endpoint.recovered', 'endpoint.disabled'],
        );
        // Enabling an active endpoint resumes nothing and records nothing.
        assert.equal((await store.enableEndpoint(project.id, bad.id, T0 + 40))?.resumed, 0);
        assert.equal((await store.listOperationalEvents(project.id, { limit: 10 })).data.length, 2);
        assert.equal(await store.enableEndpoint(project.id, 'ep_missing', T0), null);
      },
    );

    withStore(
      'failures recorded after the threshold (attempts in flight at the disable) leave the count at the one that disabled it',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        await store.acceptEvents(
          project.id,
          Array.from({ length: 7 }, () => eventInput('a')),
          T0,
        );
        const claims = await claimAtStart(store);
        assert.equal(claims.length, 7);
        const failed = (c: (typeof claims)[number]) =>
          attemptRecord(c.delivery, c.event, { outcome: 'failed' });
        // Five failures in one batch, the threshold 3: the third disables it, two more were in flight.
        const result = await store.recordAttempts(claims.slice(0, 5).map(failed), {
          now: T0 + 10,
          failureThreshold: 3,
        });
        assert.equal(result.disabledEndpoints.length, 1);
        assert.equal((await store.getEndpoint(project.id, ep.id))?.consecutiveFailures, 3);
        // One more in flight, recorded in a later batch: parked, the count as the disable left it.
        const later = await store.recordAttempts([failed(claims[5]!)], { now: T0 + 11, failureThreshold: 3 });
        assert.deepEqual(later.statuses, ['parked']);
        assert.equal((await store.getEndpoint(project.id, ep.id))?.consecutiveFailures, 3);
        const [op] = (await store.listOperationalEvents(project.id, { limit: 10 })).data;
        assert.equal(op?.type, 'endpoint.disabled');
        assert.equal(op?.data.consecutiveFailures, 3, 'the failures that disabled it, not 5');
        // The five of the batch; the one recorded after it is not counted, the last is still in flight.
        assert.equal(op?.data.parked, 5);
        // A success still resets it (DESIGN: any success resets the count).
        await store.recordAttempts([attemptRecord(claims[6]!.delivery, claims[6]!.event)], {
          now: T0 + 12,
          failureThreshold: 3,
        });
        assert.equal((await store.getEndpoint(project.id, ep.id))?.consecutiveFailures, 0);
      },
    );

    withStore(
      'enableEndpoint racing a delete of the endpoint answers null or the enabled endpoint, never an empty one',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 1);
        // Two requests in one turn: the delete's write is queued first, the enable's finds the
        // endpoint still there before its own write.
        const deleted = store.deleteEndpoint(project.id, ep.id, T0);
        const enabled = await store.enableEndpoint(project.id, ep.id, T0 + 2);
        assert.equal(await deleted, true);
        if (enabled !== null) assert.equal(enabled.endpoint?.id, ep.id, 'an enable answered for no endpoint');
        assert.equal(await store.getEndpoint(project.id, ep.id), null);
      },
    );

    withStore(
      'recordAttempts: 410 gone disables at once; callback deliveries touch no endpoint',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        await store.acceptEvents(
          project.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' }), eventInput('a')],
          T0,
        );
        const claims = await claimAtStart(store);
        const [gone, other] = claims.filter((c) => c.delivery.endpointId === ep.id);
        const cb = claims.find((c) => c.delivery.endpointId === null);
        assert.ok(gone && other && cb);
        // Accepted after the claim: waiting, not in flight.
        const [waiting] = await store.acceptEvents(project.id, [eventInput('a')], T0);
        const result = await store.recordAttempts(
          [
            attemptRecord(gone.delivery, gone.event, { outcome: 'failed', status: 'failed', effect: 'gone' }),
            attemptRecord(cb.delivery, cb.event, { outcome: 'failed', effect: 'none' }),
          ],
          { now: T0 + 1, failureThreshold: 100 },
        );
        assert.deepEqual(result.disabledEndpoints, [
          { projectId: project.id, endpointId: ep.id, reason: 'gone' },
        ]);
        assert.equal((await store.getEndpoint(project.id, ep.id))?.disabledReason, 'gone');
        assert.equal((await store.getDelivery(project.id, gone.delivery.id))?.status, 'failed');
        assert.equal((await store.getDelivery(project.id, waiting!.deliveries[0]!.id))?.status, 'parked');
        // In flight while the endpoint was disabled: its attempt's record decides.
        assert.equal((await store.getDelivery(project.id, other.delivery.id))?.status, 'pending');
        await store.recordAttempts([attemptRecord(other.delivery, other.event, { outcome: 'failed' })], {
          now: T0 + 2,
          failureThreshold: 100,
        });
        assert.equal((await store.getDelivery(project.id, other.delivery.id))?.status, 'parked');
        assert.equal(
          (await store.getDelivery(project.id, cb.delivery.id))?.status,
          'pending',
          'callbacks are never parked',
        );
        const ops = (await store.listOperationalEvents(project.id, { limit: 10 })).data;
        const op = ops.find((o) => o.type === 'endpoint.disabled');
        assert.equal(op?.data.reason, 'gone');
        // The one delivery the disable parked: not the failed one whose 410 disabled it.
        assert.equal(op?.data.parked, 1);
      },
    );

    withStore(
      'recordAttempts returns the status each record left its delivery in, in record order',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [bad, good] = endpoints;
        assert.ok(bad && good);
        const gone = await projectWithEndpoints(store, 1);
        await store.acceptEvents(project.id, [eventInput('a'), eventInput('a'), eventInput('a')], T0);
        await store.acceptEvents(gone.project.id, [eventInput('a')], T0);
        const claims = await claimAtStart(store);
        const to = (id: string) => claims.filter((c) => c.delivery.endpointId === id);
        const [b1, b2, b3] = to(bad.id);
        const [g1, g2, g3] = to(good.id);
        const [lost] = to(gone.endpoints[0]!.id);
        assert.ok(b1 && b2 && b3 && g1 && g2 && g3 && lost);
        await store.recordAttempts([attemptRecord(g3.delivery, g3.event)], { now: T0, failureThreshold: 2 });
        await store.deleteProject(gone.project.id);
        const result = await store.recordAttempts(
          [
            // Retries planned on `bad`; the second failure reaches the threshold: both are parked,
            // the first as well although its record comes before the one that disables.
            attemptRecord(b1.delivery, b1.event, { outcome: 'failed' }),
            attemptRecord(b2.delivery, b2.event, { outcome: 'failed' }),
            attemptRecord(g1.delivery, g1.event),
            attemptRecord(g2.delivery, g2.event, { outcome: 'failed', status: 'failed' }),
            attemptRecord(lost.delivery, lost.event, { outcome: 'failed' }),
            // A late record of a delivery that succeeded meanwhile leaves it succeeded.
            attemptRecord(g3.delivery, g3.event, { outcome: 'failed', effect: 'none' }),
            attemptRecord(b3.delivery, b3.event, { outcome: 'failed', status: 'failed', effect: 'none' }),
          ],
          { now: T0 + 1, failureThreshold: 2 },
        );
        assert.deepEqual(result.statuses, [
          'parked',
          'parked',
          'succeeded',
          'failed',
          null,
          'succeeded',
          'failed',
        ]);
        for (const [c, status] of [
          [b1, 'parked'],
          [b2, 'parked'],
          [g1, 'succeeded'],
          [g2, 'failed'],
          [g3, 'succeeded'],
          [b3, 'failed'],
        ] as const) {
          assert.equal((await store.getDelivery(project.id, c.delivery.id))?.status, status);
        }
        assert.deepEqual((await store.recordAttempts([], { now: T0 + 2, failureThreshold: 2 })).statuses, []);
      },
    );

    withStore('recordAttempts for a deleted endpoint or project does not throw', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const other = await projectWithEndpoints(store, 1);
      await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0);
      await store.acceptEvents(other.project.id, [eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w1',
      });
      const mine = claims.filter((c) => c.delivery.projectId === project.id);
      const theirs = claims.find((c) => c.delivery.projectId === other.project.id);
      assert.ok(mine[0] && mine[1] && theirs);
      await store.deleteEndpoint(project.id, endpoints[0]!.id, T0);
      await store.deleteProject(other.project.id);
      const result = await store.recordAttempts(
        [
          attemptRecord(mine[0].delivery, mine[0].event, { outcome: 'failed' }),
          attemptRecord(theirs.delivery, theirs.event, { outcome: 'failed' }),
          attemptRecord(mine[1].delivery, mine[1].event, { outcome: 'failed', effect: 'gone' }),
        ],
        { now: T0 + 1, failureThreshold: 1 },
      );
      assert.deepEqual(result.disabledEndpoints, []);
      assert.equal(await store.getProject(other.project.id), null);
    });

    withStore(
      'endpoints deleted while records of their deliveries and of others are written: no deadlock, every record written',
      async (store) => {
        // A record batch locks its endpoints, then moves their deliveries; a delete must take the
        // same locks in the same order, or the two deadlock (and the batch's records are lost).
        const { project, endpoints } = await projectWithEndpoints(store, 9);
        await store.acceptEvents(
          project.id,
          Array.from({ length: 60 }, () => eventInput('a')),
          T0,
        );
        const claims = await store.claimDueDeliveries({
          limit: 1000,
          leaseMs: 600 * SECOND,
          now: T0,
          workerId: 'w1',
        });
        assert.equal(claims.length, 540);
        // Each record batch holds deliveries of every endpoint: the claims interleaved.
        claims.sort((a, b) => a.delivery.id.localeCompare(b.delivery.id));
        const outcome = (i: number) => (i % 2 === 0 ? 'succeeded' : 'failed');
        const records = claims.map((c, i) => attemptRecord(c.delivery, c.event, { outcome: outcome(i) }));
        const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
        const writes: Promise<unknown>[] = [];
        const writing = (async () => {
          for (let i = 0; i < records.length; i += 6) {
            writes.push(
              store.recordAttempts(records.slice(i, i + 6), { now: T0 + 1, failureThreshold: 1000 }),
            );
            await pause(1);
          }
        })();
        const deletes: Promise<boolean>[] = [];
        for (const ep of endpoints.slice(0, 8)) {
          deletes.push(store.deleteEndpoint(project.id, ep.id, T0));
          await pause(7);
        }
        await writing;
        const settled = await Promise.allSettled([...writes, ...deletes]);
        const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
        assert.deepEqual(failures, []);
        assert.deepEqual(await Promise.all(deletes), Array(8).fill(true));
        // Every attempt is stored, once, and counted on its delivery.
        const attempts = (
          await allPages((cursor) => store.listAttempts(project.id, { limit: 100, cursor }))
        ).flat();
        assert.equal(attempts.length, records.length);
        const kept = endpoints[8]!.id;
        for (const [i, c] of claims.entries()) {
          const d = await store.getDelivery(project.id, c.delivery.id);
          // A failed attempt's retry is closed with its endpoint; the kept endpoint's waits.
          const status =
            outcome(i) === 'succeeded' ? 'succeeded' : c.delivery.endpointId === kept ? 'pending' : 'failed';
          assert.deepEqual([d?.attempts, d?.status], [1, status], c.delivery.id);
        }
      },
    );

    withStore(
      'deleteEndpoint with a backlog of many batches: an accept and a record batch holding one of its deliveries go in between; none is left open',
      (store) =>
        withParkBatch(100, async () => {
          // One transaction closing the whole backlog held the endpoint (PostgreSQL: its row
          // locked; SQLite: the write lock) until it was all closed: 300,000 took 6.7 s, and the
          // accepts and attempt records that touched it waited as long.
          const { project, endpoints } = await projectWithEndpoints(store, 2);
          const [gone, kept] = endpoints;
          await store.acceptEvents(project.id, [eventInput('a')], T0);
          const claims = await store.claimDueDeliveries({
            limit: 10,
            leaseMs: 600 * SECOND,
            now: T0,
            workerId: 'w',
          });
          assert.equal(claims.length, 2);
          for (let i = 0; i < 8; i++) {
            await store.acceptEvents(
              project.id,
              Array.from({ length: 500 }, () => eventInput('a')),
              T0,
            );
          }
          const order: string[] = [];
          const deleting = store
            .deleteEndpoint(project.id, gone!.id, T0)
            .then((ok) => order.push(`deleted ${ok}`));
          // Its first write is in (the endpoint is gone); 39 batches are left.
          while (await store.getEndpoint(project.id, gone!.id)) await new Promise((r) => setImmediate(r));
          const records = claims.map((c) => attemptRecord(c.delivery, c.event, { outcome: 'failed' }));
          const recording = store
            .recordAttempts(records, { now: T0 + 1, failureThreshold: 100 })
            .then(() => order.push('recorded'));
          const accepting = store
            .acceptEvents(project.id, [eventInput('a')], T0 + 1)
            .then(() => order.push('accepted'));
          await Promise.all([deleting, recording, accepting]);
          assert.equal(order.at(-1), 'deleted true', order.join(', '));
          // Not one of its deliveries is left to send; the kept endpoint's are all there.
          assert.equal((await store.backlog(T0 + DAY)).pending, 4_002, 'the kept endpoint’s alone');
          const mine = claims.find((c) => c.delivery.endpointId === gone!.id)!;
          const theirs = claims.find((c) => c.delivery.endpointId === kept!.id)!;
          const closed = await store.getDelivery(project.id, mine.delivery.id);
          assert.deepEqual([closed?.attempts, closed?.status], [1, 'failed']);
          assert.equal((await store.getDelivery(project.id, theirs.delivery.id))?.status, 'pending');
        }),
    );

    withStore(
      'updateEndpoint active:false disables manually and parks; active:true resumes',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        const [acc] = await store.acceptEvents(project.id, [eventInput('a')], T0);
        const off = await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 1);
        assert.equal(off?.status, 'disabled');
        assert.equal(off?.disabledReason, 'manual');
        assert.equal(off?.disabledAt, T0 + 1);
        assert.equal((await store.getDelivery(project.id, acc!.deliveries[0]!.id))?.status, 'parked');
        assert.deepEqual(
          await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + 2, workerId: 'w' }),
          [],
        );
        const ops = await store.listOperationalEvents(project.id, { limit: 10 });
        assert.equal(ops.data[0]?.type, 'endpoint.disabled');
        assert.equal(ops.data[0]?.data.reason, 'manual');
        const on = await store.updateEndpoint(project.id, ep.id, { active: true }, T0 + 3);
        assert.equal(on?.status, 'active');
        assert.equal(on?.disabledReason, null);
        const d = await store.getDelivery(project.id, acc!.deliveries[0]!.id);
        assert.equal(d?.status, 'pending');
        assert.equal(d?.nextAttemptAt, T0 + 3);
        assert.equal(
          (await store.listOperationalEvents(project.id, { limit: 10 })).data[0]?.type,
          'endpoint.recovered',
        );
      },
    );

    withStore(
      'endpoint.disabled counts what the disable parked: not a delivery in flight, which its record then settles',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0);
        const [sending, failing] = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60 * SECOND,
          now: T0,
          workerId: 'w1',
        });
        assert.ok(sending && failing);
        const [waiting] = await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0 + 1);
        // One put off until later: not in flight either.
        await store.releaseDeliveries([
          { projectId: project.id, deliveryId: waiting!.deliveries[0]!.id, nextAttemptAt: T0 + HOUR },
        ]);
        await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 2);
        // The two in flight succeed and fail while the manual disable lands.
        const recorded = await store.recordAttempts(
          [
            attemptRecord(sending.delivery, sending.event, { startedAt: T0 + 1 }),
            attemptRecord(failing.delivery, failing.event, { outcome: 'failed', startedAt: T0 + 1 }),
          ],
          { now: T0 + 3, failureThreshold: 10 },
        );
        assert.deepEqual(recorded.statuses, ['succeeded', 'parked']);
        const [op] = (await store.listOperationalEvents(project.id, { limit: 10 })).data;
        assert.equal(op?.type, 'endpoint.disabled');
        assert.equal(op?.data.reason, 'manual');
        assert.equal(op?.data.parked, 2, 'the two waiting; not the two in flight');
        for (const d of waiting!.deliveries)
          assert.equal((await store.getDelivery(project.id, d.id))?.status, 'parked');
        // Enabling resumes the three parked, none of them twice.
        assert.equal((await store.enableEndpoint(project.id, ep.id, T0 + 4))?.resumed, 3);
        assert.equal((await store.getDelivery(project.id, sending.delivery.id))?.status, 'succeeded');
      },
    );

    /** Waits until `done`, for the parking a disable leaves to later writes (park-batch.ts). */
    const until = async (done: () => Promise<boolean>, what: string) => {
      for (const end = Date.now() + 10_000; !(await done()); ) {
        if (Date.now() > end) assert.fail(`not within 10 s: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    withStore(
      'a disable parks a backlog past one batch in later writes: all parked, counted in endpoint.disabled, other writes between two',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, other] = endpoints;
        assert.ok(ep && other);
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const claims = await claimAtStart(store);
        const gone = claims.find((c) => c.delivery.endpointId === ep.id);
        assert.ok(gone && claims.length === 2);
        // 9 waiting for the endpoint (and 9 for the other one): 5 batches of 2 and more.
        const waiting = await store.acceptEvents(
          project.id,
          Array.from({ length: 9 }, () => eventInput('a')),
          T0,
        );
        const mine = waiting.flatMap((w) =>
          w.deliveries.filter((d) => d.endpointId === ep.id).map((d) => d.id),
        );
        assert.equal(mine.length, 9);
        const statuses = async () =>
          Promise.all(mine.map(async (id) => (await store.getDelivery(project.id, id))?.status));
        await withParkBatch(2, async () => {
          const result = await store.recordAttempts([goneRecord(gone)], {
            now: T0 + 1,
            failureThreshold: 100,
          });
          assert.deepEqual(result.disabledEndpoints, [
            { projectId: project.id, endpointId: ep.id, reason: 'gone' },
          ]);
          await assertWriteInterleaves(store, statuses, 'pending', 'parking');
          await until(async () => (await statuses()).every((s) => s === 'parked'), 'all 9 parked');
        });
        const op = (await store.listOperationalEvents(project.id, { limit: 10 })).data.find(
          (o) => o.type === 'endpoint.disabled',
        );
        assert.equal(op?.data.parked, 9, 'the 9 waiting, not the one whose 410 disabled it');
        assert.equal((await store.getDelivery(project.id, gone.delivery.id))?.status, 'failed');
        // The other endpoint's are left alone; none of the disabled one's is claimed.
        const later = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 1000,
          now: T0 + 2,
          workerId: 'w2',
        });
        assert.equal(later.length, 9);
        assert.ok(later.every((c) => c.delivery.endpointId === other.id));
        assert.equal((await store.enableEndpoint(project.id, ep.id, T0 + 3))?.resumed, 9);
      },
    );

    withStore(
      'disables sharing one write, and a manual one, park every backlog past the batch, each counted exactly',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 3);
        const [a, b, manual] = endpoints;
        assert.ok(a && b && manual);
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const claims = await claimAtStart(store);
        const goneA = claims.find((c) => c.delivery.endpointId === a.id);
        const goneB = claims.find((c) => c.delivery.endpointId === b.id);
        assert.ok(goneA && goneB);
        const waiting = await store.acceptEvents(
          project.id,
          Array.from({ length: 5 }, () => eventInput('a')),
          T0,
        );
        const of = (ep: string) => waiting.flatMap((w) => w.deliveries.filter((d) => d.endpointId === ep));
        await withParkBatch(2, async () => {
          const result = await store.recordAttempts([goneA, goneB].map(goneRecord), {
            now: T0 + 1,
            failureThreshold: 100,
          });
          assert.equal(result.disabledEndpoints.length, 2);
          await store.updateEndpoint(project.id, manual.id, { active: false }, T0 + 2);
          await until(async () => {
            for (const d of [...of(a.id), ...of(b.id), ...of(manual.id)])
              if ((await store.getDelivery(project.id, d.id))?.status !== 'parked') return false;
            return true;
          }, 'all 15 parked');
        });
        const ops = (await store.listOperationalEvents(project.id, { limit: 10 })).data.filter(
          (o) => o.type === 'endpoint.disabled',
        );
        const parkedOf = (ep: string) => ops.find((o) => o.data.endpointId === ep)?.data.parked;
        // The manual one's first delivery is in flight (claimed above): its record settles it.
        assert.deepEqual([parkedOf(a.id), parkedOf(b.id), parkedOf(manual.id)], [5, 5, 5]);
      },
    );

    withStore(
      'an enable while a disable still parks stops the parking: every delivery of the endpoint pending after it',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const [gone] = await claimAtStart(store);
        assert.ok(gone);
        const waiting = await store.acceptEvents(
          project.id,
          Array.from({ length: 20 }, () => eventInput('a')),
          T0,
        );
        const mine = waiting.map((w) => w.deliveries[0]!.id);
        await withParkBatch(2, async () => {
          await store.recordAttempts([goneRecord(gone)], { now: T0 + 1, failureThreshold: 100 });
          const enabled = await store.enableEndpoint(project.id, ep.id, T0 + 2);
          assert.ok(enabled && enabled.resumed >= 2 && enabled.resumed <= 20, `resumed ${enabled?.resumed}`);
          // Parking that had not run yet does not: once the enable's resume is done (in batches too),
          // nothing is parked after it.
          await until(async () => {
            for (const id of mine)
              if ((await store.getDelivery(project.id, id))?.status !== 'pending') return false;
            return true;
          }, 'all 20 pending again');
          for (let i = 0; i < 3; i++) {
            for (const id of mine) assert.equal((await store.getDelivery(project.id, id))?.status, 'pending');
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        });
        const op = (await store.listOperationalEvents(project.id, { limit: 10 })).data.find(
          (o) => o.type === 'endpoint.disabled',
        );
        assert.equal(op?.data.parked, 20);
      },
    );

    /** An endpoint with `n` deliveries parked by a manual disable at T0 + 1 (all in its write). */
    const parkedBacklog = async (store: Store, n: number) => {
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      const [ep, other] = endpoints;
      assert.ok(ep && other);
      const waiting = await store.acceptEvents(
        project.id,
        Array.from({ length: n }, () => eventInput('a')),
        T0,
      );
      const mine = waiting.flatMap((w) =>
        w.deliveries.filter((d) => d.endpointId === ep.id).map((d) => d.id),
      );
      assert.equal(mine.length, n);
      await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 1);
      const statuses = async () =>
        Promise.all(mine.map(async (id) => (await store.getDelivery(project.id, id))?.status));
      assert.ok((await statuses()).every((s) => s === 'parked'));
      return { project, ep, other, mine, statuses };
    };

    withStore(
      'an enable resumes a parked backlog past one batch in later writes: all resumed, counted in endpoint.recovered, other writes between two',
      async (store) => {
        const { project, ep, mine, statuses } = await parkedBacklog(store, 9);
        await withParkBatch(2, async () => {
          const enabled = await store.enableEndpoint(project.id, ep.id, T0 + 2);
          assert.equal(enabled?.resumed, 9, 'the first batch and the 7 counted for later');
          assert.equal(enabled?.endpoint.status, 'active');
          await assertWriteInterleaves(store, statuses, 'parked', 'resuming');
          await until(async () => (await statuses()).every((s) => s === 'pending'), 'all 9 pending');
        });
        const op = (await store.listOperationalEvents(project.id, { limit: 10 })).data.find(
          (o) => o.type === 'endpoint.recovered',
        );
        assert.equal(op?.data.resumed, 9);
        // All due at the enable's time: claimed at once, every one.
        await claimedAll(store, ep.id, mine, T0 + 2);
      },
    );

    withStore(
      'a disable while an enable still resumes stops the resuming: every delivery of the endpoint parked after it',
      async (store) => {
        const { project, ep, statuses } = await parkedBacklog(store, 20);
        await withParkBatch(2, async () => {
          assert.equal((await store.enableEndpoint(project.id, ep.id, T0 + 2))?.resumed, 20);
          await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 3);
          // The disable's parking done, the enable's later batches, had they gone on, would have
          // made some pending again: none is, for as long as they would have taken.
          await until(async () => (await statuses()).every((s) => s === 'parked'), 'all 20 parked');
          for (let i = 0; i < 3; i++) {
            assert.deepEqual(new Set(await statuses()), new Set(['parked']));
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        });
        const claims = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 1000,
          now: T0 + 4,
          workerId: 'w',
        });
        assert.ok(claims.every((c) => c.delivery.endpointId !== ep.id));
      },
    );

    withStore(
      'a process stopped mid-resume leaves parked deliveries of an active endpoint: the start-up sweep resumes them, in batches, and no others',
      async (store) => {
        const { project, ep, other, mine } = await parkedBacklog(store, 9);
        // Another endpoint, disabled with parked deliveries of its own: they stay parked.
        await store.updateEndpoint(project.id, other.id, { active: false }, T0 + 1);
        await withParkBatch(2, async () => {
          assert.equal((await store.enableEndpoint(project.id, ep.id, T0 + 2))?.resumed, 9);
          await store.close(); // the process stops while the later batches run
        });
        const next = await reopen();
        try {
          const statuses = async () =>
            Promise.all(mine.map(async (id) => (await next.getDelivery(project.id, id))?.status));
          assert.equal((await next.getEndpoint(project.id, ep.id))?.status, 'active');
          assert.ok((await statuses()).includes('parked'), 'the stop left some parked');
          await withParkBatch(2, async () => {
            assert.equal(await next.resumeStrandedParked(T0 + 5), 1, 'one endpoint had some');
          });
          assert.deepEqual(new Set(await statuses()), new Set(['pending']));
          // Nothing left to do: a second sweep (another process starting) finds none.
          assert.equal(await next.resumeStrandedParked(T0 + 6), 0);
          const claims = await claimedAll(next, ep.id, mine, T0 + 5);
          // The disabled endpoint's stay parked (none claimed).
          assert.ok(claims.every((c) => c.delivery.endpointId !== other.id));
          assert.equal((await next.getEndpoint(project.id, other.id))?.status, 'disabled');
        } finally {
          await next.close();
        }
      },
    );

    withStore(
      'a delivery handed back as parked while its endpoint is active in the store (a stale view after an enable) stays pending and due',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, off] = endpoints;
        assert.ok(ep && off);
        await store.acceptEvents(project.id, [eventInput('a')], T0);
        const claims = await claimAtStart(store);
        const mine = claims.find((c) => c.delivery.endpointId === ep.id);
        const offClaim = claims.find((c) => c.delivery.endpointId === off.id);
        assert.ok(mine && offClaim);
        // `off` disabled while its delivery is out (in flight: left to its worker); `ep` stays active.
        await store.updateEndpoint(project.id, off.id, { active: false }, T0 + 1);
        // Both handed back as parked: the dispatcher saw both endpoints disabled; `ep` is active.
        await store.releaseDeliveries([
          {
            projectId: project.id,
            deliveryId: mine.delivery.id,
            nextAttemptAt: T0 + 4,
            status: 'parked',
            heldBy: 'w1',
          },
          {
            projectId: project.id,
            deliveryId: offClaim.delivery.id,
            nextAttemptAt: T0 + 4,
            status: 'parked',
            heldBy: 'w1',
          },
        ]);
        const back = await store.getDelivery(project.id, mine.delivery.id);
        assert.equal(back?.status, 'pending', 'the active endpoint’s delivery is not parked');
        assert.equal(back?.nextAttemptAt, T0 + 4);
        assert.equal((await store.getDelivery(project.id, offClaim.delivery.id))?.status, 'parked');
        const again = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 1000,
          now: T0 + 4,
          workerId: 'w3',
        });
        assert.deepEqual(
          again.map((c) => c.delivery.id),
          [mine.delivery.id],
        );
      },
    );

    withStore(
      'recoverDeliveries: failed deliveries of the endpoint created in [since, until]',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, other] = endpoints;
        assert.ok(ep && other);
        for (const t of [T0, T0 + HOUR, T0 + 2 * HOUR]) await deliveredAt(store, project.id, t);
        assert.deepEqual(
          await store.recoverDeliveries(project.id, ep.id, T0 + HOUR, T0 + 2 * HOUR - 1, T0 + 3 * HOUR),
          { recovered: 1, nextSince: null },
        );
        assert.deepEqual(
          await store.recoverDeliveries(project.id, ep.id, T0, T0 + 3 * HOUR, T0 + 3 * HOUR),
          { recovered: 2, nextSince: null },
          'only failed ones',
        );
        const claims = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 1000,
          now: T0 + 3 * HOUR,
          workerId: 'w',
        });
        assert.equal(claims.length, 3);
        assert.ok(claims.every((c) => c.delivery.endpointId === ep.id && c.delivery.attempts === 1));
        const otherProject = await store.createProject({ name: 'q' }, T0);
        assert.deepEqual(await store.recoverDeliveries(otherProject.id, other.id, 0, T0 + DAY, T0 + DAY), {
          recovered: 0,
          nextSince: null,
        });
      },
    );

    withStore(
      'recoverDeliveries: in batches, other writes between two; every one in range recovered, once',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, other] = endpoints;
        assert.ok(ep && other);
        // 7 failed deliveries to each endpoint in range, one to each an hour later; one succeeded.
        const times = [0, 1, 2, 3, 4, 5, 6, HOUR, 7].map((dt) => T0 + dt);
        for (const [i, t] of times.entries()) await deliveredAt(store, project.id, t, i === times.length - 1);
        const rows = recoverBatch.rows;
        recoverBatch.rows = 2;
        try {
          const order: string[] = [];
          const recovering = store
            .recoverDeliveries(project.id, ep.id, T0, T0 + HOUR - 1, T0 + 2 * HOUR)
            .then((n) => {
              order.push('recover');
              return n;
            });
          const meanwhile = store
            .createProject({ name: 'meanwhile' }, T0)
            .then(() => order.push('other write'));
          const [recovered] = await Promise.all([recovering, meanwhile]);
          assert.deepEqual(recovered, { recovered: 7, nextSince: null }, 'all 7 in range, over 4 batches');
          // One writer at a time (SQLite): a write asked for meanwhile goes between two batches, not
          // after them all. (PostgreSQL writes run side by side: only the counts tell there.)
          if (!store.capabilities.multiProcess) {
            assert.deepEqual(
              order,
              ['other write', 'recover'],
              'a write asked for meanwhile did not wait for all',
            );
          }
        } finally {
          recoverBatch.rows = rows;
        }
        const claims = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 1000,
          now: T0 + 2 * HOUR,
          workerId: 'w',
        });
        assert.equal(claims.length, 7);
        assert.equal(new Set(claims.map((c) => c.delivery.id)).size, 7);
        assert.ok(
          claims.every((c) => c.delivery.endpointId === ep.id && c.delivery.createdAt <= T0 + HOUR - 1),
        );
        assert.deepEqual(
          await store.recoverDeliveries(project.id, ep.id, T0, T0 + DAY, T0 + 2 * HOUR),
          { recovered: 1, nextSince: null },
          'the later one',
        );
        assert.deepEqual(await store.recoverDeliveries(project.id, other.id, T0, T0 + DAY, T0 + 2 * HOUR), {
          recovered: 8,
          nextSince: null,
        });
      },
    );

    withStore(
      'recoverDeliveries: a recover out of time stops after a batch and says where to go on; recovers from there cover every failed delivery once, oldest first',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, other] = endpoints;
        assert.ok(ep && other);
        // Failed deliveries to each endpoint, accepted out of their creation order (so that neither
        // insertion order nor a due time can stand for it), three created at T0 + 1 s; one an hour later.
        for (const dt of [3, 1, 4, 0, 1, 2, 1, 3_600]) {
          assert.equal((await deliveredAt(store, project.id, T0 + dt * SECOND)).length, 2);
        }
        const saved = { ...recoverBatch };
        Object.assign(recoverBatch, { rows: 2, requestMs: 0 });
        const results = [];
        try {
          let since: number | null = T0;
          while (since !== null && results.length < 10) {
            const r = await store.recoverDeliveries(project.id, ep.id, since, T0 + 10 * SECOND, T0 + HOUR);
            results.push(r);
            since = r.nextSince;
          }
        } finally {
          Object.assign(recoverBatch, saved);
        }
        assert.deepEqual(results, [
          // T0 and the first of T0 + 1 s, then the time was up.
          { recovered: 2, nextSince: T0 + SECOND },
          // The other two of T0 + 1 s (no further than since: it goes on), then T0 + 2 s and 3 s.
          { recovered: 4, nextSince: T0 + 3 * SECOND },
          { recovered: 1, nextSince: null },
        ]);
        const claims = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 1000,
          now: T0 + HOUR,
          workerId: 'w',
        });
        assert.equal(claims.length, 7);
        assert.equal(new Set(claims.map((c) => c.delivery.id)).size, 7);
        assert.ok(
          claims.every((c) => c.delivery.endpointId === ep.id && c.delivery.createdAt <= T0 + 4 * SECOND),
        );
        assert.deepEqual(
          await store.recoverDeliveries(project.id, ep.id, T0, T0 + DAY, T0 + 2 * HOUR),
          { recovered: 1, nextSince: null },
          'the later one, left alone by the range',
        );
        assert.deepEqual(await store.recoverDeliveries(project.id, other.id, T0, T0 + DAY, T0 + 2 * HOUR), {
          recovered: 8,
          nextSince: null,
        });
      },
    );

    withStore(
      'recoverDeliveries: of an endpoint deleted, nothing recovered and nothing left to go on from (its failed deliveries are not walked)',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, other] = endpoints;
        assert.ok(ep && other);
        for (const dt of [0, 1, 2, 3, 4]) {
          assert.equal((await deliveredAt(store, project.id, T0 + dt * SECOND)).length, 2);
        }
        assert.equal(await store.deleteEndpoint(project.id, ep.id, T0), true);
        const saved = { ...recoverBatch };
        // Out of time after every batch: a recover that walked on would say where to go on.
        Object.assign(recoverBatch, { rows: 2, requestMs: 0 });
        try {
          assert.deepEqual(
            await store.recoverDeliveries(project.id, ep.id, T0, T0 + DAY, T0 + HOUR),
            { recovered: 0, nextSince: null },
            'the first batch found it gone',
          );
        } finally {
          Object.assign(recoverBatch, saved);
        }
        assert.deepEqual(await store.recoverDeliveries(project.id, other.id, T0, T0 + DAY, T0 + HOUR), {
          recovered: 5,
          nextSince: null,
        });
      },
    );

    withStore(
      'recoverDeliveries: of an endpoint disabled (after the caller looked), nothing recovered; it stops at once, saying where to go on',
      async (store) => {
        // The route refuses a disabled endpoint (409), then recovers: a disable between the two
        // made the failed deliveries pending on a disabled endpoint, left for claims to park.
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, other] = endpoints;
        assert.ok(ep && other);
        const failed = [];
        for (const dt of [0, 1, 2, 3, 4]) {
          const claims = await deliveredAt(store, project.id, T0 + dt * SECOND);
          failed.push(...claims.filter((c) => c.delivery.endpointId === ep.id).map((c) => c.delivery.id));
        }
        assert.ok(await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 10 * SECOND));
        const saved = { ...recoverBatch };
        Object.assign(recoverBatch, { rows: 2 });
        try {
          assert.deepEqual(
            await store.recoverDeliveries(project.id, ep.id, T0, T0 + DAY, T0 + HOUR),
            { recovered: 0, nextSince: T0 },
            'the first batch found it disabled',
          );
        } finally {
          Object.assign(recoverBatch, saved);
        }
        for (const id of failed) assert.equal((await store.getDelivery(project.id, id))?.status, 'failed');
        // Enabled again, a recover from there recovers them.
        assert.ok(await store.enableEndpoint(project.id, ep.id, T0 + HOUR));
        assert.deepEqual(await store.recoverDeliveries(project.id, ep.id, T0, T0 + DAY, T0 + HOUR), {
          recovered: 5,
          nextSince: null,
        });
        assert.deepEqual(await store.recoverDeliveries(project.id, other.id, T0, T0 + DAY, T0 + HOUR), {
          recovered: 5,
          nextSince: null,
        });
      },
    );

    withStore('secret rotation: grace period keeps the old secret valid, 0 retires it now', async (store) => {
      const p = await store.createProject({ name: 'p' }, T0);
      const ep = await store.createEndpoint(endpointInput(p.id), 'whsec_one', T0);
      const after = await store.rotateEndpointSecret(p.id, ep.id, 'whsec_two', HOUR, T0 + 10);
      // With the endpoint as the rotation's transaction read it (a rotation changes its secrets only).
      assert.deepEqual(typeof after === 'object' && after?.endpoint, await store.getEndpoint(p.id, ep.id));
      assert.deepEqual(
        rotated(after).map((s) => [s.secret, s.expiresAt]),
        [
          ['whsec_two', null],
          ['whsec_one', T0 + 10 + HOUR],
        ],
      );
      assert.deepEqual(
        (await store.getEndpointSecrets(p.id, ep.id, T0 + 10 + HOUR - 1)).map((s) => s.secret),
        ['whsec_two', 'whsec_one'],
      );
      assert.deepEqual(
        (await store.getEndpointSecrets(p.id, ep.id, T0 + 10 + HOUR)).map((s) => s.secret),
        ['whsec_two'],
      );
      const retired = await store.rotateEndpointSecret(p.id, ep.id, 'whsec_three', 0, T0 + 20);
      assert.deepEqual(
        rotated(retired).map((s) => s.secret),
        ['whsec_three'],
        'grace 0 retires the current secret and the one still in its grace',
      );
      assert.equal(await store.rotateEndpointSecret(p.id, 'ep_missing', 'x', 0, T0), null);
      const q = await store.createProject({ name: 'q' }, T0);
      assert.equal(await store.rotateEndpointSecret(q.id, ep.id, 'x', 0, T0), null);
      // The dispatcher's view: settings and valid secrets, keyed by endpoint id.
      const map = await store.getDispatchEndpoints(
        [
          { projectId: p.id, endpointId: ep.id },
          { projectId: p.id, endpointId: 'ep_missing' },
          { projectId: q.id, endpointId: ep.id },
        ],
        T0 + 30,
      );
      assert.deepEqual([...map.keys()], [ep.id]);
      assert.equal(map.get(ep.id)?.endpoint.id, ep.id);
      assert.deepEqual(
        map.get(ep.id)?.secrets.map((s) => s.secret),
        ['whsec_three'],
      );
      // Field for field what the management reads return.
      assert.deepEqual(map.get(ep.id)?.secrets, await store.getEndpointSecrets(p.id, ep.id, T0 + 30));
      assert.deepEqual(map.get(ep.id)?.endpoint, await store.getEndpoint(p.id, ep.id));
    });

    withStore(
      'secret rotation deletes the secrets whose time is over: rotations do not pile them up in the database',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const ep = await store.createEndpoint(endpointInput(p.id), 'whsec_s0', T0);
        // What is still stored: a read as of the endpoint's creation lists every secret valid then,
        // which is every one not deleted (each expired after T0).
        const stored = async () =>
          (await store.getEndpointSecrets(p.id, ep.id, T0)).map((s) => s.secret).sort();
        for (let i = 1; i <= 20; i++) await store.rotateEndpointSecret(p.id, ep.id, `whsec_s${i}`, 0, T0 + i);
        assert.deepEqual(
          await stored(),
          ['whsec_s20'],
          'a rotation with grace 0 deletes the secret it retires',
        );
        await store.rotateEndpointSecret(p.id, ep.id, 'whsec_s21', HOUR, T0 + 21);
        assert.deepEqual(await stored(), ['whsec_s20', 'whsec_s21'], 'one in its grace stays');
        await store.rotateEndpointSecret(p.id, ep.id, 'whsec_s22', 0, T0 + 21 + HOUR);
        assert.deepEqual(await stored(), ['whsec_s22'], 'its grace over, the next rotation deletes it');
        assert.deepEqual(
          (await store.getEndpointSecrets(p.id, ep.id, T0 + 21 + HOUR)).map((s) => s.secret),
          ['whsec_s22'],
        );
      },
    );

    withStore(
      'secret rotation back to a secret still in its grace lists it once, as the current one',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const ep = await store.createEndpoint(endpointInput(p.id), 'whsec_one', T0);
        await store.rotateEndpointSecret(p.id, ep.id, 'whsec_two', HOUR, T0 + 10);
        const back = await store.rotateEndpointSecret(p.id, ep.id, 'whsec_one', HOUR, T0 + 20);
        assert.deepEqual(
          rotated(back).map((s) => [s.secret, s.expiresAt]),
          [
            ['whsec_one', null],
            ['whsec_two', T0 + 20 + HOUR],
          ],
        );
        assert.deepEqual(
          (await store.getEndpointSecrets(p.id, ep.id, T0 + 30)).map((s) => s.secret),
          ['whsec_one', 'whsec_two'],
        );
      },
    );

    withStore(
      'secret rotation to the current secret is refused in its transaction: of concurrent rotations to one secret one goes through',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const key = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
        const ep = await store.createEndpoint(endpointInput(p.id), key, T0);
        const secrets = async () =>
          (await store.getEndpointSecrets(p.id, ep.id, T0 + 10)).map((s) => s.secret);
        // The current key, with or without its whsec_ prefix: nothing changes.
        assert.equal(await store.rotateEndpointSecret(p.id, ep.id, key, HOUR, T0 + 1), 'same-as-current');
        assert.equal(
          await store.rotateEndpointSecret(p.id, ep.id, key.slice('whsec_'.length), HOUR, T0 + 1),
          'same-as-current',
        );
        assert.deepEqual(await secrets(), [key]);
        // Ten rotations to one new key at once: one rotates, nine find it current.
        const next = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.rotateEndpointSecret(p.id, ep.id, next, HOUR, T0 + 2)),
        );
        assert.equal(results.filter((r) => r === 'same-as-current').length, 9);
        assert.deepEqual(
          rotated(results.find((r) => typeof r === 'object' && r !== null) ?? null).map((s) => s.secret),
          [next, key],
        );
        assert.deepEqual(await secrets(), [next, key]);
        // A secret still valid in its grace period may become current again.
        assert.deepEqual(
          rotated(await store.rotateEndpointSecret(p.id, ep.id, key, 0, T0 + 3)).map((s) => s.secret),
          [key],
        );
        // Other schemes compare the secret as it is.
        const plain = await store.createEndpoint(
          endpointInput(p.id, { signature: { scheme: 'hmac-sha256' } }),
          'plain-secret-1',
          T0,
        );
        assert.equal(
          await store.rotateEndpointSecret(p.id, plain.id, 'plain-secret-1', HOUR, T0 + 1),
          'same-as-current',
        );
        assert.ok(
          typeof (await store.rotateEndpointSecret(p.id, plain.id, 'plain-secret-2', HOUR, T0 + 1)) ===
            'object',
        );
        assert.equal(await store.rotateEndpointSecret(p.id, 'ep_missing', next, 0, T0), null);
      },
    );

    withStore(
      'secret rotation: a grace shortens every older secret to it, never lengthens one; at most MAX_VALID_SECRETS stay valid',
      async (store) => {
        const p = await store.createProject({ name: 'p' }, T0);
        const ep = await store.createEndpoint(endpointInput(p.id), 'whsec_s0', T0);
        const valid = async (now: number) =>
          (await store.getEndpointSecrets(p.id, ep.id, now)).map((s) => [s.secret, s.expiresAt]);
        await store.rotateEndpointSecret(p.id, ep.id, 'whsec_s1', DAY, T0 + 1);
        // A shorter grace cuts the older secret's longer one down to it.
        await store.rotateEndpointSecret(p.id, ep.id, 'whsec_s2', HOUR, T0 + 2);
        assert.deepEqual(await valid(T0 + 2), [
          ['whsec_s2', null],
          ['whsec_s1', T0 + 2 + HOUR],
          ['whsec_s0', T0 + 2 + HOUR],
        ]);
        // A longer grace does not lengthen the older ones.
        await store.rotateEndpointSecret(p.id, ep.id, 'whsec_s3', DAY, T0 + 3);
        assert.deepEqual(await valid(T0 + 3), [
          ['whsec_s3', null],
          ['whsec_s2', T0 + 3 + DAY],
          ['whsec_s1', T0 + 2 + HOUR],
          ['whsec_s0', T0 + 2 + HOUR],
        ]);
        // Grace 0 (a leak): only the new secret is valid, whatever the earlier rotations left.
        const emergency = await store.rotateEndpointSecret(p.id, ep.id, 'whsec_s4', 0, T0 + 4);
        assert.deepEqual(
          rotated(emergency).map((s) => [s.secret, s.expiresAt]),
          [['whsec_s4', null]],
        );
        assert.deepEqual(await valid(T0 + 4), [['whsec_s4', null]]);

        // Twelve rotations a minute apart, each with a day of grace: the newest stay valid, up to the cap.
        let last = null;
        for (let i = 1; i <= 12; i++) {
          last = await store.rotateEndpointSecret(p.id, ep.id, `whsec_r${i}`, DAY, T0 + i * 60_000);
        }
        const now = T0 + 12 * 60_000;
        const expected = Array.from({ length: MAX_VALID_SECRETS }, (_, i) => `whsec_r${12 - i}`);
        assert.deepEqual(
          rotated(last).map((s) => s.secret),
          expected,
        );
        assert.deepEqual(
          (await store.getEndpointSecrets(p.id, ep.id, now)).map((s) => s.secret),
          expected,
        );
        const view = await store.getDispatchEndpoints([{ projectId: p.id, endpointId: ep.id }], now);
        assert.deepEqual(
          view.get(ep.id)?.secrets.map((s) => s.secret),
          expected,
        );
      },
    );

    withStore(
      'endpointStats: buckets with counts, average and p95, only buckets with data, ascending',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        const minute = 60 * SECOND;
        const base = Math.floor(T0 / minute) * minute;
        const plan: [number, 'succeeded' | 'failed', number][] = [
          [base + 1000, 'succeeded', 10],
          [base + 2000, 'failed', 30],
          [base + 59_999, 'succeeded', 20],
          [base + 3 * minute + 5, 'succeeded', 100],
        ];
        await store.acceptEvents(
          project.id,
          plan.map(() => eventInput('a')),
          base,
        );
        const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: base, workerId: 'w' });
        assert.equal(claims.length, 4);
        await store.recordAttempts(
          claims.map((c, i) => {
            const [startedAt, outcome, durationMs] = plan[i]!;
            return attemptRecord(c.delivery, c.event, {
              startedAt,
              outcome,
              durationMs,
              status: outcome === 'failed' ? 'failed' : 'succeeded',
            });
          }),
          { now: base + 4 * minute, failureThreshold: 100 },
        );
        const buckets = await store.endpointStats(project.id, ep.id, {
          since: base,
          until: base + 10 * minute,
          bucketMs: minute,
        });
        assert.deepEqual(buckets, [
          { start: base, succeeded: 2, failed: 1, avgDurationMs: 20, p95DurationMs: 30 },
          { start: base + 3 * minute, succeeded: 1, failed: 0, avgDurationMs: 100, p95DurationMs: 100 },
        ]);
        const narrow = await store.endpointStats(project.id, ep.id, {
          since: base + 3 * minute,
          until: base + 10 * minute,
          bucketMs: minute,
        });
        assert.equal(narrow.length, 1);
        const q = await store.createProject({ name: 'q' }, T0);
        assert.deepEqual(
          await store.endpointStats(q.id, ep.id, { since: 0, until: base + DAY, bucketMs: minute }),
          [],
        );
      },
    );

    withStore(
      'endpointStats over many attempts: the same buckets step by step, and the thread is given back meanwhile',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const ep = endpoints[0]!;
        const minute = 60 * SECOND;
        const base = Math.floor(T0 / minute) * minute;
        // 1,200 attempts in the first minute (more than a step of the SQLite store reads), then
        // 1,400 two and a half seconds apart (~24 a minute), in the order they started.
        const n = 2_600;
        const plan = Array.from({ length: n }, (_, i) => ({
          startedAt: i < 1_200 ? base + 5_000 + i * 20 : base + minute + (i - 1_200) * 2_500,
          outcome: (i % 7 === 0 ? 'failed' : 'succeeded') as 'failed' | 'succeeded',
          durationMs: ((i * 37) % 500) + (i % 3),
        }));
        for (let i = 0; i < n; i += 100) {
          await store.acceptEvents(
            project.id,
            plan.slice(i, i + 100).map(() => eventInput('a')),
            base,
          );
        }
        const claims = [];
        while (claims.length < n) {
          const got = await store.claimDueDeliveries({ limit: 500, leaseMs: HOUR, now: base, workerId: 'w' });
          assert.ok(got.length > 0);
          claims.push(...got);
        }
        const records = claims.map((c, i) =>
          attemptRecord(c.delivery, c.event, {
            ...plan[i]!,
            status: plan[i]!.outcome === 'failed' ? 'failed' : 'succeeded',
            workerId: 'w',
          }),
        );
        for (let i = 0; i < n; i += 500) {
          await store.recordAttempts(records.slice(i, i + 500), {
            now: base + 2 * HOUR,
            failureThreshold: 1e9,
          });
        }
        /** The buckets as counted one attempt at a time. */
        const expected = (since: number, until: number, bucketMs: number) => {
          const buckets = new Map<number, typeof plan>();
          for (const a of plan.filter((x) => x.startedAt >= since && x.startedAt <= until)) {
            const start = Math.floor(a.startedAt / bucketMs) * bucketMs;
            buckets.set(start, [...(buckets.get(start) ?? []), a]);
          }
          return [...buckets.entries()]
            .sort(([x], [y]) => x - y)
            .map(([start, as]) => ({
              start,
              succeeded: as.filter((a) => a.outcome === 'succeeded').length,
              failed: as.filter((a) => a.outcome === 'failed').length,
              avgDurationMs: as.reduce((sum, a) => sum + a.durationMs, 0) / as.length,
              p95DurationMs: percentile95(as.map((a) => a.durationMs)),
            }));
        };
        for (const [since, until, bucketMs] of [
          [base, base + 2 * HOUR, minute],
          [base + 15_000, base + 2 * HOUR, minute],
          [base + 30 * minute + 7_000, base + 50 * minute + 3_000, minute],
          [base, base + 2 * HOUR, 5 * minute],
          [base - DAY, base + DAY, HOUR],
        ] as const) {
          assert.deepEqual(
            await store.endpointStats(project.id, ep.id, { since, until, bucketMs }),
            expected(since, until, bucketMs),
            `${since - base}..${until - base} by ${bucketMs}`,
          );
        }
        // Turns of the event loop while the stats are read: other requests are served meanwhile.
        let turns = 0;
        let reading = true;
        const turn = () => {
          turns++;
          if (reading) setImmediate(turn);
        };
        setImmediate(turn);
        const stats = await store.endpointStats(project.id, ep.id, {
          since: base,
          until: base + 2 * HOUR,
          bucketMs: minute,
        });
        reading = false;
        assert.equal(
          stats.reduce((sum, b) => sum + b.succeeded + b.failed, 0),
          n,
        );
        assert.ok(turns >= 2, `the event loop turned ${turns} times while the stats were read`);
      },
    );

    /**
     * 30 attempts to one endpoint, attempt i for event i (their ids follow i): of type `rare` where
     * `rare(i)`, failed where `failed(i)`. Returns the project, the endpoint and i of an attempt.
     */
    const thirtyAttempts = async (
      store: Store,
      rare: (i: number) => boolean,
      failed: (i: number) => boolean,
    ) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      for (let i = 0; i < 30; i++) {
        await store.acceptEvents(
          project.id,
          [eventInput(rare(i) ? 'rare' : 'common', { payload: { i } })],
          T0 + i,
        );
      }
      const claims = await store.claimDueDeliveries({
        limit: 50,
        leaseMs: 60_000,
        now: T0 + 100,
        workerId: 'w',
      });
      assert.equal(claims.length, 30);
      claims.sort((x, y) => (x.event.id < y.event.id ? -1 : 1));
      for (const [i, c] of claims.entries()) {
        const outcome = failed(i) ? { outcome: 'failed' as const, status: 'failed' as const } : {};
        await store.recordAttempts(
          [attemptRecord(c.delivery, c.event, { startedAt: T0 + 1000 + i, ...outcome })],
          {
            now: T0 + 2000,
            failureThreshold: 100,
          },
        );
      }
      return { project, endpointId: endpoints[0]!.id, indexOf: (a: Attempt) => a.startedAt - T0 - 1000 };
    };

    withStore(
      'listAttempts by event type looks at scanRows attempts a page, and its cursor goes on',
      async (store) => {
        const rare = new Set([3, 12, 20, 27]);
        const { project, endpointId, indexOf } = await thirtyAttempts(
          store,
          (i) => rare.has(i),
          () => false,
        );
        // 10 attempts a page: 29-20, 19-10, 9-0, then nothing older.
        const pages = await allPages((cursor) =>
          store.listAttempts(project.id, { limit: 100, eventType: 'rare', scanRows: 10, endpointId, cursor }),
        );
        assert.deepEqual(
          pages.map((p) => p.map(indexOf)),
          [[27, 20], [12], [3], []],
        );
        // A full page ends at its last item, not at the scan's end.
        const ones = await allPages((cursor) =>
          store.listAttempts(project.id, { limit: 1, eventType: 'rare', scanRows: 10, cursor }),
        );
        assert.deepEqual(ones.flat().map(indexOf), [27, 20, 12, 3]);
        // The default scans far more than 30: one page, no cursor.
        const whole = await store.listAttempts(project.id, { limit: 100, eventType: 'rare' });
        assert.deepEqual(whole.data.map(indexOf), [27, 20, 12, 3]);
        assert.equal(whole.nextCursor, null);
      },
    );

    withStore(
      'listOperationalEvents by type looks at scanRows events a page, and its cursor goes on',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        // 30 operational events, newest first: recovered, disabled, recovered, … (29 … 0).
        for (let i = 0; i < 30; i++) {
          await store.updateEndpoint(project.id, endpoints[0]!.id, { active: i % 2 === 1 }, T0 + 1 + i);
        }
        const all = await store.listOperationalEvents(project.id, { limit: 100 });
        assert.equal(all.data.length, 30);
        const disabled = all.data.filter((o) => o.type === 'endpoint.disabled').map((o) => o.id);
        assert.equal(disabled.length, 15);
        /** The sizes of the pages of disabled ones, having checked that they hold them all in order. */
        const pageSizes = async (query: { limit: number; scanRows?: number }) => {
          const pages = await allPages((cursor) =>
            store.listOperationalEvents(project.id, { ...query, type: 'endpoint.disabled', cursor }),
          );
          assert.deepEqual(
            pages.flat().map((o) => o.id),
            disabled,
          );
          return pages.map((p) => p.length);
        };
        // 10 events a page: 5 of them disabled, three times, then nothing older.
        assert.deepEqual(await pageSizes({ limit: 100, scanRows: 10 }), [5, 5, 5, 0]);
        // A full page ends at its last item, not at the scan's end.
        assert.deepEqual(await pageSizes({ limit: 4 }), [4, 4, 4, 3]);
        // The default scans far more than 30: one page, no cursor.
        const whole = await store.listOperationalEvents(project.id, {
          limit: 100,
          type: 'endpoint.recovered',
        });
        assert.deepEqual(
          whole.data.map((o) => o.id),
          all.data.filter((o) => o.type === 'endpoint.recovered').map((o) => o.id),
        );
        assert.equal(whole.nextCursor, null);
      },
    );

    withStore(
      'listOperationalEvents by endpoint: its events only, with type too, paged as by type',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [a, b] = [endpoints[0]!.id, endpoints[1]!.id];
        // 20 operational events, newest first, alternating between b and a: each disabled, then enabled.
        for (let i = 0; i < 20; i++) {
          const endpointId = i % 2 === 0 ? a : b;
          await store.updateEndpoint(project.id, endpointId, { active: i % 4 >= 2 }, T0 + 1 + i);
        }
        const all = await store.listOperationalEvents(project.id, { limit: 100 });
        assert.equal(all.data.length, 20);
        const ofA = all.data.filter((o) => o.data.endpointId === a).map((o) => o.id);
        assert.equal(ofA.length, 10);
        const pages = await allPages((cursor) =>
          store.listOperationalEvents(project.id, { limit: 100, endpointId: a, scanRows: 8, cursor }),
        );
        assert.deepEqual(
          pages.flat().map((o) => o.id),
          ofA,
        );
        assert.deepEqual(
          pages.map((p) => p.length),
          [4, 4, 2],
          'a page looks at scanRows events',
        );
        const disabledOfA = await store.listOperationalEvents(project.id, {
          limit: 100,
          endpointId: a,
          type: 'endpoint.disabled',
        });
        assert.deepEqual(
          disabledOfA.data.map((o) => o.id),
          all.data.filter((o) => o.data.endpointId === a && o.type === 'endpoint.disabled').map((o) => o.id),
        );
        assert.equal(disabledOfA.data.length, 5);
        assert.deepEqual(
          (await store.listOperationalEvents(project.id, { limit: 100, endpointId: 'ep_none' })).data,
          [],
        );
      },
    );

    withStore('listAttempts of succeeded attempts pages the same way (no index serves it)', async (store) => {
      const { project, endpointId, indexOf } = await thirtyAttempts(
        store,
        () => false,
        (i) => i !== 5 && i !== 25,
      );
      const pages = await allPages((cursor) =>
        store.listAttempts(project.id, {
          limit: 100,
          outcome: 'succeeded',
          scanRows: 10,
          endpointId,
          cursor,
        }),
      );
      assert.deepEqual(
        pages.map((p) => p.map(indexOf)),
        [[25], [], [5], []],
      );
      // Failed attempts have an index of their own: one page, whatever scanRows says.
      const failed = await store.listAttempts(project.id, {
        limit: 100,
        outcome: 'failed',
        scanRows: 10,
        endpointId,
      });
      assert.equal(failed.data.length, 28);
      assert.equal(failed.nextCursor, null);
    });

    withStore('listAttempts filters and pages; listEvents filters and pages', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      const [e0, e1] = endpoints;
      assert.ok(e0 && e1);
      const accepted = await store.acceptEvents(project.id, [eventInput('a')], T0);
      await store.acceptEvents(project.id, [eventInput('b')], T0 + 1000);
      await store.acceptEvents(project.id, [eventInput('a')], T0 + 2000);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 1000,
        now: T0 + 2000,
        workerId: 'w',
      });
      assert.equal(claims.length, 6);
      const records = claims.map((c, i) =>
        attemptRecord(c.delivery, c.event, {
          startedAt: T0 + 10_000 + i,
          outcome: i % 2 ? 'failed' : 'succeeded',
          status: i % 2 ? 'failed' : 'succeeded',
        }),
      );
      await store.recordAttempts(records, { now: T0 + 20_000, failureThreshold: 100 });
      const all = await store.listAttempts(project.id, { limit: 100 });
      assert.deepEqual(
        all.data.map((a) => a.startedAt),
        records.map((r) => r.attempt.startedAt).sort((x, y) => y - x),
        'newest first',
      );
      const count = async (q: Parameters<Store['listAttempts']>[1]) =>
        (await store.listAttempts(project.id, q)).data.length;
      assert.equal(await count({ limit: 100, endpointId: e0.id }), 3);
      assert.equal(await count({ limit: 100, eventId: accepted[0]!.event.id }), 2);
      assert.equal(await count({ limit: 100, deliveryId: records[0]!.attempt.deliveryId }), 1);
      assert.equal(await count({ limit: 100, outcome: 'failed' }), 3);
      assert.equal(await count({ limit: 100, eventType: 'b' }), 2);
      assert.equal(await count({ limit: 100, since: T0 + 10_002, until: T0 + 10_004 }), 3);
      assert.equal(
        await count({ limit: 100, endpointId: e1.id, outcome: 'succeeded' }),
        records.filter((r) => r.attempt.endpointId === e1.id && r.attempt.outcome === 'succeeded').length,
      );
      const pages = await allPages((cursor) => store.listAttempts(project.id, { limit: 4, cursor }));
      assert.deepEqual(
        pages.map((p) => p.length),
        [4, 2],
      );
      assert.equal(new Set(pages.flat().map((a) => a.id)).size, 6);
      const filteredPages = await allPages((cursor) =>
        store.listAttempts(project.id, { limit: 1, cursor, outcome: 'failed' }),
      );
      assert.equal(filteredPages.flat().length, 3);

      const events = await store.listEvents(project.id, { limit: 100 });
      assert.deepEqual(
        events.data.map((e) => e.createdAt),
        [T0 + 2000, T0 + 1000, T0],
      );
      assert.equal((await store.listEvents(project.id, { limit: 100, type: 'a' })).data.length, 2);
      assert.equal((await store.listEvents(project.id, { limit: 100, since: T0 + 1000 })).data.length, 2);
      assert.equal((await store.listEvents(project.id, { limit: 100, until: T0 + 1000 })).data.length, 2);
      assert.equal(
        (await store.listEvents(project.id, { limit: 100, since: T0 + 500, until: T0 + 1500 })).data.length,
        1,
      );
      const eventPages = await allPages((cursor) => store.listEvents(project.id, { limit: 2, cursor }));
      assert.deepEqual(
        eventPages.map((p) => p.length),
        [2, 1],
      );
    });

    withStore(
      'listEvents by idempotency key finds the event after its 24 h, looking at scanRows events a page',
      async (store) => {
        // Support's question "where is order 1234" starts from the key the sender gave it, often
        // long after the 24 h in which the key is held against a repeat.
        const { project } = await projectWithEndpoints(store, 1);
        const { project: other } = await projectWithEndpoints(store, 1);
        const keys = Array.from({ length: 25 }, (_, i) => (i % 10 === 3 ? 'order-1234' : `order-${i}`));
        for (const [i, key] of keys.entries()) {
          // A key repeats once it is no longer held: each day a new event with it.
          await store.acceptEvents(project.id, [eventInput(`t${i}`, { idempotencyKey: key })], T0 + i * DAY);
        }
        await store.acceptEvents(other.id, [eventInput('theirs', { idempotencyKey: 'order-1234' })], T0);
        const byKey = (q: Omit<Parameters<Store['listEvents']>[1], 'limit'>, limit = 100) =>
          allPages((cursor) =>
            store.listEvents(project.id, { limit, idempotencyKey: 'order-1234', cursor, ...q }),
          );
        assert.deepEqual(
          (await byKey({})).flat().map((e) => [e.type, e.idempotencyKey]),
          [
            ['t23', 'order-1234'],
            ['t13', 'order-1234'],
            ['t3', 'order-1234'],
          ],
        );
        // 10 events a page: 24-15, 14-5, 4-0, then nothing older.
        assert.deepEqual(
          (await byKey({ scanRows: 10 })).map((page) => page.map((e) => e.type)),
          [['t23'], ['t13'], ['t3']],
        );
        assert.deepEqual(
          (await byKey({ since: T0 + 10 * DAY, until: T0 + 20 * DAY })).flat().map((e) => e.type),
          ['t13'],
        );
        assert.deepEqual(
          (await byKey({ type: 't3' })).flat().map((e) => e.type),
          ['t3'],
        );
        assert.deepEqual(
          (
            await allPages((cursor) =>
              store.listEvents(project.id, { limit: 10, idempotencyKey: 'nobody', cursor }),
            )
          )
            .flat()
            .map((e) => e.id),
          [],
        );
      },
    );

    withStore(
      'until keeps a row whose id ran ahead of its time, and leaves newer ones out',
      async (store) => {
        // An id runs up to ID_TIME_SLACK_MS ahead of its time (ids.ts), and stores bound the id by
        // `until` plus that slack: without it, `b` below would be missing from `until: t`.
        const { project } = await projectWithEndpoints(store, 1);
        const t = T0 + 400 * DAY;
        const [a] = await store.acceptEvents(project.id, [eventInput('a')], t + 800);
        const [b] = await store.acceptEvents(project.id, [eventInput('b')], t); // clock stepped back 800 ms
        const [c] = await store.acceptEvents(project.id, [eventInput('c')], t + 5000);
        assert.ok(a && b && c && b.event.id > a.event.id, 'b continues from a');
        const events = async (q: Omit<Parameters<Store['listEvents']>[1], 'limit'>) =>
          (await store.listEvents(project.id, { limit: 100, ...q })).data.map((e) => e.type).sort();
        assert.deepEqual(await events({ until: t }), ['b']);
        assert.deepEqual(await events({ until: t + 800 }), ['a', 'b']);
        assert.deepEqual(await events({ since: t, until: t + 4999 }), ['a', 'b']);
        assert.deepEqual(await events({ until: t + 5000 }), ['a', 'b', 'c']);

        const claims = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 1000,
          now: t + 6000,
          workerId: 'w',
        });
        const byType = (type: string) => claims.find((x) => x.event.type === type)!;
        // Recorded out of the order they started in, each id made for its start (attempt-outcome.ts).
        const records = [
          attemptRecord(byType('c').delivery, byType('c').event, { startedAt: t + 7000 }),
          attemptRecord(byType('a').delivery, byType('a').event, { startedAt: t + 6400 }),
          attemptRecord(byType('b').delivery, byType('b').event, { startedAt: t + 6500 }),
        ];
        assert.ok(records[1]!.attempt.id > records[0]!.attempt.id, 'ran ahead of its start');
        await store.recordAttempts(records, { now: t + 8000, failureThreshold: 100 });
        const attempts = async (q: Omit<Parameters<Store['listAttempts']>[1], 'limit'>) =>
          (await store.listAttempts(project.id, { limit: 100, ...q })).data.map((x) => x.eventType).sort();
        assert.deepEqual(await attempts({ until: t + 6400 }), ['a']);
        assert.deepEqual(await attempts({ until: t + 6999 }), ['a', 'b']);
        assert.deepEqual(await attempts({ since: t + 6450, until: t + 7000 }), ['b', 'c']);
        const ep = byType('a').delivery.endpointId!;
        const stats = await store.endpointStats(project.id, ep, {
          since: t,
          until: t + 6400,
          bucketMs: 60_000,
        });
        assert.equal(
          stats.reduce((n, x) => n + x.succeeded, 0),
          1,
          'the chart counts it too',
        );
      },
    );

    withStore('operational events page newest first', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const ep = endpoints[0]!;
      for (let i = 0; i < 3; i++) {
        await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + i * 10);
        await store.enableEndpoint(project.id, ep.id, T0 + i * 10 + 5);
      }
      const pages = await allPages((cursor) => store.listOperationalEvents(project.id, { limit: 4, cursor }));
      assert.deepEqual(
        pages.map((p) => p.length),
        [4, 2],
      );
      const flat = pages.flat();
      assert.deepEqual(
        flat.map((o) => o.createdAt),
        [T0 + 25, T0 + 20, T0 + 15, T0 + 10, T0 + 5, T0],
      );
      assert.match(flat[0]!.id, /^op_/);
      assert.equal(flat[0]?.projectId, project.id);
    });

    withStore(
      'getDelivery reads one delivery as its event lists it, at every step; null when not there',
      async (store) => {
        // GET …/deliveries/:delivery answers it in place of its event's whole list: both must agree.
        const { project } = await projectWithEndpoints(store, 2);
        const [acc] = await store.acceptEvents(
          project.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/callback' })],
          T0,
        );
        assert.ok(acc);
        assert.equal(acc.deliveries.length, 3);
        const target = acc.deliveries[0]!;
        /** Every delivery of the event read one by one equals the event's own list. */
        const agrees = async (step: string) => {
          const listed = (await store.getEvent(project.id, acc.event.id))!.deliveries;
          const alone = await Promise.all(listed.map((d) => store.getDelivery(project.id, d.id)));
          assert.deepEqual(alone, listed, step);
          return (await store.getDelivery(project.id, target.id))!;
        };
        const fresh = await agrees('accepted');
        assert.equal(fresh.status, 'pending');
        assert.equal(fresh.attempts, 0);
        assert.equal(fresh.eventId, acc.event.id);
        assert.equal(fresh.projectId, project.id);
        assert.equal(fresh.nextAttemptAt, T0);
        assert.equal(fresh.leasedUntil, null);

        const claims = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 60 * SECOND,
          now: T0,
          workerId: 'w1',
        });
        const claim = claims.find((c) => c.delivery.id === target.id);
        assert.ok(claim);
        const held = await agrees('claimed');
        assert.equal(held.leasedUntil, T0 + 60 * SECOND, 'an attempt is in flight until its lease ends');

        const rec = attemptRecord(claim.delivery, claim.event, {
          outcome: 'failed',
          startedAt: T0 + 1,
          nextAttemptAt: T0 + 5 * SECOND,
        });
        await store.recordAttempts([rec], { now: T0 + 2, failureThreshold: 10 });
        const retrying = await agrees('recorded');
        assert.deepEqual(
          [
            retrying.status,
            retrying.attempts,
            retrying.nextAttemptAt,
            retrying.lastAttemptAt,
            retrying.leasedUntil,
          ],
          ['pending', 1, T0 + 5 * SECOND, T0 + 1, null],
        );

        assert.equal(await store.getDelivery(project.id, 'dlv_01xxxxxxxxxxxxxxxxxxxxxxxx'), null);
        assert.equal(
          await store.getDelivery(project.id, acc.event.id),
          null,
          'an event id is not a delivery id',
        );
        const other = await store.createProject({ name: 'other' }, T0);
        assert.equal(await store.getDelivery(other.id, target.id), null, 'another project does not see it');
      },
    );

    withStore(
      'eventExists: the project holds the event; not another project, not a delivery id',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 1);
        const other = await store.createProject({ name: 'other' }, T0);
        const [acc] = await store.acceptEvents(project.id, [eventInput('a')], T0);
        assert.equal(await store.eventExists(project.id, acc!.event.id), true);
        assert.equal(
          await store.eventExists(other.id, acc!.event.id),
          false,
          'another project does not hold it',
        );
        assert.equal(
          await store.eventExists(project.id, acc!.deliveries[0]!.id),
          false,
          'a delivery id is no event',
        );
        assert.equal(await store.eventExists(project.id, 'evt_missing'), false);
      },
    );

    withStore(
      'getEventWithoutDeliveries: the event as getEvent and listEvents give it, its deliveryCount, no deliveries; null for another project',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 3);
        const other = await store.createProject({ name: 'other' }, T0);
        const [acc] = await store.acceptEvents(
          project.id,
          [{ ...eventInput('a'), payload: { player: 'p1', amount: 3 }, idempotencyKey: 'k-1' }],
          T0,
        );
        const alone = await store.getEventWithoutDeliveries(project.id, acc!.event.id);
        assert.deepEqual(alone, (await store.getEvent(project.id, acc!.event.id))!.event);
        assert.deepEqual(alone, (await store.listEvents(project.id, { limit: 10 })).data[0]);
        assert.equal(alone!.deliveryCount, 3);
        assert.deepEqual(alone!.payload, { player: 'p1', amount: 3 });
        assert.equal(alone!.idempotencyKey, 'k-1');
        assert.equal(Object.hasOwn(alone!, 'deliveries'), false);
        assert.equal(await store.getEventWithoutDeliveries(other.id, acc!.event.id), null);
        assert.equal(await store.getEventWithoutDeliveries(project.id, acc!.deliveries[0]!.id), null);
        assert.equal(await store.getEventWithoutDeliveries(project.id, 'evt_missing'), null);
      },
    );

    withStore(
      "listEventDeliveries: pages cover the event's deliveries once each, in getEvent's order; status filters; null for another project's event",
      async (store) => {
        // GET …/events/:event/deliveries pages through what GET …/events/:event lists whole.
        const { project, endpoints } = await projectWithEndpoints(store, 7);
        const [acc] = await store.acceptEvents(
          project.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/callback' })],
          T0,
        );
        assert.ok(acc);
        // Deliveries of another event of the project, made after: never in this event's pages.
        await store.acceptEvents(project.id, [eventInput('b')], T0 + 1);
        const eventId = acc.event.id;
        const listed = async () => (await store.getEvent(project.id, eventId))!.deliveries;
        const pagesOf = (q: { limit: number; status?: Delivery['status'] }) =>
          allPages(
            async (cursor) => (await store.listEventDeliveries(project.id, eventId, { ...q, cursor }))!,
          );

        const all = await listed();
        assert.equal(all.length, 8);
        const pages = await pagesOf({ limit: 3 });
        assert.deepEqual(
          pages.map((p) => p.length),
          [3, 3, 2],
        );
        assert.deepEqual(pages.flat(), all, 'every delivery once, in id order, as getEvent lists them');
        const whole = await store.listEventDeliveries(project.id, eventId, { limit: 8 });
        assert.deepEqual(whole, { data: all, nextCursor: null }, 'a page that holds the rest ends the list');

        // One delivery of each settled state, the rest waiting for a retry.
        const claims = await store.claimDueDeliveries({
          limit: 100,
          leaseMs: 60 * SECOND,
          now: T0,
          workerId: 'w1',
        });
        const ofEvent = claims.filter((c) => c.delivery.eventId === eventId);
        assert.equal(ofEvent.length, 8);
        const toEndpoints = ofEvent.filter((c) => c.delivery.endpointId !== null);
        const [done, gaveUp, toPark] = toEndpoints.map((c) => c.delivery);
        await store.recordAttempts(
          ofEvent.map((c) =>
            attemptRecord(c.delivery, c.event, {
              outcome: c.delivery.id === done!.id ? 'succeeded' : 'failed',
              startedAt: T0 + 1,
              ...(c.delivery.id === gaveUp!.id ? { status: 'failed' as const } : {}),
            }),
          ),
          { now: T0 + 2, failureThreshold: 10 },
        );
        const parkedEndpoint = endpoints.find((e) => e.id === toPark!.endpointId)!;
        await store.updateEndpoint(project.id, parkedEndpoint.id, { active: false }, T0 + 3);

        const now = await listed();
        const expected = { succeeded: [done!.id], failed: [gaveUp!.id], parked: [toPark!.id] };
        for (const [status, ids] of Object.entries(expected)) {
          const only = await pagesOf({ limit: 2, status: status as Delivery['status'] });
          assert.deepEqual(
            only.flat(),
            now.filter((d) => ids.includes(d.id)),
            status,
          );
        }
        const pending = await pagesOf({ limit: 2, status: 'pending' });
        assert.deepEqual(
          pending.map((p) => p.length),
          [2, 2, 1],
        );
        assert.deepEqual(
          pending.flat(),
          now.filter((d) => d.status === 'pending'),
          'pending, a page at a time',
        );

        // An event with no delivery is an empty page; an event the project does not hold, none.
        const [quiet] = await store.acceptEvents(project.id, [eventInput('c', { test: true })], T0 + 4);
        assert.equal(quiet!.deliveries.length, 0);
        assert.deepEqual(await store.listEventDeliveries(project.id, quiet!.event.id, { limit: 10 }), {
          data: [],
          nextCursor: null,
        });
        assert.equal(
          await store.listEventDeliveries(project.id, 'evt_01xxxxxxxxxxxxxxxxxxxxxxxx', { limit: 10 }),
          null,
        );
        const other = await store.createProject({ name: 'other' }, T0);
        assert.equal(
          await store.listEventDeliveries(other.id, eventId, { limit: 10 }),
          null,
          'another project does not see it',
        );
        assert.equal(
          await store.listEventDeliveries(other.id, eventId, { limit: 10, status: 'pending' }),
          null,
        );
      },
    );

    withStore('cross-project isolation: another project sees nothing of this one', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const ep = endpoints[0]!;
      const q = await store.createProject({ name: 'q' }, T0);
      const [acc] = await store.acceptEvents(project.id, [eventInput('a')], T0);
      const [claim] = await store.claimDueDeliveries({ limit: 1, leaseMs: 1000, now: T0, workerId: 'w1' });
      assert.ok(acc && claim);
      const rec = attemptRecord(claim.delivery, claim.event, { outcome: 'failed', status: 'failed' });
      await store.recordAttempts([rec], { now: T0, failureThreshold: 1 });
      const delivery = acc.deliveries[0]!;
      assert.equal(await store.getEndpoint(q.id, ep.id), null);
      assert.deepEqual((await store.listEndpoints(q.id, { limit: 10 })).data, []);
      assert.equal(await store.updateEndpoint(q.id, ep.id, { name: 'x' }, T0), null);
      assert.equal(await store.deleteEndpoint(q.id, ep.id, T0), false);
      assert.deepEqual(await store.getEndpointSecrets(q.id, ep.id, T0), []);
      assert.equal(await store.enableEndpoint(q.id, ep.id, T0), null);
      assert.equal(await store.getEvent(q.id, acc.event.id), null);
      assert.deepEqual((await store.listEvents(q.id, { limit: 10 })).data, []);
      assert.equal(await store.getDelivery(q.id, delivery.id), null);
      assert.equal(await store.retryDelivery(q.id, delivery.id, T0), null);
      assert.equal(
        (await store.getDelivery(project.id, delivery.id))?.status,
        'failed',
        'untouched by the other project',
      );
      assert.equal(await store.getAttempt(q.id, rec.attempt.id), null);
      assert.deepEqual((await store.listAttempts(q.id, { limit: 10 })).data, []);
      assert.deepEqual((await store.listAttempts(q.id, { limit: 10, endpointId: ep.id })).data, []);
      assert.deepEqual((await store.listOperationalEvents(q.id, { limit: 10 })).data, []);
      assert.deepEqual(await store.recoverDeliveries(q.id, ep.id, 0, T0 + DAY, T0), {
        recovered: 0,
        nextSince: null,
      });
      assert.equal((await store.getEndpoint(project.id, ep.id))?.status, 'disabled');
      assert.deepEqual(await store.listApiKeys(q.id), []);
      // Fan-out of q's events never reaches the other project's endpoints.
      const [mine] = await store.acceptEvents(q.id, [eventInput('a')], T0);
      assert.deepEqual(mine?.deliveries, []);
    });

    withStore('backlog counts pending work and the oldest due time', async (store) => {
      assert.deepEqual(await store.backlog(T0), { pending: 0, oldestDueAt: null });
      const { project } = await projectWithEndpoints(store, 2);
      await store.acceptEvents(project.id, [eventInput('a')], T0 + 5);
      await store.acceptEvents(project.id, [eventInput('a')], T0 + 50);
      assert.deepEqual(await store.backlog(T0 + 10), { pending: 4, oldestDueAt: T0 + 5 });
      assert.deepEqual(await store.backlog(T0), { pending: 4, oldestDueAt: null }, 'nothing due yet');
      // Claimed deliveries are not delivered yet: their attempt in flight (or held behind its
      // endpoint's cap) counts from the time they became due.
      const claimed = await store.claimDueDeliveries({
        limit: 2,
        leaseMs: 1000,
        now: T0 + 10,
        workerId: 'w',
      });
      assert.equal(claimed.length, 2);
      assert.deepEqual(await store.backlog(T0 + 60), { pending: 4, oldestDueAt: T0 + 5 });
      await store.recordAttempts(
        claimed.map((c) => attemptRecord(c.delivery, c.event, { startedAt: T0 + 10, workerId: 'w' })),
        { now: T0 + 20, failureThreshold: 10 },
      );
      assert.deepEqual(await store.backlog(T0 + 60), { pending: 2, oldestDueAt: T0 + 50 }, 'delivered');
    });

    withStore('backlog: a delivery claimed but not sent keeps the time it became due', async (store) => {
      const { project } = await projectWithEndpoints(store, 1);
      const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0 + 5);
      const delivery = accepted!.deliveries[0]!;
      const claim = (now: number, workerId = 'w') =>
        store.claimDueDeliveries({ limit: 10, leaseMs: SECOND, now, workerId });
      // A lease that ran out (its worker stopped or hung): late since T0 + 5, not since the lease's end.
      assert.equal((await claim(T0 + 10)).length, 1);
      assert.equal((await store.backlog(T0 + 500)).oldestDueAt, T0 + 5, 'claimed, not sent yet');
      assert.equal((await store.backlog(T0 + 5 * SECOND)).oldestDueAt, T0 + 5, 'a lease that ran out');
      // Claimed again, then handed back at a stop: still late since T0 + 5.
      assert.equal((await claim(T0 + 5 * SECOND, 'w2')).length, 1);
      assert.equal(await store.releaseClaims('w2', T0 + 6 * SECOND), 1);
      assert.equal(
        (await store.backlog(T0 + 7 * SECOND)).oldestDueAt,
        T0 + 5,
        'a claim handed back at a stop',
      );
      // Handed back to be tried again a second later (the proxy or the file descriptors failed): nothing
      // was attempted, so it is late all the while, even before that second is over.
      assert.equal((await claim(T0 + 7 * SECOND)).length, 1);
      await store.releaseDeliveries([
        { projectId: project.id, deliveryId: delivery.id, nextAttemptAt: T0 + 8 * SECOND, heldBy: 'w' },
      ]);
      assert.equal(
        (await store.backlog(T0 + 7 * SECOND + 1)).oldestDueAt,
        T0 + 5,
        'a hand-back for a failure',
      );
      // Put off by its endpoint's rate limit: due again when the limit lets it go.
      assert.equal((await claim(T0 + 8 * SECOND)).length, 1);
      await store.releaseDeliveries([
        {
          projectId: project.id,
          deliveryId: delivery.id,
          nextAttemptAt: T0 + 20 * SECOND,
          rateLimited: true,
        },
      ]);
      assert.equal((await store.backlog(T0 + 9 * SECOND)).oldestDueAt, null, 'waiting for its rate limit');
      assert.equal((await store.backlog(T0 + 30 * SECOND)).oldestDueAt, T0 + 20 * SECOND);
      // An attempt made: the retry is due at its own time, late from then on.
      const [sent] = await claim(T0 + 30 * SECOND);
      const retry = attemptRecord(sent!.delivery, sent!.event, {
        outcome: 'failed',
        status: 'pending',
        nextAttemptAt: T0 + 90 * SECOND,
        startedAt: T0 + 30 * SECOND,
        workerId: 'w',
      });
      await store.recordAttempts([retry], { now: T0 + 31 * SECOND, failureThreshold: 10 });
      assert.equal((await store.backlog(T0 + 60 * SECOND)).oldestDueAt, null, 'the retry is not due yet');
      assert.equal((await claim(T0 + 100 * SECOND)).length, 1);
      assert.equal(
        (await store.backlog(T0 + 200 * SECOND)).oldestDueAt,
        T0 + 90 * SECOND,
        'a retry that is late',
      );
    });

    withStore(
      'group commit: 200 concurrent acceptEvents calls all land, each with its deliveries',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 3);
        let woken = 0;
        const off = store.subscribeDue(() => woken++);
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            store.acceptEvents(
              project.id,
              [eventInput('a', { payload: { i }, idempotencyKey: `k${i % 150}` })],
              T0 + 1,
            ),
          ),
        );
        off();
        assert.ok(woken >= 1);
        const created = results.filter(([r]) => r && !r.duplicate);
        const duplicates = results.filter(([r]) => r?.duplicate);
        assert.equal(created.length, 150);
        assert.equal(duplicates.length, 50);
        for (const [r] of duplicates) {
          // A duplicate returns the original event, whose payload names the call that created it.
          const original = (r?.event.payload as { i: number } | undefined)?.i ?? -1;
          assert.equal(r?.event.id, results[original]?.[0]?.event.id);
        }
        const eventIds = new Set(created.map(([r]) => r!.event.id));
        assert.equal(eventIds.size, 150);
        const deliveryIds = new Set(created.flatMap(([r]) => r!.deliveries.map((d) => d.id)));
        assert.equal(deliveryIds.size, 450);
        const pages = await allPages((cursor) => store.listEvents(project.id, { limit: 1000, cursor }));
        assert.equal(pages.flat().length, 150);
        assert.equal((await store.backlog(T0 + 1)).pending, 450);
        // Every acknowledged event is readable right away.
        for (const id of eventIds) assert.equal((await store.getEvent(project.id, id))?.deliveries.length, 3);
      },
    );

    withStore('group commit: accepts and records in the same tick both land', async (store) => {
      const { project } = await projectWithEndpoints(store, 1);
      await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w' });
      assert.equal(claims.length, 2);
      const [accepted, r1, r2] = await Promise.all([
        store.acceptEvents(project.id, [eventInput('a')], T0 + 1),
        store.recordAttempts([attemptRecord(claims[0]!.delivery, claims[0]!.event)], {
          now: T0 + 1,
          failureThreshold: 10,
        }),
        store.recordAttempts([attemptRecord(claims[1]!.delivery, claims[1]!.event)], {
          now: T0 + 1,
          failureThreshold: 10,
        }),
      ]);
      assert.equal(accepted.length, 1);
      assert.deepEqual([r1.disabledEndpoints, r2.disabledEndpoints], [[], []]);
      for (const c of claims)
        assert.equal((await store.getDelivery(project.id, c.delivery.id))?.status, 'succeeded');
      assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 2);
      assert.equal((await store.listEvents(project.id, { limit: 10 })).data.length, 3);
    });

    withStore(
      'attempts whose body is the event envelope read back the exact bytes sent, for every envelope',
      async (store) => {
        const project = await store.createProject({ name: 'bodies' }, T0);
        for (const envelope of ['standard', 'event-data', 'raw'] as const) {
          await store.createEndpoint(
            endpointInput(project.id, { url: `http://127.0.0.1:9/${envelope}`, envelope }),
            'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
            T0,
          );
        }
        const payload = { text: 'quotes " and \\ and é ✓', n: [1, 2.5, null], nested: { ok: true } };
        await store.acceptEvents(project.id, [eventInput('player.paid', { payload })], T0);
        const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w' });
        assert.equal(claims.length, 3);
        const endpoints = (await store.listEndpoints(project.id, { limit: 10 })).data;
        const sent = new Map<string, string>();
        const records = claims.map((c) => {
          const endpoint = endpoints.find((e) => e.id === c.delivery.endpointId)!;
          const request = buildRequest({
            event: c.event,
            payloadJson: c.payloadJson,
            url: c.delivery.url,
            endpoint,
            secrets: [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
            now: T0 + 1,
          });
          assert.equal(request.bodyEnvelope, endpoint.envelope);
          sent.set(c.delivery.id, request.body!);
          return outcomeRecord({
            delivery: c.delivery,
            event: c.event,
            request,
            result: {
              startedAt: T0 + 1,
              durationMs: 2,
              response: { status: 200, headers: {}, body: '' },
              error: null,
            },
            schedule: [],
            jitter: 0,
            random: Math.random,
            countsForEndpoint: true,
            workerId: 'w',
            now: T0 + 3,
          });
        });
        // One attempt with its body stored as sent, on the same page as the others.
        const inline = attemptRecord(claims[0]!.delivery, claims[0]!.event, { startedAt: T0 + 5 });
        await store.recordAttempts([...records, inline], { now: T0 + 5, failureThreshold: 10 });
        const listed = (await store.listAttempts(project.id, { limit: 10 })).data;
        assert.equal(listed.length, 4);
        for (const a of listed) {
          assert.deepEqual(Object.keys(a.request), ['method', 'url', 'headers', 'body']);
          const expected = a.id === inline.attempt.id ? '{}' : sent.get(a.deliveryId);
          assert.equal(a.request.body, expected, a.request.url);
          assert.deepEqual(await store.getAttempt(project.id, a.id), a);
        }
        const standard = listed.find(
          (a) => a.request.url.endsWith('/standard') && a.id !== inline.attempt.id,
        )!;
        assert.deepEqual(JSON.parse(standard.request.body).data, payload);
      },
    );

    withStore('an accept can lease its new deliveries (stores with leaseOnAccept)', async (store) => {
      if (!store.capabilities.leaseOnAccept) return;
      const { project } = await projectWithEndpoints(store, 3);
      const payload = { nested: { text: 'é "q"' } };
      const lease = { workerId: 'w-handoff', leaseMs: 30 * SECOND, max: 2 };
      const [a] = await store.acceptEvents(project.id, [eventInput('a', { payload })], T0, { lease });
      assert.equal(a!.leased, 2);
      assert.equal(a!.payloadJson, JSON.stringify(payload));
      assert.equal(a!.deliveries.length, 3);
      for (const d of a!.deliveries) assert.equal(d.nextAttemptAt, T0, 'returned due now');
      assert.deepEqual(
        a!.deliveries.map((d) => d.leasedUntil),
        [T0 + 30 * SECOND, T0 + 30 * SECOND, null],
        'the leased ones say when their lease ends, as a claim’s do (a hand-back names its claim by it)',
      );
      // Only the one beyond the lease's room is claimable; the two leased come back when it runs out.
      const now = await store.claimDueDeliveries({ limit: 10, leaseMs: 60 * SECOND, now: T0, workerId: 'w' });
      assert.deepEqual(
        now.map((c) => c.delivery.id),
        [a!.deliveries[2]!.id],
      );
      const later = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 1000,
        now: T0 + 30 * SECOND,
        workerId: 'w',
      });
      assert.deepEqual(
        later.map((c) => c.delivery.id).sort(),
        [a!.deliveries[0]!.id, a!.deliveries[1]!.id].sort(),
      );
      // The room is shared by the events of one accept, and an accept without a lease leases nothing.
      const two = await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0, {
        lease: { ...lease, max: 4 },
      });
      assert.deepEqual(
        two.map((e) => e.leased),
        [3, 1],
      );
      const [plain] = await store.acceptEvents(project.id, [eventInput('a')], T0);
      assert.equal(plain!.leased, undefined);
      assert.equal(
        (await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w' })).length,
        2 + 3,
      );
    });

    withStore('a key repeated in one leasing accept hands its deliveries off once', async (store) => {
      if (!store.capabilities.leaseOnAccept) return;
      const { project } = await projectWithEndpoints(store, 2);
      const lease = { workerId: 'w-handoff', leaseMs: 30 * SECOND, max: 8 };
      const key = { idempotencyKey: 'same' };
      const [first, again] = await store.acceptEvents(
        project.id,
        [eventInput('a', key), eventInput('a', { ...key, payload: { n: 2 } })],
        T0,
        { lease },
      );
      assert.equal(first!.leased, 2);
      assert.equal(again!.duplicate, true);
      assert.equal(again!.event.id, first!.event.id);
      // The hand-off posts every entry's `leased` deliveries: a repeat that carried them too had
      // them sent twice, at once (two attempts, the receiver answered twice).
      assert.ok(!again!.leased, `the repeat carries no lease (got ${again!.leased})`);
    });

    withStore('a delivery leased by an accept is handed back under that lease', async (store) => {
      if (!store.capabilities.leaseOnAccept) return;
      const { project } = await projectWithEndpoints(store, 1);
      const lease = { workerId: 'w-handoff', leaseMs: 30 * SECOND, max: 1 };
      const [a] = await store.acceptEvents(project.id, [eventInput('a')], T0, { lease });
      const d = a!.deliveries[0]!;
      await store.releaseDeliveries([
        {
          projectId: project.id,
          deliveryId: d.id,
          nextAttemptAt: T0 + SECOND,
          heldBy: 'w-handoff',
          leasedUntil: d.leasedUntil,
        },
      ]);
      const claims = await store.claimDueDeliveries({
        limit: 1,
        leaseMs: SECOND,
        now: T0 + SECOND,
        workerId: 'w',
      });
      assert.deepEqual(
        claims.map((c) => c.delivery.id),
        [d.id],
        'freed by its hand-back, not held to the end of its lease',
      );
    });

    withStore('a malformed cursor starts the list over instead of failing', async (store) => {
      const p = await store.createProject({ name: 'p' }, T0);
      const page = await store.listEndpoints(p.id, { limit: 10, cursor: '%%%not-a-cursor' });
      assert.deepEqual(page, { data: [], nextCursor: null });
    });
  });

  defineLimitsRetentionSuite(name, open); // takeRateTokens, purgeBefore, outbox, delivery.exhausted
  defineDispatchViewSuite(name, open); // getDispatchEndpoints after changes
  definePageBudgetSuite(name, open); // listings under a byte budget per page
  definePendingCountSuite(name, open); // countPendingDeliveries, for the backlog limit
  defineReplaySuite(name, open); // replayMissing
  defineEndpointDeliveriesSuite(name, open); // listEndpointDeliveries, countEndpointBacklog
  defineProjectDeleteSuite(name, open); // deleteProject of a large history, in steps bounded by bytes
}
