/**
 * GET /api/v1/event-types a page at a time: the catalog's cursors hold names, which may be any text,
 * yet another list's cursor is refused there as on every list, and a cursor from before the
 * catalog's were marked still goes on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('the catalog, a page at a time', () => {
  let api: TestApi;
  let p: Body;
  // Names an id's cursor would start the catalog among: an event's id is one of them.
  const names = ['a.first', 'ep.created', 'evt_', 'evt_zzz', 'order.created', 'z.last'];
  before(async () => {
    api = await startApi();
    p = await api.project('catalog-cursor');
    for (const name of names)
      assert.equal((await api.call('PUT', `/api/v1/event-types/${name}`, {})).status, 200);
  });
  after(() => api.close());

  const page = (query: string) => api.call('GET', `/api/v1/event-types?${query}`);

  test('a walk a name a page lists each name once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const reply = await page(`limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      seen.push(...reply.body.data.map((t: Body) => t.name));
      cursor = reply.body.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, names);
  });

  test("another list's cursor is 400 querystring.cursor, not a place among the names", async () => {
    const P = `/api/v1/projects/${p.id}`;
    await api.call('POST', `${P}/endpoints`, { url: 'https://hooks.example/a' });
    await api.call('POST', `${P}/endpoints`, { url: 'https://hooks.example/b' });
    await api.project('catalog-cursor-2');
    for (let i = 0; i < 2; i++) await api.call('POST', `${P}/events`, { type: 'order.created', payload: {} });
    const endpoint = (await api.call('GET', `${P}/endpoints?limit=1`)).body;
    const events = (await api.call('GET', `${P}/events?limit=1`)).body;
    const waiting = (await api.call('GET', `${P}/endpoints/${endpoint.data[0].id}/deliveries?limit=1`)).body;
    const projects = (await api.call('GET', '/api/v1/projects?limit=1')).body;
    for (const foreign of [endpoint.nextCursor, events.nextCursor, waiting.nextCursor, projects.nextCursor]) {
      assert.ok(foreign, 'each list has a next page');
      assertError(await page(`cursor=${foreign}`), 400, 'HERALD_ERR_VALIDATION', 'querystring.cursor');
    }
  });

  test('a cursor from before the mark (the name alone) still goes on after that name', async () => {
    const old = Buffer.from('evt_', 'utf8').toString('base64url');
    const reply = await page(`cursor=${old}`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(
      reply.body.data.map((t: Body) => t.name),
      ['evt_zzz', 'order.created', 'z.last'],
    );
  });
});
