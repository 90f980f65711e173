/**
 * Intake backpressure (HERALD_PROJECT_BACKLOG_LIMIT, src/api/backlog-gate.ts): the real app on a
 * real SQLite store without a dispatcher, so every accepted delivery stays pending.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FULL_RECOUNT_MS } from '../../src/api/backlog-gate.ts';
import { createMetrics } from '../../src/metrics.ts';
import { assertError, startApi, type TestApi } from './helpers.ts';

const apis: TestApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function projectWithEndpoints(a: TestApi, name: string, endpoints: number): Promise<string> {
  const p = (await a.call('POST', '/api/v1/projects', { name })).body as { id: string };
  for (let i = 0; i < endpoints; i++) {
    const r = await a.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
      url: `https://hooks.example/${i}`,
    });
    assert.equal(r.status, 201);
  }
  return p.id;
}

const event = (i: number) => ({ type: 'player.joined', payload: { i } });
const pendingOf = (a: TestApi, projectId: string) => a.store.countPendingDeliveries(projectId, 1_000_000);

describe('project backlog limit', () => {
  test('a project at its limit gets 429 HERALD_ERR_BACKLOG_FULL with Retry-After, stores nothing, and other projects go on', async () => {
    const a = await startApi({ projectBacklogLimit: 6 });
    apis.push(a);
    const noisy = await projectWithEndpoints(a, 'noisy', 2);
    const quiet = await projectWithEndpoints(a, 'quiet', 2);

    // 2 deliveries per event: 6 pending after three events, and the gate knows it from its own accepts.
    for (let i = 0; i < 3; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${noisy}/events`, event(i))).status, 202);
    }
    assert.equal(await pendingOf(a, noisy), 6);
    const refused = await a.call('POST', `/api/v1/projects/${noisy}/events`, event(3));
    const error = assertError(refused, 429, 'HERALD_ERR_BACKLOG_FULL');
    assert.equal(refused.headers['retry-after'], '1');
    assert.deepEqual(error.details, { limit: 6, pending: 6, retryAfterSeconds: 1 });
    assert.match(String(error.message), /HERALD_PROJECT_BACKLOG_LIMIT/);
    const batch = await a.call('POST', `/api/v1/projects/${noisy}/events/batch`, {
      events: [event(4), event(5)],
    });
    assertError(batch, 429, 'HERALD_ERR_BACKLOG_FULL');
    // Nothing of the refused requests was stored.
    assert.equal((await a.store.listEvents(noisy, { limit: 100 })).data.length, 3);
    assert.equal(await pendingOf(a, noisy), 6);

    // Another project is not held back, and the rest of the API answers for the full one.
    assert.equal((await a.call('POST', `/api/v1/projects/${quiet}/events`, event(0))).status, 202);
    assert.equal((await a.call('GET', `/api/v1/projects/${noisy}/events`)).status, 200);

    // Counted for the whole process (every gate of it), read at scrape time.
    const text = await createMetrics({ store: a.store, processMetrics: false }).render();
    assert.match(text, /^herald_backlog_full_refusals_total [1-9]\d*$/m);
  });

  test('a repeat of accepted events (every idempotency key held) is answered while the project is full; anything new is not', async () => {
    const a = await startApi({ projectBacklogLimit: 4 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 2);
    const keyed = (i: number) => ({ ...event(i), idempotencyKey: `k${i}` });
    const first = await a.call('POST', `/api/v1/projects/${p}/events`, keyed(0));
    assert.equal(first.status, 202);
    const batch = await a.call('POST', `/api/v1/projects/${p}/events/batch`, { events: [keyed(1)] });
    assert.equal(batch.status, 202);
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, keyed(2)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );

    // A client retrying after a lost answer gets the original, by field or header, single or batch.
    const again = await a.call('POST', `/api/v1/projects/${p}/events`, keyed(0));
    assert.equal(again.status, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal((again.body as { id: string }).id, (first.body as { id: string }).id);
    const byHeader = await a.call('POST', `/api/v1/projects/${p}/events`, event(0), {
      headers: { 'idempotency-key': 'k0' },
    });
    assert.equal(byHeader.status, 202);
    const batchAgain = await a.call('POST', `/api/v1/projects/${p}/events/batch`, {
      events: [keyed(1), keyed(0), keyed(1)],
    });
    assert.equal(batchAgain.status, 202);
    // A batch with one new event, or one without a key, is refused whole.
    for (const events of [
      [keyed(0), keyed(3)],
      [keyed(0), event(4)],
    ]) {
      assertError(
        await a.call('POST', `/api/v1/projects/${p}/events/batch`, { events }),
        429,
        'HERALD_ERR_BACKLOG_FULL',
      );
    }
    assert.equal((await a.store.listEvents(p, { limit: 100 })).data.length, 2, 'nothing created');
    assert.equal(await pendingOf(a, p), 4);
  });

  test('once deliveries leave the backlog, events are accepted again after the next count', async () => {
    const a = await startApi({ projectBacklogLimit: 4 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 2);
    for (let i = 0; i < 2; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(i))).status, 202);
    }
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(2)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    // Deleting an endpoint ends its deliveries: 2 pending left.
    const endpoints = (await a.call('GET', `/api/v1/projects/${p}/endpoints`)).body as {
      data: { id: string }[];
    };
    assert.equal(
      (await a.call('DELETE', `/api/v1/projects/${p}/endpoints/${endpoints.data[0]!.id}`)).status,
      204,
    );
    assert.equal(await pendingOf(a, p), 2);
    await new Promise((resolve) => setTimeout(resolve, FULL_RECOUNT_MS + 50));
    assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(3))).status, 202);
  });

  test('parked deliveries do not count; 0 turns the limit off', async () => {
    const a = await startApi({ projectBacklogLimit: 2 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 1);
    const endpoints = (await a.call('GET', `/api/v1/projects/${p}/endpoints`)).body as {
      data: { id: string }[];
    };
    const hook = endpoints.data[0]!.id;
    for (let i = 0; i < 2; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(i))).status, 202);
    }
    assert.equal(
      (await a.call('PATCH', `/api/v1/projects/${p}/endpoints/${hook}`, { active: false })).status,
      200,
    );
    assert.equal(await pendingOf(a, p), 0, 'the disable parked them');
    await new Promise((resolve) => setTimeout(resolve, FULL_RECOUNT_MS + 50));
    assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(2))).status, 202);

    const off = await startApi({ projectBacklogLimit: null });
    apis.push(off);
    const q = await projectWithEndpoints(off, 'q', 1);
    for (let i = 0; i < 5; i++) {
      assert.equal((await off.call('POST', `/api/v1/projects/${q}/events`, event(i))).status, 202);
    }
  });
});
