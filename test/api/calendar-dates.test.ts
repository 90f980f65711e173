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

  test('hour 24 is 400 naming the field, not midnight of the next day; hours 00 to 23 are taken', async () => {
    // RFC 3339 has hours 00-23; Date.parse read T24:00 (only that) as the next day's midnight.
    const lists = [`/api/v1/projects/${p.id}/events`, `${ep}/attempts`, `${ep}/stats`];
    for (const url of lists) {
      for (const [name, value] of [
        ['since', '2026-01-01T24:00:00Z'],
        ['until', '2026-01-01T24:00Z'],
        ['since', '2026-01-01T24:00:00.000%2B01:00'],
        ['until', '2026-01-01T24:00'],
      ] as const) {
        const error = assertError(
          await api.call('GET', `${url}?${name}=${value}`),
          400,
          'HERALD_ERR_VALIDATION',
          `querystring.${name}`,
        );
        assert.equal(
          error.message,
          `querystring.${name}: has no hour 24 (hours are 00 to 23, as in RFC 3339: midnight is T00:00 of the next day)`,
          `${url}?${name}=${value}`,
        );
      }
      const day = await api.call('GET', `${url}?since=2026-01-01T00:00:00Z&until=2026-01-01T23:59:59.999Z`);
      assert.equal(day.status, 200, JSON.stringify(day.body));
    }
    for (const field of ['since', 'until']) {
      assertError(
        await api.call('POST', `${ep}/recover`, {
          since: '2026-01-01T00:00Z',
          [field]: '2026-01-01T24:00:00Z',
        }),
        400,
        'HERALD_ERR_VALIDATION',
        `body.${field}`,
      );
    }
    // Past 24 Date.parse found no time at all; the words say which part is wrong.
    const error = assertError(
      await api.call('GET', `/api/v1/projects/${p.id}/events?since=2026-01-01T25:00Z`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.since',
    );
    assert.match(error.message, /^querystring\.since: has no hour 25 /);
  });

  test("a time of day without a UTC offset is 400 naming the field, not read in the server's time zone", async () => {
    // Date.parse reads 2026-01-01T10:00 in the server's zone, which the caller cannot know.
    const events = `/api/v1/projects/${p.id}/events`;
    for (const [name, value] of [
      ['since', '2026-01-01T10:00'],
      ['until', '2026-01-01T10:00:00'],
      ['since', '2026-01-01T10:00:00.250'],
    ] as const) {
      const error = assertError(
        await api.call('GET', `${events}?${name}=${value}`),
        400,
        'HERALD_ERR_VALIDATION',
        `querystring.${name}`,
      );
      assert.equal(
        error.message,
        `querystring.${name}: has no UTC offset: end it with Z for UTC or with ±hh:mm (${value}Z), as RFC 3339 asks`,
      );
    }
    assertError(
      await api.call('POST', `${ep}/recover`, { since: '2026-01-01T10:00' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.since',
    );
    // With an offset, in either form, or a date alone (its midnight UTC), the time is taken.
    for (const value of [
      '2026-01-01T10:00Z',
      '2026-01-01T10:00:00%2B01:00',
      '2026-01-01T10:00-0130',
      '2026-01-01',
    ]) {
      const r = await api.call('GET', `${events}?since=${value}`);
      assert.equal(r.status, 200, `${value}: ${JSON.stringify(r.body)}`);
    }
  });
});
