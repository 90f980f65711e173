/** `POST …/endpoints/:endpoint/replay`: the events an endpoint missed, its answers and refusals. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('replay API', () => {
  let api: TestApi;
  let p: Body;
  let EV: string;
  let EP: string;

  before(async () => {
    // Two deliveries per request at most, so the cut-short answer shows with three events.
    api = await startApi({ maxDeliveriesPerRequest: 2 });
    p = await api.project('replay');
    EV = `/api/v1/projects/${p.id}/events`;
    EP = `/api/v1/projects/${p.id}/endpoints`;
  });
  after(() => api.close());

  const deliveredTo = async (eventId: string, endpointId: string) =>
    (await api.call('GET', `${EV}/${eventId}`)).body.deliveries.filter(
      (d: Body) => d.endpointId === endpointId,
    );

  test('an endpoint added after three events gets them, two per request, then nothing more', async () => {
    const events: Body[] = [];
    for (const n of [1, 2, 3]) {
      const r = await api.call('POST', EV, { type: 'player.paid', payload: { n } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      events.push(r.body);
    }
    const late = (await api.call('POST', EP, { url: 'https://hooks.example/late' })).body;
    const since = events[0]!.createdAt;

    const first = await api.call('POST', `${EP}/${late.id}/replay`, { since });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual(first.body, { replayed: 2, nextSince: events[2]!.createdAt });
    const rest = await api.call('POST', `${EP}/${late.id}/replay`, { since: first.body.nextSince });
    assert.deepEqual(rest.body, { replayed: 1, nextSince: null });
    for (const e of events) {
      const [d] = await deliveredTo(e.id, late.id);
      assert.equal(d?.status, 'pending', `event ${e.id}`);
      assert.equal(d?.url, 'https://hooks.example/late');
    }
    assert.deepEqual((await api.call('POST', `${EP}/${late.id}/replay`, { since })).body, {
      replayed: 0,
      nextSince: null,
    });
    const listed = (await api.call('GET', `${EV}/${events[0]!.id}`)).body;
    assert.equal(listed.deliveryCount, 1, 'the event now counts its replayed delivery');
  });

  test('since after until → 422 naming body.since; a bad time → 400 naming it', async () => {
    const e = (await api.call('POST', EP, { url: 'https://hooks.example/t' })).body;
    assertError(
      await api.call('POST', `${EP}/${e.id}/replay`, {
        since: '2026-02-02T00:00:00Z',
        until: '2026-02-01T00:00:00Z',
      }),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.since',
    );
    assertError(
      await api.call('POST', `${EP}/${e.id}/replay`, { since: 'yesterday' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.since',
    );
  });

  test('a disabled endpoint → 409 HERALD_ERR_ENDPOINT_DISABLED, nothing replayed; an unknown one → 404', async () => {
    const r = await api.call('POST', EV, { type: 'player.paid', payload: { n: 9 } });
    const e = (await api.call('POST', EP, { url: 'https://hooks.example/off', active: false })).body;
    assertError(
      await api.call('POST', `${EP}/${e.id}/replay`, { since: 0 }),
      409,
      'HERALD_ERR_ENDPOINT_DISABLED',
    );
    assert.deepEqual(await deliveredTo(r.body.id, e.id), []);
    assertError(await api.call('POST', `${EP}/ep_unknown/replay`, { since: 0 }), 404, 'HERALD_ERR_NOT_FOUND');
  });
});
