/**
 * An enforced catalog asks whether each event's type is in it, not for the entry: the entry's
 * schema (up to most of a MiB) was read and parsed for every event sent, so a batch of 1,000 events
 * of a type with a 146 KB schema took ~1.2 s instead of ~10 ms, on the thread that answers requests.
 * The real app on a real SQLite store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, startApi, type TestApi } from './helpers.ts';

/** An object schema of `n` string properties (2,000: ~146 KB of JSON). */
function wideSchema(n: number) {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) properties[`field_${i}`] = { type: 'string', description: `field ${i}` };
  return { type: 'object', properties };
}

describe('an enforced catalog with large schemas', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
    const put = await api.call('PUT', '/api/v1/event-types/wide.type', { schema: wideSchema(2_000) });
    assert.equal(put.status, 200, put.text);
  });
  after(() => api.close());

  test('a batch of 1,000 events costs about what it costs without the catalog enforced', async () => {
    const enforced = await api.project('enforced', { enforceCatalog: true });
    const open = await api.project('open');
    const events = Array.from({ length: 1_000 }, (_, i) => ({ type: 'wide.type', payload: { i } }));
    const best: Record<string, number> = { enforced: Infinity, open: Infinity };
    // Alternated, the best of three each: both see the same machine load.
    for (let round = 0; round < 3; round++) {
      for (const [name, project] of [
        ['open', open],
        ['enforced', enforced],
      ] as const) {
        const started = performance.now();
        const r = await api.call('POST', `/api/v1/projects/${project.id}/events/batch`, { events });
        best[name] = Math.min(best[name]!, performance.now() - started);
        assert.equal(r.status, 202, r.text);
      }
    }
    assert.ok(
      best.enforced! < 3 * best.open! + 50,
      `a batch took ${best.enforced!.toFixed(0)} ms with the catalog enforced, ${best.open!.toFixed(0)} ms without`,
    );
  });

  test('each request still sees the catalog as it is: a type missing is refused, once added accepted', async () => {
    const enforced = await api.project('enforced-fresh', { enforceCatalog: true });
    const batch = `/api/v1/projects/${enforced.id}/events/batch`;
    const events = [
      { type: 'wide.type', payload: {} },
      { type: 'later.type', payload: {} },
      { type: 'wide.type', payload: {} },
    ];
    const refused = await api.call('POST', batch, { events });
    assert.match(
      assertError(refused, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.events.1.type').message,
      /not in the event-type catalog/,
    );
    assert.equal((await api.call('PUT', '/api/v1/event-types/later.type', { description: 'd' })).status, 200);
    assert.equal((await api.call('POST', batch, { events })).status, 202);
    const single = `/api/v1/projects/${enforced.id}/events`;
    assertError(
      await api.call('POST', single, { type: 'never.type', payload: {} }),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.type',
    );
  });
});
