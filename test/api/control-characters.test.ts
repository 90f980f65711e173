/**
 * Names refuse control characters (C0 U+0000-U+001F, DEL and C1 U+007F-U+009F: a newline or an
 * ESC sequence forges log lines and repaints terminals) and whitespace alone; descriptions refuse
 * them too but for line feeds and tabs. Each is 400 naming the field. Names stored before the rule
 * are still read. A real server on listen(0) over SQLite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Body, listenForFetch, startApi, type TestApi } from './helpers.ts';

const BAD_NAMES = [
  'player.x\u001b[31mRED\u001b[0m',
  'a\nb',
  '\n',
  'a\u0001',
  '\u0007',
  'tab\there',
  'cr\rhere',
  'del\u007f',
  'c1\u0085',
  'csi\u009b31m',
  '   ',
  '\u00a0\u2003',
];
const GOOD_NAMES = [
  'Guild \u2694\ufe0f caf\u00e9',
  ' padded ',
  'slot.submitted',
  'PurchasePlayerPurchase',
  '\u00a0x',
];

describe('control characters in names and descriptions', () => {
  let api: TestApi;
  let call: Awaited<ReturnType<typeof listenForFetch>>['call'];
  let projectId: string;
  let endpointId: string;
  before(async () => {
    api = await startApi({}, {});
    call = (await listenForFetch(api.app)).call;
    projectId = (await api.project('ctl')).id;
    const ep = await call('POST', `/api/v1/projects/${projectId}/endpoints`, { url: 'https://a.example/' });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    endpointId = ep.body.id;
  });
  after(() => api.close());

  function refused(r: { status: number; body: Body }, field: string, what: string) {
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'HERALD_ERR_VALIDATION', what);
    assert.equal(r.body.error.details.field, field, what);
  }

  test("an event's type: 400 naming body.type (body.events.N.type in a batch), nothing stored", async () => {
    const events = `/api/v1/projects/${projectId}/events`;
    for (const type of BAD_NAMES) {
      refused(await call('POST', events, { type, payload: {} }), 'body.type', JSON.stringify(type));
      refused(
        await call('POST', `${events}/batch`, {
          events: [
            { type: 'ok', payload: {} },
            { type, payload: {} },
          ],
        }),
        'body.events.1.type',
        JSON.stringify(type),
      );
    }
    for (const type of GOOD_NAMES) {
      const r = await call('POST', events, { type, payload: {} });
      assert.equal(r.status, 202, `${JSON.stringify(type)}: ${JSON.stringify(r.body)}`);
    }
    const stored = (await api.store.listEvents(projectId, { limit: 1000, cursor: null })).data.map(
      (e) => e.type,
    );
    assert.deepEqual(stored.sort(), [...GOOD_NAMES].sort());
  });

  test('project, API key and endpoint names: 400 naming body.name, on create and on PATCH', async () => {
    for (const name of BAD_NAMES) {
      const what = JSON.stringify(name);
      refused(await call('POST', '/api/v1/projects', { name }), 'body.name', what);
      refused(await call('PATCH', `/api/v1/projects/${projectId}`, { name }), 'body.name', what);
      refused(await call('POST', `/api/v1/projects/${projectId}/api-keys`, { name }), 'body.name', what);
      refused(
        await call('POST', `/api/v1/projects/${projectId}/endpoints`, { url: 'https://a.example/', name }),
        'body.name',
        what,
      );
      refused(
        await call('PATCH', `/api/v1/projects/${projectId}/endpoints/${endpointId}`, { name }),
        'body.name',
        what,
      );
      refused(
        await call('POST', `/api/v1/projects/${projectId}/endpoints`, {
          url: 'https://a.example/',
          eventTypes: [name],
        }),
        'body.eventTypes.0',
        what,
      );
    }
    for (const name of GOOD_NAMES) {
      assert.equal((await call('POST', '/api/v1/projects', { name })).status, 201, name);
      assert.equal(
        (await call('PATCH', `/api/v1/projects/${projectId}/endpoints/${endpointId}`, { name })).status,
        200,
      );
    }
    // An endpoint may still have no name.
    assert.equal(
      (await call('PATCH', `/api/v1/projects/${projectId}/endpoints/${endpointId}`, { name: '' })).status,
      200,
    );
  });

  test('descriptions: line feeds and tabs are kept, other control characters are 400 naming body.description', async () => {
    const ep = `/api/v1/projects/${projectId}/endpoints/${endpointId}`;
    for (const description of ['a\u0007', 'clear\u001b[2J', 'nul\u0000', 'cr\r\n', 'c1\u0085', '\u007f']) {
      refused(await call('PATCH', ep, { description }), 'body.description', JSON.stringify(description));
      refused(
        await call('PUT', '/api/v1/event-types/desc.test', { description }),
        'body.description',
        JSON.stringify(description),
      );
    }
    const description = 'line one\nline two\n\tindented, caf\u00e9';
    const r = await call('PATCH', ep, { description });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.description, description);
    assert.equal((await call('PUT', '/api/v1/event-types/desc.test', { description })).status, 200);
    assert.equal((await call('PATCH', ep, { description: '' })).status, 200);
  });

  test('the catalog: PUT of a name with control characters or only spaces is 400 naming params.name; names stored before are still read', async () => {
    for (const name of ['a\nb', 'x\u001b[31m', '\u0085', '   ']) {
      refused(
        await call('PUT', `/api/v1/event-types/${encodeURIComponent(name)}`, {}),
        'params.name',
        JSON.stringify(name),
      );
    }
    assert.equal(
      (await call('PUT', `/api/v1/event-types/${encodeURIComponent('caf\u00e9 ok')}`, {})).status,
      200,
    );
    // Stored before the rule (straight into the store): read, listed and updated as before.
    const old = 'legacy\u001b[0m.type';
    await api.store.upsertEventType({ name: old, description: 'from before' }, Date.now());
    const got = await call('GET', `/api/v1/event-types/${encodeURIComponent(old)}`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.name, old);
    const oldProject = await api.store.createProject({ name: 'old\nname' }, Date.now());
    const read = await call('GET', `/api/v1/projects/${oldProject.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.name, 'old\nname');
  });
});
