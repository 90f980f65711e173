/**
 * GET …/operational-events: newest first, `?type` narrows it to one kind, a misspelt kind is refused,
 * `?endpoint` to one endpoint's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('operational events API', () => {
  let api: TestApi;
  let p: Body;
  let OPS: string;
  let endpointId: string;
  let otherId: string;

  before(async () => {
    api = await startApi();
    p = await api.project('operational-events');
    OPS = `/api/v1/projects/${p.id}/operational-events`;
    const e = await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
      url: 'https://hooks.example/ops',
    });
    // disabled, recovered, disabled: three events, newest last.
    for (const active of [false, true, false]) {
      const r = await api.call('PATCH', `/api/v1/projects/${p.id}/endpoints/${e.body.id}`, { active });
      assert.equal(r.status, 200, r.text);
    }
    endpointId = e.body.id;
    // Another endpoint's disable, the newest of all.
    const other = await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
      url: 'https://hooks.example/other',
    });
    otherId = other.body.id;
    const r = await api.call('PATCH', `/api/v1/projects/${p.id}/endpoints/${otherId}`, { active: false });
    assert.equal(r.status, 200, r.text);
  });
  after(() => api.close());

  test('?type lists that kind only, newest first, and pages', async () => {
    const all = await api.call('GET', `${OPS}?endpoint=${endpointId}`);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.body.data.map((o: Body) => o.type),
      ['endpoint.disabled', 'endpoint.recovered', 'endpoint.disabled'],
    );
    const disabled = await api.call('GET', `${OPS}?endpoint=${endpointId}&type=endpoint.disabled&limit=1`);
    assert.equal(disabled.status, 200, disabled.text);
    assert.deepEqual(disabled.body.data, [all.body.data[0]]);
    const next = await api.call(
      'GET',
      `${OPS}?endpoint=${endpointId}&type=endpoint.disabled&limit=1&cursor=${encodeURIComponent(disabled.body.nextCursor)}`,
    );
    assert.deepEqual(next.body, { data: [all.body.data[2]], nextCursor: null });
    const none = await api.call('GET', `${OPS}?type=delivery.exhausted`);
    assert.deepEqual(none.body, { data: [], nextCursor: null });
  });

  test("?endpoint lists that endpoint's only; one with none (or unknown) lists none", async () => {
    const all = await api.call('GET', OPS);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.body.data.map((o: Body) => o.data.endpointId),
      [otherId, endpointId, endpointId, endpointId],
    );
    const other = await api.call('GET', `${OPS}?endpoint=${otherId}`);
    assert.equal(other.status, 200, other.text);
    assert.deepEqual(other.body, { data: [all.body.data[0]], nextCursor: null });
    const unknown = await api.call('GET', `${OPS}?endpoint=ep_unknown`);
    assert.deepEqual(unknown.body, { data: [], nextCursor: null });
    assertError(
      await api.call('GET', `${OPS}?endpoint=`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.endpoint',
    );
  });

  test('a type that is not one of the three is refused, listing them', async () => {
    const error = assertError(
      await api.call('GET', `${OPS}?type=endpoint.disable`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.type',
    );
    assert.equal(
      error.message,
      'querystring.type: must be one of endpoint.disabled, endpoint.recovered, delivery.exhausted',
    );
    assert.deepEqual(error.details.allowedValues, [
      'endpoint.disabled',
      'endpoint.recovered',
      'delivery.exhausted',
    ]);
  });
});
