/**
 * An empty filter value (`?type=`, `?eventType=`: a client's variable that was never set) is 400
 * naming it, as an empty `?idempotencyKey=` or `?endpoint=` is, rather than the unfiltered list
 * answered as if it were the filtered one (no event has an empty type); so are an empty `?cursor=`
 * (the first page answered as the next one) and an empty time (`?since=`, a recover's or replay's
 * `{"since": ""}`: the whole history). A real server on listen(0) over SQLite, called with fetch.
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

  test('every query parameter of every list (and of stats), given empty, is 400 naming it', async () => {
    const event = (await call('GET', `${project}/events`)).body.data[0].id;
    const routes: [path: string, names: string[]][] = [
      ['/api/v1/projects', ['limit', 'cursor']],
      ['/api/v1/event-types', ['limit', 'cursor']],
      [`${project}/endpoints`, ['limit', 'cursor']],
      [`${project}/events`, ['limit', 'cursor', 'type', 'since', 'until', 'idempotencyKey']],
      [`${project}/events/${event}/deliveries`, ['limit', 'cursor', 'status']],
      [`${project}/events/${event}/attempts`, ['limit', 'cursor']],
      [`${endpoint}/deliveries`, ['limit', 'cursor', 'status']],
      [`${endpoint}/attempts`, ['limit', 'cursor', 'status', 'since', 'until', 'eventType']],
      [`${endpoint}/stats`, ['since', 'until', 'bucket']],
      [`${project}/operational-events`, ['limit', 'cursor', 'type', 'endpoint']],
    ];
    const answered: string[] = [];
    for (const [path, names] of routes) {
      assert.equal((await call('GET', path)).status, 200, path);
      for (const name of names) {
        const r = await call('GET', `${path}?${name}=`);
        if (r.status !== 400 || r.body.error.details?.field !== `querystring.${name}`) {
          answered.push(`${path}?${name}= ${r.status} ${r.text.slice(0, 80)}`);
        }
      }
    }
    assert.deepEqual(answered, []);
    const r = await call('GET', `${project}/events?cursor=`);
    assert.equal(r.body.error.message, 'querystring.cursor: must not be empty');
  });

  test('an empty since or until of a recover or replay is 400 naming it, not the whole history', async () => {
    for (const lever of ['recover', 'replay']) {
      for (const body of [{ since: '' }, { since: 0, until: '' }]) {
        const r = await call('POST', `${endpoint}/${lever}`, body);
        const field = 'until' in body ? 'body.until' : 'body.since';
        assert.equal(r.status, 400, `${lever} ${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.error.details.field, field);
      }
    }
  });
});
