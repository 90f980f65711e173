/**
 * `since` and `until` as RFC 3339 writes them, sent as clients send them. RFC 3339 (§5.6, its
 * note) lets `T` and `Z` be written `t` and `z`; and a `+` offset left unencoded in a URL reaches
 * the server as a space (a query string's `+`), which deserves its own answer rather than "must be
 * an ISO-8601 time". A real server on listen(0) over SQLite, called with fetch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listenForFetch, startApi, type TestApi } from './helpers.ts';

describe('since and until: lower-case t and z, and an unencoded + offset', () => {
  let api: TestApi;
  let call: Awaited<ReturnType<typeof listenForFetch>>['call'];
  let events: string;
  let endpoint: string;
  before(async () => {
    api = await startApi();
    call = (await listenForFetch(api.app)).call;
    const project = (await api.project('offsets')).id;
    events = `/api/v1/projects/${project}/events`;
    const ep = await call('POST', `/api/v1/projects/${project}/endpoints`, { url: 'https://a.example/' });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    endpoint = `/api/v1/projects/${project}/endpoints/${ep.body.id}`;
    for (let i = 0; i < 2; i++) {
      assert.equal((await call('POST', events, { type: 't.x', payload: { i } })).status, 202);
    }
  });
  after(() => api.close());

  test('t and z in lower case are the times they name, in query strings and bodies', async () => {
    const all = await call('GET', `${events}?since=2000-01-01t00:00:00z`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.data.length, 2);
    // The filter applies: a since after them, or an until before them, lists none.
    const later = await call('GET', `${events}?since=2999-01-01t00:00z`);
    assert.equal(later.status, 200, JSON.stringify(later.body));
    assert.deepEqual(later.body.data, []);
    const earlier = await call('GET', `${events}?until=2000-01-01t10:00:00.5-01:00`);
    assert.equal(earlier.status, 200, JSON.stringify(earlier.body));
    assert.deepEqual(earlier.body.data, []);
    const attempts = await call(
      'GET',
      `${endpoint}/attempts?since=2000-01-01t00:00:00z&until=2999-01-01t00:00z`,
    );
    assert.equal(attempts.status, 200, JSON.stringify(attempts.body));
    const stats = await call('GET', `${endpoint}/stats?since=2026-01-01t00:00z&until=2026-01-02t00:00z`);
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.deepEqual(stats.body.data, []);
    // Both ends were read: a range over 90 days is refused as such.
    const long = await call('GET', `${endpoint}/stats?since=2026-01-01t00:00z&until=2026-06-01t00:00z`);
    assert.equal(long.status, 400, JSON.stringify(long.body));
    assert.equal(long.body.error.message, 'querystring.since: must be at most 90 days before until');
    const recover = await call('POST', `${endpoint}/recover`, { since: '2026-01-01t00:00:00z' });
    assert.equal(recover.status, 202, JSON.stringify(recover.body));
    // Lower case does not let through what upper case is refused for.
    const noOffset = await call('GET', `${events}?since=2026-01-01t10:00`);
    assert.equal(noOffset.status, 400, JSON.stringify(noOffset.body));
    assert.equal(noOffset.body.error.details.field, 'querystring.since');
  });

  test('an offset whose + was sent unencoded (read as a space) is 400 saying to write it %2B', async () => {
    for (const [name, value] of [
      ['since', '2026-01-01T10:00:00+01:00'],
      ['until', '2026-01-01T10:00+0530'],
    ] as const) {
      const r = await call('GET', `${events}?${name}=${value}`);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'HERALD_ERR_VALIDATION');
      assert.equal(r.body.error.details.field, `querystring.${name}`);
      assert.equal(
        r.body.error.message,
        `querystring.${name}: has a space before its UTC offset (${value.replace('+', ' ')}): ` +
          `a + left unencoded in a URL's query string reads as a space; write it %2B (${value.replace('+', '%2B')})`,
      );
    }
    // Encoded, the same times are taken; a - offset needs no encoding.
    for (const value of [
      '2026-01-01T10:00:00%2B01:00',
      '2026-01-01T10:00%2B0530',
      '2026-01-01T10:00:00-01:00',
    ]) {
      const r = await call('GET', `${events}?since=${value}`);
      assert.equal(r.status, 200, `${value}: ${JSON.stringify(r.body)}`);
    }
  });
});
