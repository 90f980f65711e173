/**
 * Conformance of the store methods behind issue 7 items 7–8: shared per-endpoint rate limits
 * (takeRateTokens), retention (purgeBefore), the operational-event outbox and `delivery.exhausted`.
 * Called from store-suite.ts, so every backend runs it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import { purgeBytes } from '../../src/store/purge-bytes.ts';
import type { Store } from '../../src/store/store.ts';
import {
  attemptRecord,
  DAY,
  eventInput,
  HOUR,
  leaseTakenOver,
  projectWithEndpoints,
  SECOND,
  storeTest,
  T0,
} from './helpers.ts';

export function defineLimitsRetentionSuite(name: string, open: () => Promise<Store>): void {
  /** Runs `fn` on a fresh store and always closes it. */
  const withStore = storeTest(open);

  /** Accepts one event at `at`, claims its deliveries and records one attempt each with `status`. */
  async function eventWith(
    store: Store,
    projectId: string,
    at: number,
    status: 'succeeded' | 'failed' | 'pending' | null,
    over: Parameters<typeof eventInput>[1] = {},
  ) {
    const [accepted] = await store.acceptEvents(projectId, [eventInput('a', over)], at);
    if (status !== null) {
      const claims = await store.claimDueDeliveries({ limit: 100, leaseMs: 1000, now: at, workerId: 'w1' });
      const mine = claims.filter((c) => c.event.id === accepted!.event.id);
      const others = claims.filter((c) => c.event.id !== accepted!.event.id);
      await store.releaseDeliveries(
        others.map((c) => ({
          projectId: c.delivery.projectId,
          deliveryId: c.delivery.id,
          nextAttemptAt: at,
        })),
      );
      await store.recordAttempts(
        mine.map((c) =>
          attemptRecord(c.delivery, c.event, {
            outcome: status === 'succeeded' ? 'succeeded' : 'failed',
            status,
            startedAt: at,
          }),
        ),
        { now: at, failureThreshold: 1000 },
      );
    }
    return accepted!;
  }

  describe(`store conformance: ${name}: rate limits, retention, operational events`, () => {
    withStore('takeRateTokens: a burst at once, then one token per interval', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      const [a, b] = endpoints;
      const ref = { projectId: project.id, endpointId: a!.id, perSecond: 5, burst: 3 };
      const first = await store.takeRateTokens([{ ...ref, want: 5 }], T0);
      assert.deepEqual(first.get(a!.id), { granted: 3, nextAt: T0 + 200 });
      const early = await store.takeRateTokens([{ ...ref, want: 1 }], T0 + 100);
      assert.equal(early.get(a!.id)?.granted, 0);
      assert.equal(early.get(a!.id)?.nextAt, T0 + 200);
      const onTime = await store.takeRateTokens([{ ...ref, want: 2 }], T0 + 200);
      assert.equal(onTime.get(a!.id)?.granted, 1);
      assert.equal(onTime.get(a!.id)?.nextAt, T0 + 400);
      // A clock instead of a time: read by the store, the same step.
      const byClock = await store.takeRateTokens([{ ...ref, want: 2 }], () => T0 + 400);
      assert.deepEqual(byClock.get(a!.id), { granted: 1, nextAt: T0 + 600 });
      // An idle endpoint refills up to its burst, not beyond.
      const later = await store.takeRateTokens([{ ...ref, want: 10 }], T0 + HOUR);
      assert.equal(later.get(a!.id)?.granted, 3);
      // Endpoints are independent; burst defaults to perSecond; several in one call.
      const both = await store.takeRateTokens(
        [
          { ...ref, want: 1 },
          { projectId: project.id, endpointId: b!.id, perSecond: 2, want: 5 },
        ],
        T0 + HOUR,
      );
      assert.equal(both.get(a!.id)?.granted, 0);
      assert.equal(both.get(b!.id)?.granted, 2);
      assert.equal(both.get(b!.id)?.nextAt, T0 + HOUR + 500);
      assert.equal((await store.takeRateTokens([], T0)).size, 0);
    });

    withStore('a removed rate limit, or a deleted endpoint, leaves no rate state behind', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      const [a, b] = endpoints;
      const take = async (id: string, at: number) =>
        (
          await store.takeRateTokens(
            [{ projectId: project.id, endpointId: id, perSecond: 0.01, burst: 1, want: 1 }],
            at,
          )
        ).get(id)?.granted;
      assert.equal(await take(a!.id, T0), 1);
      assert.equal(await take(a!.id, T0 + SECOND), 0, 'the next token is 100 s away');
      await store.updateEndpoint(project.id, a!.id, { rateLimit: { perSecond: 0.01, burst: 1 } }, T0);
      await store.updateEndpoint(project.id, a!.id, { rateLimit: null }, T0 + SECOND);
      // Set again, the limit starts afresh: the state of the removed one went with it.
      await store.updateEndpoint(
        project.id,
        a!.id,
        { rateLimit: { perSecond: 0.01, burst: 1 } },
        T0 + SECOND,
      );
      assert.equal(await take(a!.id, T0 + 2 * SECOND), 1);
      // A deleted endpoint's state goes with it (a project delete already takes its table rows).
      assert.equal(await take(b!.id, T0), 1);
      await store.deleteEndpoint(project.id, b!.id, T0);
      assert.equal(await take(b!.id, T0 + SECOND), 1);
    });

    withStore(
      'takeRateTokens: rates below one per second; a relaxed limit is not held back',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 1);
        const id = endpoints[0]!.id;
        const slow = { projectId: project.id, endpointId: id, perSecond: 0.01, want: 1 };
        assert.equal((await store.takeRateTokens([slow], T0)).get(id)?.granted, 1);
        assert.equal((await store.takeRateTokens([slow], T0 + 50 * SECOND)).get(id)?.granted, 0);
        // Raised to 100/s: the next token is one new interval away, not the 100 s of the old limit.
        const fast = { projectId: project.id, endpointId: id, perSecond: 100, burst: 1, want: 1 };
        const at = T0 + 50 * SECOND;
        const grant = (await store.takeRateTokens([fast], at)).get(id);
        assert.ok(grant && grant.nextAt <= at + 10, JSON.stringify(grant));
        assert.equal((await store.takeRateTokens([fast], at + 10)).get(id)?.granted, 1);
        // Under an unchanged limit, a caller whose clock lags behind gets nothing extra.
        assert.equal((await store.takeRateTokens([fast], at + 20)).get(id)?.granted, 1);
        assert.equal((await store.takeRateTokens([fast], at - 500)).get(id)?.granted, 0);
      },
    );

    withStore('takeRateTokens: concurrent takes never grant more than the limit', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const id = endpoints[0]!.id;
      const ref = { projectId: project.id, endpointId: id, perSecond: 10, burst: 5 };
      let granted = 0;
      // 20 callers at once, then 10 simulated seconds of two callers every 23 ms wanting 3 each.
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => store.takeRateTokens([{ ...ref, want: 1 }], T0)),
      );
      for (const g of burst) granted += g.get(id)!.granted;
      assert.equal(granted, 5);
      for (let t = T0 + 23; t <= T0 + 10 * SECOND; t += 23) {
        const round = await Promise.all([
          store.takeRateTokens([{ ...ref, want: 3 }], t),
          store.takeRateTokens([{ ...ref, want: 3 }], t),
        ]);
        for (const g of round) granted += g.get(id)!.granted;
      }
      assert.ok(granted <= 10 * 10 + 5, `${granted} tokens in 10 s at 10/s, burst 5`);
      assert.ok(granted >= 10 * 10, `${granted}: the limit is used, not starved`);
    });

    withStore(
      'purgeBefore: old finished events go with their deliveries, attempts and keys',
      async (store) => {
        const { project } = await projectWithEndpoints(store, 1);
        const other = await projectWithEndpoints(store, 1);
        const old = T0 - 40 * DAY;
        const cutoff = T0 - 30 * DAY;
        const succeeded = await eventWith(store, project.id, old, 'succeeded', { idempotencyKey: 'k1' });
        const failed = await eventWith(store, project.id, old, 'failed');
        const pending = await eventWith(store, project.id, old, 'pending');
        const untouched = await eventWith(store, project.id, old, null);
        const theirs = await eventWith(store, other.project.id, old, 'succeeded');
        // Old, but retried and finished after the cutoff: kept.
        const retried = await eventWith(store, project.id, old, 'failed');
        await store.retryDelivery(project.id, retried.deliveries[0]!.id, T0 - DAY);
        const claims = await store.claimDueDeliveries({
          limit: 10,
          leaseMs: 1000,
          now: T0 - DAY,
          workerId: 'w1',
        });
        const again = claims.find((c) => c.delivery.id === retried.deliveries[0]!.id)!;
        await store.releaseDeliveries(
          claims
            .filter((c) => c !== again)
            .map((c) => ({ projectId: c.delivery.projectId, deliveryId: c.delivery.id, nextAttemptAt: T0 })),
        );
        await store.recordAttempts([attemptRecord(again.delivery, again.event, { startedAt: T0 - DAY })], {
          now: T0 - DAY,
          failureThreshold: 1000,
        });
        const recent = await eventWith(store, project.id, T0 - DAY, 'succeeded');

        const oldAttempt = (await store.listAttempts(project.id, { limit: 10, eventId: pending.event.id }))
          .data[0];
        assert.ok(oldAttempt);
        const result = await store.purgeBefore(project.id, cutoff, 1000);
        // Two events (one attempt each), the old attempts of two kept deliveries, and the two
        // delivery.exhausted records of the failures at `old`.
        assert.deepEqual(result, { events: 2, deliveries: 2, attempts: 4, operationalEvents: 2, next: null });
        for (const gone of [succeeded, failed]) {
          assert.equal(await store.getEvent(project.id, gone.event.id), null);
          assert.equal(await store.getDelivery(project.id, gone.deliveries[0]!.id), null);
          assert.deepEqual(
            (await store.listAttempts(project.id, { limit: 10, eventId: gone.event.id })).data,
            [],
          );
        }
        for (const kept of [pending, untouched, retried, recent]) {
          assert.ok(await store.getEvent(project.id, kept.event.id), 'kept');
        }
        // The old attempt of a delivery still pending goes; the delivery stays pending.
        assert.equal(await store.getAttempt(project.id, oldAttempt.id), null);
        assert.equal((await store.getDelivery(project.id, pending.deliveries[0]!.id))?.status, 'pending');
        assert.equal((await store.getDelivery(project.id, untouched.deliveries[0]!.id))?.status, 'pending');
        assert.equal(
          (await store.listAttempts(project.id, { limit: 10, deliveryId: retried.deliveries[0]!.id })).data
            .length,
          1,
          'only the attempt after the cutoff is left',
        );
        assert.ok(await store.getEvent(other.project.id, theirs.event.id), 'other projects are untouched');
        // The purged event's idempotency key no longer answers.
        const [fresh] = await store.acceptEvents(project.id, [eventInput('a', { idempotencyKey: 'k1' })], T0);
        assert.equal(fresh?.duplicate, false);
        assert.deepEqual(await store.purgeBefore(project.id, cutoff, 1000), {
          events: 0,
          deliveries: 0,
          attempts: 0,
          operationalEvents: 0,
          next: null,
        });
      },
    );

    withStore('purgeBefore: parked deliveries are never purged; batches are bounded', async (store) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const ep = endpoints[0]!;
      const old = T0 - 40 * DAY;
      const parked = await eventWith(store, project.id, old, null);
      await store.updateEndpoint(project.id, ep.id, { active: false }, old);
      assert.equal((await store.getDelivery(project.id, parked.deliveries[0]!.id))?.status, 'parked');
      await store.enableEndpoint(project.id, ep.id, old + 1);
      await store.updateEndpoint(project.id, ep.id, { active: false }, T0 - DAY);
      assert.equal((await store.getDelivery(project.id, parked.deliveries[0]!.id))?.status, 'parked');
      await store.enableEndpoint(project.id, ep.id, T0 - DAY + 1);
      await store.updateEndpoint(project.id, ep.id, { active: false }, T0 - DAY + 2);
      // Five old events with no delivery at all (nothing matched them).
      const none = await store.createProject({ name: 'empty' }, old);
      await store.acceptEvents(
        none.id,
        Array.from({ length: 5 }, () => eventInput('a')),
        old,
      );
      const cutoff = T0 - 30 * DAY;
      const batches = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const r = await store.purgeBefore(none.id, cutoff, 2, after);
        batches.push(r.events);
        after = r.next;
        if (after === null) break;
      }
      assert.deepEqual(batches, [2, 2, 1]);
      assert.deepEqual((await store.listEvents(none.id, { limit: 10 })).data, []);

      const r = await store.purgeBefore(project.id, cutoff, 1000);
      assert.equal(r.events, 0, 'a parked delivery keeps its event');
      assert.ok(await store.getEvent(project.id, parked.event.id));
      // Old operational events go, recent ones stay.
      assert.equal(r.operationalEvents, 2);
      const ops = (await store.listOperationalEvents(project.id, { limit: 10 })).data;
      assert.deepEqual(
        ops.map((o) => o.createdAt),
        [T0 - DAY + 2, T0 - DAY + 1, T0 - DAY],
      );
    });

    withStore(
      "purgeBefore: an endpoint's delete touches the deliveries it closes: their events stay a retention period from then",
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [parkedOn, pendingOn] = endpoints;
        const old = T0 - 40 * DAY;
        const cutoff = T0 - 30 * DAY;
        // One event parked on a disabled endpoint since `old` (and waiting for the other one), one
        // waiting since then (never claimed): both kept by retention, however old.
        const parked = await store.acceptEvents(project.id, [eventInput('a')], old);
        await store.updateEndpoint(project.id, parkedOn!.id, { active: false }, old);
        const waiting = await store.acceptEvents(project.id, [eventInput('a')], old);
        const closedIds = [...parked[0]!.deliveries, ...waiting[0]!.deliveries].map((d) => d.id);
        assert.equal(closedIds.length, 3);
        assert.equal((await store.purgeBefore(project.id, cutoff, 1000)).events, 0, 'kept while open');
        // The endpoints deleted a day ago: their deliveries closed as failed then.
        await store.deleteEndpoint(project.id, parkedOn!.id, T0 - DAY);
        await store.deleteEndpoint(project.id, pendingOn!.id, T0 - DAY);
        for (const id of closedIds) {
          const d = await store.getDelivery(project.id, id);
          assert.equal(d?.status, 'failed');
          assert.ok(d!.updatedAt >= T0 - DAY, `closed at ${new Date(d!.updatedAt).toISOString()}`);
        }
        const r = await store.purgeBefore(project.id, cutoff, 1000);
        assert.equal(r.events, 0, 'closed a day ago: kept for the retention from then');
        for (const e of [parked[0]!, waiting[0]!]) assert.ok(await store.getEvent(project.id, e.event.id));
        // Once the retention has passed since the delete, they go.
        assert.equal((await store.purgeBefore(project.id, T0, 1000)).events, 2);
      },
    );

    withStore(
      'purgeBefore: a batch deletes events up to a bound on their payload bytes, not a count',
      async (store) => {
        const project = await store.createProject({ name: 'large' }, T0 - 40 * DAY);
        // Incompressible (PostgreSQL stores its compressed size): ~40 KB each, 0.6 of the bound.
        const blob = (i: number) => randomBytes(30_000).toString('base64') + i;
        const saved = { ...purgeBytes };
        purgeBytes.sqlite = 64 * 1024;
        purgeBytes.postgres = 64 * 1024;
        try {
          const old = T0 - 40 * DAY;
          await store.acceptEvents(
            project.id,
            Array.from({ length: 7 }, (_, i) =>
              eventInput('a', { payload: { blob: blob(i) }, idempotencyKey: `k${i}` }),
            ),
            old,
          );
          const batches = [];
          let after: string | null = null;
          do {
            const r = await store.purgeBefore(project.id, T0 - 30 * DAY, 1000, after);
            batches.push(r.events);
            after = r.next;
          } while (after !== null && batches.length < 20);
          // Two events reach the bound: a batch ends there, and the next goes on after them.
          assert.deepEqual(
            batches.filter((n) => n > 0),
            [2, 2, 2, 1],
          );
          assert.deepEqual((await store.listEvents(project.id, { limit: 10 })).data, []);
          const [fresh] = await store.acceptEvents(
            project.id,
            [eventInput('a', { idempotencyKey: 'k6' })],
            T0,
          );
          assert.equal(fresh?.duplicate, false, "a purged event's idempotency key goes with it");
        } finally {
          Object.assign(purgeBytes, saved);
        }
      },
    );

    withStore(
      'purgeBefore: a batch deletes attempts up to a bound on their request and response bytes, not only a count',
      async (store) => {
        const old = T0 - 40 * DAY;
        const { project } = await projectWithEndpoints(store, 1, old);
        // Incompressible (PostgreSQL stores its compressed size): ~40 KB each, 0.6 of the bound. A
        // form body (hmac-sha1-url), a GET query or a sha256-body is stored with each attempt as
        // sent, ~3 times the payload; a response body up to 64 KiB.
        const blob = (i: number) => randomBytes(30_000).toString('base64') + i;
        const [done, kept] = await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], old);
        for (let n = 0; n < 3; n++) {
          const at = old + n * HOUR;
          const claims = await store.claimDueDeliveries({
            limit: 10,
            leaseMs: 1000,
            now: at,
            workerId: 'w1',
          });
          assert.equal(claims.length, 2);
          await store.recordAttempts(
            claims.map((c) => {
              const isDone = c.event.id === done!.event.id;
              const record = attemptRecord(c.delivery, c.event, {
                outcome: 'failed',
                startedAt: at,
                status: isDone && n === 2 ? 'failed' : 'pending',
                nextAttemptAt: at + HOUR,
              });
              if (isDone) record.attempt.request.body = blob(n);
              else record.attempt.response = { status: 500, headers: {}, body: blob(n) };
              return record;
            }),
            { now: at, failureThreshold: 1000 },
          );
        }
        const saved = { ...purgeBytes };
        purgeBytes.sqlite = 64 * 1024;
        purgeBytes.postgres = 64 * 1024;
        try {
          const batches = [];
          let after: string | null = null;
          do {
            const r = await store.purgeBefore(project.id, T0 - 30 * DAY, 1000, after);
            batches.push(r);
            after = r.next;
          } while (after !== null && batches.length < 20);
          // Two attempts reach the bound: a batch ends there, and the next goes on with the rest.
          assert.ok(
            batches.every((r) => r.attempts <= 2),
            `attempts per batch: ${batches.map((r) => r.attempts).join(', ')}`,
          );
          assert.equal(
            batches.reduce((sum, r) => sum + r.attempts, 0),
            6,
          );
          assert.equal(
            batches.reduce((sum, r) => sum + r.events, 0),
            1,
          );
          assert.equal(await store.getEvent(project.id, done!.event.id), null);
          assert.equal(await store.getDelivery(project.id, done!.deliveries[0]!.id), null);
          // The event still owed stays, its delivery pending, without its old attempts.
          assert.ok(await store.getEvent(project.id, kept!.event.id));
          assert.equal((await store.getDelivery(project.id, kept!.deliveries[0]!.id))?.status, 'pending');
          assert.deepEqual((await store.listAttempts(project.id, { limit: 10 })).data, []);
        } finally {
          Object.assign(purgeBytes, saved);
        }
      },
    );

    withStore(
      'delivery.exhausted is recorded with the attempt that fails a delivery for good',
      async (store) => {
        const { project, endpoints } = await projectWithEndpoints(store, 2);
        const [ep, doomed] = endpoints;
        await store.acceptEvents(
          project.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' }), eventInput('b'), eventInput('c')],
          T0,
        );
        const claims = await store.claimDueDeliveries({
          limit: 20,
          leaseMs: 60 * SECOND,
          now: T0,
          workerId: 'w1',
        });
        const toEp = claims.filter((c) => c.delivery.endpointId === ep!.id);
        const cb = claims.find((c) => c.delivery.endpointId === null)!;
        const toDoomed = claims.find((c) => c.delivery.endpointId === doomed!.id)!;
        assert.equal(toEp.length, 3);
        await store.deleteEndpoint(project.id, doomed!.id, T0);
        await store.recordAttempts(
          [
            attemptRecord(toEp[0]!.delivery, toEp[0]!.event, { outcome: 'failed', status: 'failed' }),
            attemptRecord(toEp[1]!.delivery, toEp[1]!.event, { outcome: 'failed' }), // retried: nothing
            attemptRecord(cb.delivery, cb.event, { outcome: 'failed', status: 'failed', effect: 'none' }),
            attemptRecord(toDoomed.delivery, toDoomed.event, { outcome: 'failed', status: 'failed' }),
          ],
          { now: T0 + 5, failureThreshold: 100 },
        );
        const ops = (await store.listOperationalEvents(project.id, { limit: 10 })).data;
        assert.deepEqual(
          ops.map((o) => o.type),
          ['delivery.exhausted', 'delivery.exhausted'],
          'not for a retried delivery, nor for one whose endpoint was deleted',
        );
        const byDelivery = new Map(ops.map((o) => [o.data.deliveryId, o]));
        const first = byDelivery.get(toEp[0]!.delivery.id);
        assert.equal(first?.projectId, project.id);
        assert.equal(first?.createdAt, T0 + 5);
        assert.deepEqual(
          {
            endpointId: first?.data.endpointId,
            eventId: first?.data.eventId,
            reason: first?.data.reason,
            attempts: first?.data.attempts,
            lastStatus: first?.data.lastStatus,
          },
          {
            endpointId: ep!.id,
            eventId: toEp[0]!.event.id,
            reason: 'retries_exhausted',
            attempts: 1,
            lastStatus: 500,
          },
        );
        assert.equal(byDelivery.get(cb.delivery.id)?.data.endpointId, null);
        assert.equal(byDelivery.get(cb.delivery.id)?.data.url, 'http://127.0.0.1:9/cb');
      },
    );

    for (const holder of ['succeeded', 'failed'] as const) {
      withStore(
        `delivery.exhausted: not for a late last attempt of a delivery another worker ${holder === 'succeeded' ? 'delivered' : 'already failed'}`,
        async (store) => {
          // A worker paused past its lease: another claimed the delivery and its record came first.
          // The first worker's record, its last attempt by the count it read, comes late: it counts
          // its attempt but does not move the delivery, so it fails nothing for good.
          const { project, c1, c2 } = await leaseTakenOver(store);
          const options = { now: T0 + 3 * SECOND, failureThreshold: 100 };
          await store.recordAttempts(
            [
              attemptRecord(c2.delivery, c2.event, {
                outcome: holder,
                status: holder,
                startedAt: T0 + 2 * SECOND + 1,
                workerId: 'w2',
              }),
            ],
            options,
          );
          const late = attemptRecord(c1.delivery, c1.event, {
            outcome: 'failed',
            status: 'failed',
            startedAt: T0 + 1,
            workerId: 'w1',
          });
          assert.deepEqual((await store.recordAttempts([late], options)).statuses, [holder]);
          const d = await store.getDelivery(project.id, c1.delivery.id);
          assert.equal(d?.status, holder);
          assert.equal(d?.attempts, 2, 'the late attempt counts');
          const ops = (await store.listOperationalEvents(project.id, { limit: 10 })).data;
          assert.deepEqual(
            ops.map((o) => o.type),
            holder === 'failed' ? ['delivery.exhausted'] : [],
            'one delivery.exhausted per delivery failed for good, written by the record that failed it',
          );
        },
      );
    }

    withStore('operational events outbox: unforwarded ones, oldest first, across projects', async (store) => {
      const a = await projectWithEndpoints(store, 1);
      const b = await projectWithEndpoints(store, 1);
      assert.deepEqual(await store.listUnforwardedOperationalEvents(10), []);
      await store.updateEndpoint(a.project.id, a.endpoints[0]!.id, { active: false }, T0 + 1);
      await store.updateEndpoint(b.project.id, b.endpoints[0]!.id, { active: false }, T0 + 2);
      await store.enableEndpoint(a.project.id, a.endpoints[0]!.id, T0 + 3);
      const pending = await store.listUnforwardedOperationalEvents(10);
      assert.deepEqual(
        pending.map((o) => [o.projectId, o.type, o.createdAt]),
        [
          [a.project.id, 'endpoint.disabled', T0 + 1],
          [b.project.id, 'endpoint.disabled', T0 + 2],
          [a.project.id, 'endpoint.recovered', T0 + 3],
        ],
      );
      assert.equal((await store.listUnforwardedOperationalEvents(2)).length, 2);
      await store.markOperationalEventsForwarded(
        pending.slice(0, 2).map((o) => ({ projectId: o.projectId, id: o.id })),
        T0 + 10,
      );
      await store.markOperationalEventsForwarded([], T0 + 10);
      assert.deepEqual(
        (await store.listUnforwardedOperationalEvents(10)).map((o) => o.id),
        [pending[2]!.id],
      );
      // Forwarding changes nothing in what the API lists.
      assert.equal((await store.listOperationalEvents(a.project.id, { limit: 10 })).data.length, 2);
    });
  });
}
