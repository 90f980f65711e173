/** GET …/deliveries/:delivery: one delivery, as its event lists it, seen only from its own project. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attemptRecord } from '../store/helpers.ts';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('deliveries API: read one', () => {
  let api: TestApi;
  let p: Body;
  let hook: Body;
  const P = () => `/api/v1/projects/${p.id}`;

  before(async () => {
    api = await startApi();
    p = await api.project('deliveries');
    hook = (await api.call('POST', `${P()}/endpoints`, { url: 'https://hooks.example/a' })).body;
  });
  after(() => api.close());

  /** The event's deliveries as GET …/events/:event lists them. */
  const listed = async (eventId: string): Promise<Body[]> =>
    (await api.call('GET', `${P()}/events/${eventId}`)).body.deliveries;

  test('200 with the delivery exactly as its event lists it, an endpoint’s and a callback’s', async () => {
    const sent = await api.call('POST', `${P()}/events`, {
      type: 'order.created',
      payload: {},
      callbackUrl: 'https://callbacks.example/done',
    });
    assert.equal(sent.status, 202);
    const deliveries = await listed(sent.body.id);
    assert.equal(deliveries.length, 2);
    for (const d of deliveries) {
      const one = await api.call('GET', `${P()}/deliveries/${d.id}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, d);
    }
    const [toHook] = deliveries.filter((d) => d.endpointId === hook.id);
    const got = (await api.call('GET', `${P()}/deliveries/${toHook.id}`)).body;
    assert.deepEqual(Object.keys(got).sort(), [
      'attempts',
      'createdAt',
      'endpointId',
      'eventId',
      'id',
      'inFlight',
      'lastAttemptAt',
      'nextAttemptAt',
      'status',
      'url',
    ]);
    assert.equal(got.eventId, sent.body.id);
    assert.equal(got.url, 'https://hooks.example/a');
    assert.equal(got.status, 'pending');
    assert.equal(got.attempts, 0);
    assert.equal(got.inFlight, false);
    assert.equal(got.lastAttemptAt, null);
    const callback = deliveries.find((d) => d.endpointId === null);
    assert.equal(
      (await api.call('GET', `${P()}/deliveries/${callback.id}`)).body.url,
      'https://callbacks.example/done',
    );
  });

  test('follows the delivery: in flight while a worker holds it, then its attempt counted and the retry due', async () => {
    const sent = await api.call('POST', `${P()}/events`, { type: 'order.held', payload: {} });
    const id = sent.body.deliveries.find((d: Body) => d.endpointId === hook.id).id;
    const now = Date.now();
    const claims = await api.store.claimDueDeliveries({ limit: 100, leaseMs: 60_000, now, workerId: 'w' });
    const claim = claims.find((c) => c.delivery.id === id);
    assert.ok(claim);
    const held = (await api.call('GET', `${P()}/deliveries/${id}`)).body;
    assert.equal(held.inFlight, true);
    assert.equal(Date.parse(held.nextAttemptAt), now + 60_000, 'the lease’s end');

    const record = attemptRecord(claim.delivery, claim.event, {
      outcome: 'failed',
      startedAt: now + 1,
      nextAttemptAt: now + 5_000,
      workerId: 'w',
    });
    await api.store.recordAttempts([record], { now: now + 2, failureThreshold: 100 });
    const after = (await api.call('GET', `${P()}/deliveries/${id}`)).body;
    assert.deepEqual(
      [after.status, after.attempts, after.inFlight, after.nextAttemptAt, after.lastAttemptAt],
      ['pending', 1, false, new Date(now + 5_000).toISOString(), new Date(now + 1).toISOString()],
    );
    assert.deepEqual(
      after,
      (await listed(sent.body.id)).find((d) => d.id === id),
    );
  });

  test('404 when there is no such delivery in the project; another project’s key cannot tell it exists', async () => {
    const sent = await api.call('POST', `${P()}/events`, { type: 'order.created', payload: {} });
    const id = sent.body.deliveries[0].id;
    for (const missing of ['dlv_missing', sent.body.id, 'x']) {
      const error = assertError(
        await api.call('GET', `${P()}/deliveries/${missing}`),
        404,
        'HERALD_ERR_NOT_FOUND',
      );
      assert.equal(error.message, 'delivery not found');
    }

    // Project B: its key, and the admin token, on B's path with A's delivery: as if it did not exist.
    const b = await api.project('other');
    const bKey = await api.apiKey(b.id);
    const onB = `/api/v1/projects/${b.id}/deliveries/${id}`;
    const asAbsent = assertError(
      await api.call('GET', onB, undefined, { token: bKey }),
      404,
      'HERALD_ERR_NOT_FOUND',
    );
    const trulyAbsent = assertError(
      await api.call('GET', `/api/v1/projects/${b.id}/deliveries/dlv_missing`, undefined, { token: bKey }),
      404,
    );
    assert.deepEqual(asAbsent, trulyAbsent, 'the same answer as for an id that exists nowhere');
    assertError(await api.call('GET', onB), 404, 'HERALD_ERR_NOT_FOUND');
    // B's key on A's path: 404 (not 403), as every route answers a key naming another project.
    assertError(
      await api.call('GET', `${P()}/deliveries/${id}`, undefined, { token: bKey }),
      404,
      'HERALD_ERR_NOT_FOUND',
    );
    // A's own key reads it.
    const aKey = await api.apiKey(p.id);
    assert.equal((await api.call('GET', `${P()}/deliveries/${id}`, undefined, { token: aKey })).body.id, id);
  });

  test('a malformed id is 400 naming params.delivery, as on every route; a query parameter 400 naming it', async () => {
    for (const bad of ['dlv%00x', '%00', '']) {
      const error = assertError(
        await api.call('GET', `${P()}/deliveries/${bad}`),
        400,
        'HERALD_ERR_VALIDATION',
        'params.delivery',
      );
      assert.match(error.message, /^params\.delivery: must not (contain NUL|be empty)/);
    }
    // Longer than any id: refused before routing, as every path segment is.
    assertError(
      await api.call('GET', `${P()}/deliveries/dlv_${'x'.repeat(200)}`),
      414,
      'HERALD_ERR_URI_TOO_LONG',
    );
    const sent = await api.call('POST', `${P()}/events`, { type: 'order.created', payload: {} });
    assertError(
      await api.call('GET', `${P()}/deliveries/${sent.body.deliveries[0].id}?status=failed`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.status',
    );
  });
});
