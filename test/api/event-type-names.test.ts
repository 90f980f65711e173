/**
 * One rule for what an event-type name is: endpoint filters refuse `order.*` (they match names
 * exactly), so the catalog refuses it too, and a project enforcing the catalog refuses events of
 * such a type (one stored in the catalog before this rule included).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, startApi, type TestApi } from './helpers.ts';

describe('event-type names', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  test('the catalog refuses a name holding "*", as endpoint filters do', async () => {
    for (const name of ['order.%2A', '%2A', 'a*b']) {
      const error = assertError(
        await api.call('PUT', `/api/v1/event-types/${name}`, { description: 'x' }),
        400,
        'HERALD_ERR_VALIDATION',
        'params.name',
      );
      assert.match(error.message, /^params\.name: ".*\*.*" is not an event-type name: names hold no "\*"/);
    }
    assertError(await api.call('GET', '/api/v1/event-types/order.%2A'), 404, 'HERALD_ERR_NOT_FOUND');
    assert.equal((await api.call('PUT', '/api/v1/event-types/order.created', {})).status, 200);
    const p = await api.project('filters');
    assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
        url: 'https://a.example/',
        eventTypes: ['order.*'],
      }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.eventTypes.0',
    );
  });

  test('an enforced catalog refuses events whose type holds "*", one stored before the rule included', async () => {
    // As stored before the catalog took the filters' rule.
    await api.store.upsertEventType({ name: 'legacy.*' }, Date.now());
    await api.store.upsertEventType({ name: 'legacy.ok' }, Date.now());
    const p = await api.project('enforcing', { enforceCatalog: true });
    const events = `/api/v1/projects/${p.id}/events`;
    const error = assertError(
      await api.call('POST', events, { type: 'legacy.*', payload: {} }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.type',
    );
    assert.match(error.message, /^body\.type: "legacy\.\*" is not an event-type name/);
    assertError(
      await api.call('POST', `${events}/batch`, {
        events: [
          { type: 'legacy.ok', payload: {} },
          { type: 'legacy.*', payload: {} },
        ],
      }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.events.1.type',
    );
    assert.equal((await api.call('POST', events, { type: 'legacy.ok', payload: {} })).status, 202);
  });
});
