/**
 * An empty filter value (`?type=`, `?eventType=`: a client's variable that was never set) is 400
 * naming it, as an empty `?idempotencyKey=` or `?endpoint=` is, rather than the unfiltered list
 * answered as if it were the filtered one (no event has an empty type). A real server on listen(0)
 * over SQLite, called with fetch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listenForFetch, startApi, type TestApi } from './helpers.ts';

describe('empty type filters', () => {
  let api: TestApi;
  let call: Awaited<ReturnType<typeof listenForFetch>>['call'];
  let project: string;
  let endpoint: string;
  before(async () => {
    api = await startApi();
    call = (await listenForFetch(api.app)).call;
    project = `/api/v1/projects/${(await api.project('filters')).id}`;
    const ep = await call('POST', `${project}/endpoints`, { url: 'https://a.example/' });
    assert.equal(ep.status, 201, ep.text);
    endpoint = `${project}/endpoints/${ep.body.id}`;
    for (const type of ['order.paid', 'player.joined']) {
      assert.equal((await call('POST', `${project}/events`, { type, payload: {} })).status, 202);
    }
  });
  after(() => api.close());

  test('?type= on the events list and ?eventType= on an endpoint’s attempts are 400 naming them', async () => {
    for (const [path, name] of [
      [`${project}/events`, 'type'],
      [`${endpoint}/attempts`, 'eventType'],
    ] as const) {
      const r = await call('GET', `${path}?${name}=`);
      assert.equal(r.status, 400, `${path}?${name}=: ${r.text}`);
      assert.equal(r.body.error.code, 'HERALD_ERR_VALIDATION');
      assert.equal(r.body.error.details.field, `querystring.${name}`);
      assert.equal(r.body.error.message, `querystring.${name}: must not be empty`);
    }
    // A type given filters; none given lists every type.
    const paid = await call('GET', `${project}/events?type=order.paid`);
    assert.deepEqual(
      paid.body.data.map((e: { type: string }) => e.type),
      ['order.paid'],
    );
    assert.equal((await call('GET', `${project}/events`)).body.data.length, 2);
    assert.equal((await call('GET', `${endpoint}/attempts?eventType=order.paid`)).status, 200);
  });
});
