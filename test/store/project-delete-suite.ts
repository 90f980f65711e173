/**
 * Conformance of Store.deleteProject on a project whose history is large: its steps are bounded by
 * bytes as well as rows, a delete stopped between two steps leaves the project as deleted (not
 * found, not listed) and is finished by Store.finishProjectDeletes at the next start, and no other
 * project loses a row. Called from store-suite.ts, so every backend runs it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import { projectDeleteSteps } from '../../src/store/project-delete-steps.ts';
import { purgeBytes } from '../../src/store/purge-bytes.ts';
import type { Store } from '../../src/store/store.ts';
import { isParentRowGone } from '../../src/store/store-unavailable.ts';
import { attemptRecord, eventInput, HOUR, projectWithEndpoints, storeTest, T0 } from './helpers.ts';

/** The ids of the deliveries an hour's claim takes (up to 10). */
async function claimedIds(store: Store): Promise<string[]> {
  const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + HOUR, workerId: 'w1' });
  return claims.map((c) => c.delivery.id);
}

export function defineProjectDeleteSuite(name: string, open: () => Promise<Store>): void {
  const withStore = storeTest(open);

  describe(`store conformance: ${name}: deleting a project with a large history`, () => {
    withStore(
      'deleteProject: a step deletes attempts and events up to a bound on their bytes, and a delete stopped between two hides the project and is finished at the next start',
      async (store) => {
        const gone = await projectWithEndpoints(store, 1);
        const kept = await projectWithEndpoints(store, 1);
        // Incompressible (PostgreSQL stores its compressed size): ~40 KB each, 0.6 of the bound.
        // A form body (hmac-sha1-url), a GET query or a sha256-body is stored with each attempt as
        // sent, ~3 times the payload; a response body up to 64 KiB.
        const blob = (i: number) => randomBytes(30_000).toString('base64') + i;
        const big = (n: number) => Array.from({ length: n }, (_, i) => eventInput('a', { payload: blob(i) }));
        await store.acceptEvents(gone.project.id, big(3), T0);
        const keptPayload = blob(9);
        const [keptEvent] = await store.acceptEvents(
          kept.project.id,
          [eventInput('a', { payload: keptPayload })],
          T0,
        );
        for (let n = 0; n < 2; n++) {
          const at = T0 + n * HOUR;
          const claims = await store.claimDueDeliveries({
            limit: 10,
            leaseMs: 1000,
            now: at,
            workerId: 'w1',
          });
          assert.equal(claims.length, 4);
          await store.recordAttempts(
            claims.map((c, i) => {
              const record = attemptRecord(c.delivery, c.event, {
                outcome: 'failed',
                startedAt: at,
                status: 'pending',
                nextAttemptAt: at + HOUR,
              });
              if (i % 2) record.attempt.request.body = blob(i);
              else record.attempt.response = { status: 500, headers: {}, body: blob(i) };
              return record;
            }),
            { now: at, failureThreshold: 1000 },
          );
        }
        const saved = { ...purgeBytes };
        purgeBytes.sqlite = 64 * 1024;
        purgeBytes.postgres = 64 * 1024;
        const steps: { table: string; rows: number }[] = [];
        let stopped = false;
        projectDeleteSteps.committed = (table, rows) => {
          steps.push({ table, rows });
          // A stop after the first step of its history: the next start goes on from there.
          if (!stopped && table !== 'callbacks') {
            stopped = true;
            throw new Error('stopped');
          }
        };
        try {
          await assert.rejects(store.deleteProject(gone.project.id), /stopped/);
          // Cut short, it behaves as deleted already: not found, not listed.
          assert.equal(await store.getProject(gone.project.id), null);
          const listed = await store.listProjects({ limit: 10 });
          assert.deepEqual(
            listed.data.map((p) => p.id),
            [kept.project.id],
          );
          // And the next start finishes it (background-jobs.ts), as a second delete would.
          assert.equal(await store.finishProjectDeletes(), 1);
          assert.equal(await store.finishProjectDeletes(), 0);
          assert.equal(await store.deleteProject(gone.project.id), false);
        } finally {
          Object.assign(purgeBytes, saved);
          projectDeleteSteps.committed = null;
        }
        const of = (table: string) => steps.filter((s) => s.table === table).map((s) => s.rows);
        // Two attempts (or events) reach the bound: a step ends there, and the next goes on.
        assert.ok(
          of('attempts').every((n) => n <= 2),
          `attempts per step: ${of('attempts').join(', ')}`,
        );
        assert.equal(
          of('attempts').reduce((a, b) => a + b, 0),
          6,
        );
        assert.ok(
          of('events').every((n) => n <= 2),
          `events per step: ${of('events').join(', ')}`,
        );
        assert.equal(
          of('events').reduce((a, b) => a + b, 0),
          3,
        );
        assert.equal(await store.getProject(gone.project.id), null);
        assert.deepEqual((await store.listAttempts(gone.project.id, { limit: 10 })).data, []);
        assert.deepEqual((await store.listEvents(gone.project.id, { limit: 10 })).data, []);
        // The other project keeps everything: its event, payload and all, its attempts, its endpoint.
        const event = await store.getEventWithoutDeliveries(kept.project.id, keptEvent!.event.id);
        assert.ok(event?.payload === keptPayload, 'the other project keeps its event and payload');
        assert.equal((await store.listAttempts(kept.project.id, { limit: 10 })).data.length, 2);
        assert.ok(await store.getEndpoint(kept.project.id, kept.endpoints[0]!.id));
        assert.equal(
          (await store.getDelivery(kept.project.id, keptEvent!.deliveries[0]!.id))?.status,
          'pending',
        );
      },
    );

    withStore(
      'deleteProject: a delete stopped after its first step leaves none of the callbacks of the project to send, and the next start deletes them',
      async (store) => {
        const gone = { project: await store.createProject({ name: 'p', uid: 'gone' }, T0) };
        const kept = await projectWithEndpoints(store, 0);
        const cb = (n: number) => eventInput('a', { callbackUrl: `http://127.0.0.1:9/cb${n}` });
        await store.acceptEvents(gone.project.id, [cb(1), cb(2)], T0);
        const [keptEvent] = await store.acceptEvents(kept.project.id, [cb(3)], T0 + 1);
        const steps: string[] = [];
        projectDeleteSteps.committed = (table) => {
          steps.push(table);
          throw new Error('stopped');
        };
        try {
          await assert.rejects(store.deleteProject(gone.project.id), /stopped/);
        } finally {
          projectDeleteSteps.committed = null;
        }
        // Its callbacks due before the other project's: none of them is claimed, the other's is.
        assert.deepEqual(await claimedIds(store), [keptEvent!.deliveries[0]!.id]);
        // Its uid is free at once (a project the start makes again by uid, the operator's, is made).
        assert.equal(await store.getProject('gone'), null);
        const again = await store.createProject({ name: 'p', uid: 'gone' }, T0);
        assert.equal((await store.getProject('gone'))?.id, again.id);
        assert.equal(await store.finishProjectDeletes(), 1);
        assert.equal((await store.getProject('gone'))?.id, again.id);
        assert.deepEqual((await store.listEvents(gone.project.id, { limit: 10 })).data, []);
        assert.equal(await store.getProject(kept.project.id).then((p) => p?.id), kept.project.id);
      },
    );

    withStore(
      'acceptEvents: events for a project whose delete began (a request that found it just before) are refused as for a project gone, so none of their callbacks is sent',
      async (store) => {
        const gone = await store.createProject({ name: 'p', uid: 'gone' }, T0);
        const kept = await projectWithEndpoints(store, 0);
        const cb = (n: number) => eventInput('a', { callbackUrl: `http://127.0.0.1:9/cb${n}` });
        projectDeleteSteps.committed = () => {
          throw new Error('stopped');
        };
        try {
          await assert.rejects(store.deleteProject(gone.id), /stopped/);
        } finally {
          projectDeleteSteps.committed = null;
        }
        // The route found the project before the delete's first step; its write comes after.
        // Before, it was stored, and its callback claimed and sent, until the next start.
        await assert.rejects(store.acceptEvents(gone.id, [cb(1)], T0), (error) => isParentRowGone(error));
        const [keptEvent] = await store.acceptEvents(kept.project.id, [cb(2)], T0 + 1);
        assert.deepEqual(await claimedIds(store), [keptEvent!.deliveries[0]!.id]);
        assert.equal(await store.finishProjectDeletes(), 1);
      },
    );

    withStore(
      'retryDelivery: a callback delivery of a project whose delete closed its callbacks (a retry that found it just before) is refused, so it is not sent',
      async (store) => {
        const gone = await store.createProject({ name: 'p' }, T0);
        const kept = await projectWithEndpoints(store, 0);
        const cb = (n: number) => eventInput('a', { callbackUrl: `http://127.0.0.1:9/cb${n}` });
        const [goneEvent] = await store.acceptEvents(gone.id, [cb(1)], T0);
        const callback = goneEvent!.deliveries[0]!;
        projectDeleteSteps.committed = () => {
          throw new Error('stopped');
        };
        try {
          await assert.rejects(store.deleteProject(gone.id), /stopped/);
        } finally {
          projectDeleteSteps.committed = null;
        }
        // The retry route found the project and the delivery before the delete's first step.
        // Before, the retry made the closed callback pending again, and it was claimed and sent
        // until the history steps (or, after a stop, the next start) deleted it.
        assert.equal(await store.retryDelivery(gone.id, callback.id, T0 + 1), null);
        const [keptEvent] = await store.acceptEvents(kept.project.id, [cb(2)], T0 + 1);
        assert.deepEqual(await claimedIds(store), [keptEvent!.deliveries[0]!.id]);
        assert.equal(await store.finishProjectDeletes(), 1);
      },
    );
  });
}
