/**
 * `since` and `until` name days that exist: Date.parse rolls 2026-02-30 over to March 2, which
 * would start a listing, a chart or a recover two days from where the client meant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('calendar dates in since and until', () => {
  let api: TestApi;
  let p: Body;
  let ep: string;

  before(async () => {
    api = await startApi();
    p = await api.project('dates');
    const r = await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://a.example/' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ep = `/api/v1/projects/${p.id}/endpoints/${r.body.id}`;
  });
  after(() => api.close());

  test('a day past the end of its month is 400 naming the field, on every route that takes times', async () => {
    const lists = [`/api/v1/projects/${p.id}/events`, `${ep}/attempts`, `${ep}/stats`];
    for (const url of lists) {
      for (const [name, value] of [
        ['since', '2026-02-30'],
        ['until', '2026-04-31T10:00:00Z'],
        ['since', '2026-02-29'],
      ] as const) {
        const error = assertError(
          await api.call('GET', `${url}?${name}=${value}`),
          400,
          'HERALD_ERR_VALIDATION',
          `querystring.${name}`,
        );
        assert.match(error.message, /is not a date: (February 2026 has 28|April 2026 has 30) days/, url);
      }
    }
    const error = assertError(
      await api.call('POST', `${ep}/recover`, { since: '2026-02-30' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.since',
    );
    assert.equal(error.message, 'body.since: is not a date: February 2026 has 28 days (2026-02-30)');
    assertError(
      await api.call('GET', `/api/v1/projects/${p.id}/events?since=2026-13-01`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.since',
    );
  });

  test('leap days are dates in leap years only', async () => {
    const events = `/api/v1/projects/${p.id}/events`;
    assert.equal((await api.call('GET', `${events}?since=2028-02-29&until=2028-03-01`)).status, 200);
    assert.equal((await api.call('GET', `${events}?since=2000-02-29T12:00:00Z`)).status, 200);
    assertError(
      await api.call('GET', `${events}?since=1900-02-29`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.since',
    );
    assert.equal(
      (await api.call('GET', `${ep}/stats?since=2028-02-28&until=2028-02-29T23:00:00Z`)).status,
      200,
    );
    const r = await api.call('POST', `${ep}/recover`, { since: '2028-02-29', until: '2028-02-29T10:00Z' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  });
});
