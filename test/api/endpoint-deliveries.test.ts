/** `GET …/endpoints/:endpoint/deliveries`: what waits for one endpoint, its pages, counts and refusals. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKLOG_COUNT_CAP } from '../../src/api/routes/deliveries.ts';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('endpoint deliveries API', () => {
  let api: TestApi;
  let p: Body;
  let EV: string;
  let EP: string;

  before(async () => {
    api = await startApi(); // no dispatcher: what is accepted stays pending
    p = await api.project('queue');
    EV = `/api/v1/projects/${p.id}/events`;
    EP = `/api/v1/projects/${p.id}/endpoints`;
  });
  after(() => api.close());

  const list = (endpointId: string, query = '', token?: string) =>
    api.call('GET', `${EP}/${endpointId}/deliveries${query}`, undefined, token ? { token } : {});

  test('lists the pending deliveries in due order, two a page, counts on the first page only', async () => {
    const endpoint = (await api.call('POST', EP, { url: 'https://hooks.example/q' })).body;
    const other = (await api.call('POST', EP, { url: 'https://hooks.example/other', eventTypes: ['x'] }))
      .body;
    const batch = await api.call('POST', `${EV}/batch`, {
      events: [1, 2, 3].map((n) => ({ type: 'player.paid', payload: { n } })),
    });
    assert.equal(batch.status, 202, JSON.stringify(batch.body));
    const single = (await api.call('POST', EV, { type: 'player.paid', payload: { n: 4 } })).body;

    const first = await list(endpoint.id, '?limit=2');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.counts, { pending: 4, parked: 0, atMost: BACKLOG_COUNT_CAP });
    assert.equal(first.body.data.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await list(endpoint.id, `?limit=2&cursor=${first.body.nextCursor}`);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.counts, undefined, 'a later page is not counted again');
    assert.equal(second.body.nextCursor, null);
    const listed = [...first.body.data, ...second.body.data];
    // The batch's three share a due time (ties by id), the single event came after them.
    const expected = [
      ...batch.body.data.map((e: Body) => e.deliveries[0].id).sort(),
      single.deliveries[0].id,
    ];
    assert.deepEqual(
      listed.map((d: Body) => d.id),
      expected,
    );
    for (const d of listed) {
      assert.equal(d.endpointId, endpoint.id);
      assert.equal(d.status, 'pending');
      assert.equal(d.attempts, 0);
      assert.equal(d.inFlight, false);
      assert.equal(typeof d.nextAttemptAt, 'string');
    }
    // The endpoint whose filter took none of them has nothing waiting.
    const none = await list(other.id);
    assert.deepEqual(none.body, {
      data: [],
      nextCursor: null,
      counts: { pending: 0, parked: 0, atMost: BACKLOG_COUNT_CAP },
    });

    // Disabled: they are parked, and listed as such.
    assert.equal((await api.call('PATCH', `${EP}/${endpoint.id}`, { active: false })).status, 200);
    const pending = await list(endpoint.id);
    assert.deepEqual(pending.body.data, []);
    assert.deepEqual(pending.body.counts, { pending: 0, parked: 4, atMost: BACKLOG_COUNT_CAP });
    const parked = await list(endpoint.id, '?status=parked');
    assert.deepEqual(
      parked.body.data.map((d: Body) => [d.id, d.status, d.nextAttemptAt]),
      expected.map((id) => [id, 'parked', null]),
    );
  });

  test('a project key of another project, an unknown endpoint → 404; bad status, limit, cursor → 400 naming them', async () => {
    const endpoint = (await api.call('POST', EP, { url: 'https://hooks.example/r' })).body;
    const stranger = await api.project('stranger');
    const key = await api.apiKey(stranger.id);
    assertError(await list(endpoint.id, '', key), 404);
    assertError(await list('ep_nope'), 404, 'HERALD_ERR_NOT_FOUND');
    assert.equal((await list(endpoint.id, '', await api.apiKey(p.id))).status, 200, 'its own project’s key');

    assertError(
      await list(endpoint.id, '?status=failed'),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.status',
    );
    assertError(await list(endpoint.id, '?limit=0'), 400, 'HERALD_ERR_VALIDATION', 'querystring.limit');
    assertError(
      await list(endpoint.id, '?cursor=nonsense!'),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.cursor',
    );
    // Another list's cursor over deliveries (an event's, in id order) is not this list's.
    await api.call('POST', EV, { type: 'player.paid', payload: { n: 1 } });
    await api.call('POST', EV, { type: 'player.paid', payload: { n: 2 } });
    const events = (await api.call('GET', `${EV}?limit=1`)).body;
    const eventPage = await api.call('GET', `${EV}/${events.data[0].id}/deliveries?limit=1`);
    const foreign = eventPage.body.nextCursor ?? Buffer.from(eventPage.body.data[0].id).toString('base64url');
    assertError(
      await list(endpoint.id, `?cursor=${foreign}`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.cursor',
    );
  });
});
