/**
 * One rule for what an event-type name is: endpoint filters refuse `order.*` (they match names
 * exactly), so the catalog refuses it too, and a project enforcing the catalog refuses events of
 * such a type (one stored in the catalog before this rule included).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { ADMIN, assertError, startApi, type TestApi } from './helpers.ts';

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

  test('"." and "..", which no URL can name, are no event-type names: the catalog, events, filters and test sends refuse them', async () => {
    // A WHATWG URL resolves a segment "." or ".." (or "%2E%2E") as a path step, so no client built
    // on one (a browser and the dashboard, fetch, curl) can PUT or GET such an entry. Only a client
    // that sends the path as it is reaches the route (@herald/client, curl --path-as-is): a real server.
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as AddressInfo;
    const raw = (method: string, path: string) =>
      new Promise<{ status: number; body: { error?: { message: string; details: { field: string } } } }>(
        (resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port, path, method, headers: { authorization: `Bearer ${ADMIN}` } },
            (res) => {
              let text = '';
              res.on('data', (chunk) => {
                text += chunk;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
            },
          );
          req.on('error', reject);
          req.end();
        },
      );
    for (const [segment, name] of [
      ['..', '..'],
      ['.', '.'],
      ['%2E%2E', '..'],
      ['.%2e', '..'],
      ['%2E', '.'],
    ]) {
      const answer = await raw('PUT', `/api/v1/event-types/${segment}`);
      assert.equal(answer.status, 400, `${segment}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error?.details.field, 'params.name');
      assert.match(
        answer.body.error?.message ?? '',
        new RegExp(
          `^params\\.name: ${JSON.stringify(name).replaceAll('.', '\\.')} is not an event-type name: `,
        ),
      );
    }
    // Three dots and more are no path step: such names stay names.
    assert.equal((await api.call('PUT', '/api/v1/event-types/...', {})).status, 200);
    const p = await api.project('dots');
    const events = `/api/v1/projects/${p.id}/events`;
    for (const type of ['.', '..']) {
      assertError(
        await api.call('POST', events, { type, payload: {} }),
        400,
        'HERALD_ERR_VALIDATION',
        'body.type',
      );
    }
    assert.equal((await api.call('POST', events, { type: '...', payload: {} })).status, 202);
    const dotFilter = assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
        url: 'https://a.example/',
        eventTypes: ['...', '..'],
      }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.eventTypes.1',
    );
    // Its reason, not a wildcard's (the filter's 400 said "without wildcards" for any name refused).
    assert.match(dotFilter.message, /^body\.eventTypes\.1: "\.\." is not an event-type name: a URL resolves/);
    const all = (
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://all.example/' })
    ).body;
    assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints/${all.id}/test`, { eventType: '..' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.eventType',
    );
    // One stored before the rule (by `herald event-types import`) is still listed and read by name
    // over a path sent as it is, as @herald/client (and so the CLI) sends it; a test send passes it over.
    await api.store.upsertEventType({ name: '..', example: { old: true } }, Date.now());
    const listed = (await api.call('GET', '/api/v1/event-types')).body.data.map(
      (t: { name: string }) => t.name,
    );
    assert.ok(listed.includes('..'), JSON.stringify(listed));
    assert.equal((await raw('GET', '/api/v1/event-types/..')).status, 200);
    const client = new HeraldClient({ url: `http://127.0.0.1:${port}`, token: ADMIN });
    try {
      assert.deepEqual((await client.getEventType('..')).example, { old: true });
    } finally {
      await client.close();
    }
    await api.call('PUT', '/api/v1/event-types/zzzz.dots', { example: { ok: true } });
    const sent = await api.call('POST', `/api/v1/projects/${p.id}/endpoints/${all.id}/test`, {});
    assert.equal(sent.body.eventType, 'zzzz.dots', JSON.stringify(sent.body));
  });

  test('the catalog pages past names of 200 characters, however many bytes each takes', async () => {
    // A cursor holds the last name of its page, in base64url: 200 characters of CJK are 600 bytes of
    // UTF-8, 800 characters of cursor; 200 emoji (a character each, as names are counted) are 800
    // bytes, 1,068 characters of cursor. Stored as `herald event-types import` does.
    const long = [`${'日'.repeat(199)}a`, '日'.repeat(200), '😀'.repeat(100), '😀'.repeat(200), '😁'];
    for (const name of long) await api.store.upsertEventType({ name }, Date.now());
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.call('GET', `/api/v1/event-types?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      names.push(...page.body.data.map((t: { name: string }) => t.name));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    for (const name of long)
      assert.equal(names.filter((n) => n === name).length, 1, `${name.slice(0, 3)}… listed once`);
  });

  test('a name of 200 characters outside ASCII is written and read by name; a segment over 200 characters is 414', async () => {
    // 200 CJK characters: 1,800 characters percent-encoded, where the router used to stop at 200.
    const name = '玩'.repeat(200);
    const path = `/api/v1/event-types/${encodeURIComponent(name)}`;
    assert.equal((await api.call('PUT', path, { description: 'long' })).status, 200);
    const read = await api.call('GET', path);
    assert.equal(read.status, 200);
    assert.equal(read.body.name, name);
    for (const tooLong of [encodeURIComponent('玩'.repeat(201)), 'a'.repeat(201), 'a'.repeat(2000)]) {
      assertError(await api.call('GET', `/api/v1/event-types/${tooLong}`), 414, 'HERALD_ERR_URI_TOO_LONG');
    }
    const p = await api.project('segments');
    assertError(
      await api.call('GET', `/api/v1/projects/${p.id}/endpoints/${'e'.repeat(201)}`),
      414,
      'HERALD_ERR_URI_TOO_LONG',
    );
  });

  test('a segment counts characters, not UTF-16 units: a type of 200 emoji, taken as an event type, is read by name', async () => {
    // An emoji is one character (a body's maxLength counts so) and two UTF-16 units: the router
    // counted units, so 101 to 200 of them were 414 in a path and nowhere else.
    const p = await api.project('emoji-types');
    const key = await api.apiKey(p.id);
    const name = '😀'.repeat(200);
    const sent = await api.call(
      'POST',
      `/api/v1/projects/${p.id}/events`,
      { type: name, payload: {} },
      { token: key },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const path = `/api/v1/event-types/${encodeURIComponent(name)}`;
    assert.equal((await api.call('PUT', path, { description: 'emoji' })).status, 200);
    const read = await api.call('GET', path);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.name, name);
    // The dashboard's paths are one wildcard, no segment: a deep link holding a long name is no 414.
    const deepLink = await api.app.inject({ url: `/ui/catalog/${encodeURIComponent(name)}` });
    assert.equal(deepLink.statusCode, (await api.app.inject({ url: '/ui/catalog' })).statusCode);
    for (const tooLong of ['😀'.repeat(201), `${'😀'.repeat(200)}a`, 'a'.repeat(300)]) {
      assertError(
        await api.call('GET', `/api/v1/event-types/${encodeURIComponent(tooLong)}`),
        414,
        'HERALD_ERR_URI_TOO_LONG',
      );
      assertError(
        await api.call('GET', `/api/v1/projects/${encodeURIComponent(tooLong)}/events`, undefined, {
          token: key,
        }),
        414,
        'HERALD_ERR_URI_TOO_LONG',
      );
    }
  });

  test('an enforced catalog refusing a name that only looks like one it has says so: NFC and NFD, invisible characters', async () => {
    // Names are compared exactly (code point for code point); a 422 quoting a name the catalog
    // lists, as far as anyone can see, says nothing about why.
    const nfc = 'caf\u00e9.paid';
    assert.equal((await api.call('PUT', `/api/v1/event-types/${encodeURIComponent(nfc)}`, {})).status, 200);
    assert.equal((await api.call('PUT', '/api/v1/event-types/order.shipped', {})).status, 200);
    const p = await api.project('look-alikes', { enforceCatalog: true });
    const events = `/api/v1/projects/${p.id}/events`;
    const refused = async (type: string) =>
      assertError(
        await api.call('POST', events, { type, payload: {} }),
        422,
        'HERALD_ERR_UNPROCESSABLE',
        'body.type',
      ).message;
    assert.match(await refused('cafe\u0301.paid'), /the catalog has "café\.paid", which looks the same.*NFC/);
    assert.match(await refused('order.shipped\u200b'), /the catalog has "order\.shipped".*U\+200B/);
    assert.doesNotMatch(await refused('order.unknown'), /looks the same/);
    const batch = assertError(
      await api.call('POST', `${events}/batch`, {
        events: [
          { type: nfc, payload: {} },
          { type: 'cafe\u0301.paid', payload: {} },
        ],
      }),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.events.1.type',
    );
    assert.match(batch.message, /looks the same/);
    const filter = assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
        url: 'https://h.example/x',
        eventTypes: ['order.shipped', '\u200forder.shipped'],
      }),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.eventTypes.1',
    );
    assert.match(filter.message, /the catalog has "order\.shipped".*U\+200F/);
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

  test('every project refuses events whose type holds "*", enforcing its catalog or not', async () => {
    // Such an event reached only the endpoints that take every type: no filter may name it.
    const p = await api.project('open');
    await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://all.example/' });
    const events = `/api/v1/projects/${p.id}/events`;
    for (const type of ['order.*', '*']) {
      const error = assertError(
        await api.call('POST', events, { type, payload: {} }),
        400,
        'HERALD_ERR_VALIDATION',
        'body.type',
      );
      assert.equal(
        error.message,
        `body.type: ${JSON.stringify(type)} is not an event-type name: names hold no "*" (filters match them exactly, without wildcards)`,
      );
    }
    const batch = assertError(
      await api.call('POST', `${events}/batch`, {
        events: [
          { type: 'order.created', payload: {} },
          { type: 'order.paid', payload: {} },
          { type: 'order.*', payload: {} },
        ],
      }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.events.2.type',
    );
    assert.match(
      batch.message,
      /^body\.events\.2\.type: "order\.\*" is not an event-type name: names hold no "\*"/,
    );
    // Nothing of the refused batch was stored.
    assert.deepEqual((await api.call('GET', events)).body.data, []);
    assert.equal((await api.call('POST', events, { type: 'order.created', payload: {} })).status, 202);
  });

  test('a test send does not send a type holding "*": asked for, 400 naming body.eventType; stored before the rule, passed over', async () => {
    const p = await api.project('test-sends');
    await api.store.upsertEventType({ name: 'aaa.*', example: { old: true } }, Date.now());
    const all = (
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://all.example/' })
    ).body;
    const error = assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints/${all.id}/test`, { eventType: 'aaa.*' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.eventType',
    );
    assert.match(error.message, /^body\.eventType: "aaa\.\*" is not an event-type name: names hold no "\*"/);
    // Unasked, the first catalog entry with an example that is a name: not "aaa.*", which sorts first.
    await api.call('PUT', '/api/v1/event-types/zzz.ok', { example: { ok: true } });
    const sent = await api.call('POST', `/api/v1/projects/${p.id}/endpoints/${all.id}/test`, {});
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.eventType, 'zzz.ok');
    // A filter entry holding "*" stored before filters refused it is passed over, and said so.
    const filtered = (
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://f.example/' })
    ).body;
    await api.store.updateEndpoint(p.id, filtered.id, { eventTypes: ['aaa.*'] }, Date.now());
    const none = assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/endpoints/${filtered.id}/test`, {}),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.eventType',
    );
    assert.match(none.message, /not event-type names \(holding "\*", or "\." or "\.\."\): "aaa\.\*"/);
  });
});
