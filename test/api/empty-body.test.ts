/**
 * `Content-Type: application/json` with an empty body, as many HTTP clients send on a POST without
 * data, is no body: the levers whose body is optional take it, and routes that need a body answer
 * 400 naming `body`, the same as with no body at all.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { attemptRecord } from '../store/helpers.ts';
import { ADMIN, assertError, type Body, startApi, type TestApi } from './helpers.ts';
import { isApiRoute, type RoutedApi, startRoutedApi } from './route-table.ts';

const EMPTY = { raw: '' };

describe('an empty JSON body is no body', () => {
  let api: TestApi;
  let p: Body;
  let EP: string;

  before(async () => {
    api = await startApi();
    p = await api.project('empty-body');
    EP = `/api/v1/projects/${p.id}/endpoints`;
    await api.call('PUT', '/api/v1/event-types/empty.t', { example: { n: 1 } });
  });
  after(() => api.close());

  test('the levers take it: enable, rotate, test send, retry, portal link, delete', async () => {
    const e = (await api.call('POST', EP, { url: 'https://h.example/e', eventTypes: ['empty.t'] })).body;

    const enabled = await api.call('POST', `${EP}/${e.id}/enable`, undefined, EMPTY);
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
    assert.equal(enabled.body.resumed, 0);

    const rotated = await api.call('POST', `${EP}/${e.id}/secret/rotate`, undefined, EMPTY);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.secret, e.secret);
    // The default grace (24 h) applies, as with no body.
    const old = rotated.body.secrets.find((s: Body) => s.secret === e.secret);
    assert.ok(Date.parse(old.expiresAt) - Date.now() > 86_000_000);

    const sent = await api.call('POST', `${EP}/${e.id}/test`, undefined, EMPTY);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.eventType, 'empty.t');

    // A failed delivery, retried with an empty body.
    const found = (await api.store.getEvent(p.id, sent.body.eventId))!;
    const [delivery] = found.deliveries;
    await api.store.recordAttempts(
      [
        attemptRecord(delivery!, found.event, {
          outcome: 'failed',
          status: 'failed',
          nextAttemptAt: null,
          startedAt: Date.now(),
        }),
      ],
      { now: Date.now(), failureThreshold: 100 },
    );
    const retried = await api.call(
      'POST',
      `/api/v1/projects/${p.id}/deliveries/${delivery!.id}/retry`,
      undefined,
      EMPTY,
    );
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'pending');

    const link = await api.call('POST', `/api/v1/projects/${p.id}/portal-links`, undefined, EMPTY);
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const lifetime = Date.parse(link.body.expiresAt) - Date.now();
    // Rounded up to the second: at least the hour, less than a second over.
    assert.ok(lifetime > 3_500_000 && lifetime <= 3_601_000, String(lifetime));

    const key = (await api.call('POST', `/api/v1/projects/${p.id}/api-keys`, { name: 'k' })).body;
    const keyGone = await api.call('DELETE', `/api/v1/projects/${p.id}/api-keys/${key.id}`, undefined, EMPTY);
    assert.equal(keyGone.status, 204, JSON.stringify(keyGone.body));
    assert.equal((await api.call('DELETE', `${EP}/${e.id}`, undefined, EMPTY)).status, 204);
  });

  test('a route that needs a body answers 400 naming body, saying what it must hold', async () => {
    const e = (await api.call('POST', EP, { url: 'https://h.example/r' })).body;
    const cases: [string, string, string][] = [
      ['POST', '/api/v1/projects', 'name'],
      ['POST', `/api/v1/projects/${p.id}/api-keys`, 'name'],
      ['POST', EP, 'url'],
      ['POST', `${EP}/${e.id}/recover`, 'since'],
      ['POST', `${EP}/${e.id}/replay`, 'since'],
      ['POST', `/api/v1/projects/${p.id}/events`, 'type, payload'],
      ['POST', `/api/v1/projects/${p.id}/events/batch`, 'events'],
    ];
    for (const [method, url, fields] of cases) {
      const message = `body: is required: send a JSON object${fields ? ` with ${fields}` : ''}`;
      for (const options of [EMPTY, {}]) {
        const error = assertError(
          await api.call(method, url, undefined, options),
          400,
          'HERALD_ERR_VALIDATION',
          'body',
        );
        assert.equal(error.message, message, `${method} ${url}`);
      }
    }
    // A JSON null is a body, of the wrong type.
    assertError(await api.call('POST', EP, null), 400, 'HERALD_ERR_VALIDATION', 'body');
    // Nothing was made by any of them.
    assert.equal((await api.call('GET', `/api/v1/projects/${p.id}/events`)).body.data.length, 1);
  });

  test('a route whose body fields are all optional takes none as {}: PUT of an event type, every PATCH', async () => {
    // Before 2026-12-06 these three answered 400 `body: is required` (while `{}` worked), unlike
    // rotate, test send and portal links, whose fields are all optional too.
    const e = (await api.call('POST', EP, { url: 'https://h.example/o', name: 'kept' })).body;
    for (const options of [EMPTY, {}]) {
      const name = options === EMPTY ? 'empty.none' : 'empty.absent';
      const created = await api.call('PUT', `/api/v1/event-types/${name}`, undefined, options);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.name, name);
      assert.equal(created.body.description, '');
      // Again, on the stored one: a field left out keeps its value, as with {}.
      const kept = await api.call('PUT', '/api/v1/event-types/empty.t', undefined, options);
      assert.equal(kept.status, 200, JSON.stringify(kept.body));
      assert.deepEqual(kept.body.example, { n: 1 });

      const project = await api.call('PATCH', `/api/v1/projects/${p.id}`, undefined, options);
      assert.equal(project.status, 200, JSON.stringify(project.body));
      assert.equal(project.body.name, 'empty-body');
      const endpoint = await api.call('PATCH', `${EP}/${e.id}`, undefined, options);
      assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
      assert.equal(endpoint.body.name, 'kept');
      assert.equal(endpoint.body.url, 'https://h.example/o');
    }
  });

  test('the JSON parser is otherwise unchanged: malformed JSON, the body limit, exact numbers', async () => {
    assertError(
      await api.call('POST', `${EP}/ep_x/enable`, undefined, { raw: ' ' }),
      400,
      'HERALD_ERR_MALFORMED_JSON',
    );
    assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/events`, undefined, { raw: '{"type":' }),
      400,
      'HERALD_ERR_MALFORMED_JSON',
    );
    const big = { type: 'empty.t', payload: 'x'.repeat(api.config.maxBodyBytes) };
    assertError(
      await api.call('POST', `/api/v1/projects/${p.id}/events`, big),
      413,
      'HERALD_ERR_BODY_TOO_LARGE',
      'body',
    );
    const exact = await api.call('POST', `/api/v1/projects/${p.id}/events`, undefined, {
      raw: '{"type": "empty.t", "payload": {"id": 9007199254740993}}',
    });
    assert.equal(exact.status, 202);
    const read = await api.app.inject({
      method: 'GET',
      url: `/api/v1/projects/${p.id}/events/${exact.body.id}`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.match(read.body, /"id":9007199254740993/);
  });
});

describe('every route answers an empty JSON body as it answers no body', () => {
  let api: RoutedApi;
  before(async () => {
    api = await startRoutedApi();
  });
  after(() => api.close());

  test('same status and code; never HERALD_ERR_MALFORMED_JSON', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const routes = api.routes.filter((r) => isApiRoute(r) && !['GET', 'HEAD'].includes(r.method));
    assert.ok(routes.length >= 15, String(routes.length));
    for (const route of routes) {
      // A project of its own for each request (one may delete it); every other id does not exist.
      const call = async (headers: Record<string, string>, payload?: string) => {
        const project = await api.inject({
          method: 'POST',
          url: '/api/v1/projects',
          headers: { ...admin, 'content-type': 'application/json' },
          payload: JSON.stringify({ name: 'every-route' }),
        });
        const url = route.url.replace(/:([A-Za-z]+)/g, (_, name) =>
          name === 'project' ? project.json.id : 'x_none',
        );
        return api.inject({
          method: route.method,
          url,
          headers: { ...admin, ...headers },
          ...(payload === undefined ? {} : { payload }),
        });
      };
      const none = await call({});
      const empty = await call({ 'content-type': 'application/json' }, '');
      const what = `${route.method} ${route.url}: ${empty.text}`;
      assert.notEqual(empty.json?.error?.code, 'HERALD_ERR_MALFORMED_JSON', what);
      assert.equal(empty.status, none.status, what);
      assert.equal(empty.json?.error?.code, none.json?.error?.code, what);
      assert.equal(empty.json?.error?.details?.field, none.json?.error?.details?.field, what);
    }
  });

  test('the OpenAPI document says a body is required exactly where no body is refused', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const doc = (await api.inject({ method: 'GET', url: '/openapi.json' })).json;
    // The per-route tag is gone (x-herald-key-scopes, which says which API keys may call an
    // operation, is meant to stay: src/api/openapi/key-scopes.ts).
    assert.doesNotMatch(JSON.stringify(doc), /x-herald-optional-body/);
    const project = await api.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'bodies' }),
    });
    const withBody = api.routes.filter((r) => isApiRoute(r) && r.body !== undefined);
    assert.ok(withBody.length >= 10, String(withBody.length));
    let optional = 0;
    for (const route of withBody) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const documented = doc.paths[path][route.method.toLowerCase()].requestBody?.required;
      const url = route.url.replace(/:([A-Za-z]+)/g, (_, name) =>
        name === 'project' ? project.json.id : 'x_none',
      );
      const none = await api.inject({ method: route.method, url, headers: admin });
      const refused = none.status === 400 && none.json?.error?.details?.field === 'body';
      assert.equal(documented, refused, `${route.method} ${route.url}: ${none.status} ${none.text}`);
      if (!refused) optional++;
    }
    assert.ok(optional >= 3, 'rotate, test send and portal links take no body');
  });
});

/** A request over a real socket; `chunked`: an empty chunked body instead of Content-Length: 0. */
function send(port: number, method: string, path: string, chunked: boolean) {
  return new Promise<{ status: number; body: Body }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          authorization: `Bearer ${ADMIN}`,
          'content-type': 'application/json',
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': '0' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('over HTTP (listen(0)): Content-Length: 0 and an empty chunked body are no body', async () => {
  const api = await startApi();
  try {
    const p = await api.project('empty-http');
    const e = (await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://h.example/h' }))
      .body;
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    const EP = `/api/v1/projects/${p.id}/endpoints/${e.id}`;
    for (const chunked of [false, true]) {
      const enabled = await send(port, 'POST', `${EP}/enable`, chunked);
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.equal(enabled.body.resumed, 0);
      const rotated = await send(port, 'POST', `${EP}/secret/rotate`, chunked);
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const recover = await send(port, 'POST', `${EP}/recover`, chunked);
      assert.equal(recover.status, 400, JSON.stringify(recover.body));
      assert.equal(recover.body.error.details.field, 'body');
    }
  } finally {
    await api.close();
  }
});
