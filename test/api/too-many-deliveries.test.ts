/**
 * HERALD_MAX_DELIVERIES_PER_REQUEST: an event request whose events would create more deliveries
 * than that is refused with 413 HERALD_ERR_TOO_MANY_DELIVERIES and stores nothing (the real app on
 * a real SQLite store; the count itself is the store's, test/store/store-suite.ts).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { assertError, startApi, type TestApi } from './helpers.ts';

const apis: TestApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

/** A project with `n` endpoints taking every type, one filtered to another type and one disabled. */
async function projectWith(a: TestApi, n: number): Promise<string> {
  const p = (await a.project('fan')) as { id: string };
  const add = async (body: Record<string, unknown>) =>
    assert.equal((await a.call('POST', `/api/v1/projects/${p.id}/endpoints`, body)).status, 201);
  for (let i = 0; i < n; i++) await add({ url: `https://hooks.example/${i}` });
  await add({ url: 'https://hooks.example/other', eventTypes: ['other.type'] });
  await add({ url: 'https://hooks.example/off', active: false });
  return p.id;
}

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  type: 'player.joined',
  payload: { i },
  ...extra,
});
const stored = async (a: TestApi, projectId: string) => ({
  events: (await a.store.listEvents(projectId, { limit: 100 })).data.length,
  pending: await a.store.countPendingDeliveries(projectId, 1_000_000),
});

describe('deliveries per request (HERALD_MAX_DELIVERIES_PER_REQUEST)', () => {
  test('a batch over the limit: 413 naming body.events with the limit and the count, nothing stored; at the limit: 202', async () => {
    const a = await startApi({ maxDeliveriesPerRequest: 10 });
    apis.push(a);
    const p = await projectWith(a, 3);
    const url = `/api/v1/projects/${p}/events/batch`;

    // 3 + 3 + (3 + callback) = 10: at the limit.
    const cb = { callbackUrl: 'https://hooks.example/cb' };
    const ok = await a.call('POST', url, { events: [event(0), event(1), event(2, cb)] });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.deepEqual(await stored(a, p), { events: 3, pending: 10 });

    const over = await a.call('POST', url, {
      events: [event(3), event(4), event(5, cb), event(6, { idempotencyKey: 'k' })],
    });
    const error = assertError(over, 413, 'HERALD_ERR_TOO_MANY_DELIVERIES', 'body.events');
    assert.deepEqual(error.details, { field: 'body.events', limit: 10, deliveries: 13 });
    assert.match(error.message, /^body\.events: these events would create 13 deliveries/);
    assert.match(error.message, /HERALD_MAX_DELIVERIES_PER_REQUEST/);
    assert.match(error.message, /fewer events per request/);
    assert.match(error.message, /nothing of this request was stored/);
    assert.deepEqual(await stored(a, p), { events: 3, pending: 10 }, 'nothing of the refused batch');
    assert.equal((await a.store.heldIdempotencyKeys(p, ['k'], Date.now())).size, 0, 'nor its key');

    // Repeats of accepted idempotency keys count none: a retried batch at the limit goes again.
    const keyed = { events: [event(7, { idempotencyKey: 'a' }), event(8, { idempotencyKey: 'b' })] };
    assert.equal((await a.call('POST', url, keyed)).status, 202);
    const retried = await a.call('POST', url, { events: [...keyed.events, event(9), event(10)] });
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assert.deepEqual(await stored(a, p), { events: 7, pending: 22 });
  });

  test('a single event over the limit: 413 naming body, nothing stored', async () => {
    const a = await startApi({ maxDeliveriesPerRequest: 2 });
    apis.push(a);
    const p = await projectWith(a, 2);
    const url = `/api/v1/projects/${p}/events`;
    assert.equal((await a.call('POST', url, event(0))).status, 202, 'two endpoints: at the limit');
    const over = await a.call('POST', url, event(1, { callbackUrl: 'https://hooks.example/cb' }), {
      headers: { 'idempotency-key': 'single' },
    });
    const error = assertError(over, 413, 'HERALD_ERR_TOO_MANY_DELIVERIES', 'body');
    assert.deepEqual(error.details, { field: 'body', limit: 2, deliveries: 3 });
    assert.match(error.message, /^body: this event would create 3 deliveries/);
    assert.match(error.message, /HERALD_MAX_DELIVERIES_PER_REQUEST/);
    assert.deepEqual(await stored(a, p), { events: 1, pending: 2 });
    assert.equal((await a.store.heldIdempotencyKeys(p, ['single'], Date.now())).size, 0);
  });
});
