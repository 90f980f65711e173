/** A 202 of many deliveries goes out in pieces (chunked): the same JSON as a small one. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ANSWER_STREAM_DELIVERIES } from '../../src/api/accepted-answer.ts';
import { type Body, startApi, type TestApi } from './helpers.ts';

describe('large accept answers', () => {
  let api: TestApi;
  let EV: string;
  const ENDPOINTS = 20;

  before(async () => {
    api = await startApi();
    const p = await api.project('large-answers');
    EV = `/api/v1/projects/${p.id}/events`;
    for (let i = 0; i < ENDPOINTS; i++) {
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: `https://hooks.example/${i}` });
    }
  });
  after(() => api.close());

  // Payloads with a number kept as its digits (json-text.ts): the pieces write it as sent.
  const batch = (n: number) =>
    api.call('POST', `${EV}/batch`, undefined, {
      raw: `{"events": [${Array.from({ length: n }, (_, i) => `{"type": "t", "payload": {"i": ${i}, "big": 18446744073709551615}}`).join(',')}]}`,
    });

  test('a batch of 1,200 deliveries: chunked, every event as GET reads it, in request order', async () => {
    const events = Math.ceil(ANSWER_STREAM_DELIVERIES / ENDPOINTS) + 10;
    const r = await batch(events);
    assert.equal(r.status, 202);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    assert.match(String(r.headers['content-type']), /^application\/json; charset=utf-8$/);
    assert.equal(r.body.data.length, events);
    assert.equal(String(r.text).split('"big":18446744073709551615}').length, events + 1);
    for (const [i, e] of (r.body.data as Body[]).entries()) {
      assert.equal(e.payload.i, i);
      assert.equal(e.deliveries.length, ENDPOINTS);
      assert.deepEqual(e, (await api.call('GET', `${EV}/${e.id}`)).body);
    }
  });

  test('a smaller one is sent whole, with its length', async () => {
    const r = await batch(Math.floor((ANSWER_STREAM_DELIVERIES - 1) / ENDPOINTS));
    assert.equal(r.status, 202);
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.ok(Number(r.headers['content-length']) > 0);
    assert.ok(r.body.data.every((e: Body) => e.deliveries.length === ENDPOINTS));
  });
});
