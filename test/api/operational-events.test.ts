/** GET …/operational-events: newest first, `?type` narrows it to one kind, a misspelt kind is refused. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('operational events API', () => {
  let api: TestApi;
  let p: Body;
  let OPS: string;

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
  });
  after(() => api.close());

  test('?type lists that kind only, newest first, and pages', async () => {
    const all = await api.call('GET', OPS);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.body.data.map((o: Body) => o.type),
      ['endpoint.disabled', 'endpoint.recovered', 'endpoint.disabled'],
    );
    const disabled = await api.call('GET', `${OPS}?type=endpoint.disabled&limit=1`);
    assert.equal(disabled.status, 200, disabled.text);
    assert.deepEqual(disabled.body.data, [all.body.data[0]]);
    const next = await api.call(
      'GET',
      `${OPS}?type=endpoint.disabled&limit=1&cursor=${encodeURIComponent(disabled.body.nextCursor)}`,
    );
    assert.deepEqual(next.body, { data: [all.body.data[2]], nextCursor: null });
    const none = await api.call('GET', `${OPS}?type=delivery.exhausted`);
    assert.deepEqual(none.body, { data: [], nextCursor: null });
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
