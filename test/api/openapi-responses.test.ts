/**
 * The OpenAPI document describes what the API really answers. A real Herald app on a loopback port
 * (real SQLite store, a real dispatcher delivering to loopback receivers so that attempts exist) is
 * called on every route of the route table; each answer, success or error, is checked with Ajv
 * against the schema the document gives for that operation and status, extra fields included
 * (openapi-validator.ts). Every route must be documented and answered with a documented 2xx.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDispatcher, type Dispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender, type Sender } from '../../src/delivery/sender.ts';
import { type Receiver, sequence, startReceiver } from '../delivery/receiver.ts';
import { ADMIN, type Body } from './helpers.ts';
import { type Answer, type OpenApiValidator, openApiValidator } from './openapi-validator.ts';
import { type RoutedApi, startRoutedApi } from './route-table.ts';

/** Routes that are not API operations, and not in the document. */
const UNDOCUMENTED = [/^\/docs(\/.*)?$/, /^\/openapi\.json$/, /^\/ui(\/\*)?$/];
/** `:param` → `{param}`, as the document writes paths. */
const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

interface CallOptions {
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** Sent as is, with `contentType`. */
  raw?: string;
  contentType?: string;
  /** Bearer token; null: none. Default: the admin token. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** Calls `method path` (a document path) and checks the answer against the document. */
function caller(base: () => string, validator: () => OpenApiValidator, answered: Map<string, Set<number>>) {
  return async (method: string, path: string, expect: number, o: CallOptions = {}): Promise<Body> => {
    let url = path.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
      const value = o.params?.[name];
      assert.ok(value !== undefined, `no value for {${name}} of ${path}`);
      return encodeURIComponent(value);
    });
    if (o.query) url += `?${o.query}`;
    const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const token = o.token === undefined ? ADMIN : o.token;
    const response = await fetch(base() + url, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(payload === undefined ? {} : { 'content-type': o.contentType ?? 'application/json' }),
        ...o.headers,
      },
      ...(payload === undefined ? {} : { body: payload }),
    });
    const answer: Answer = {
      status: response.status,
      contentType: response.headers.get('content-type'),
      text: await response.text(),
    };
    assert.equal(answer.status, expect, `${method} ${url}: ${answer.text.slice(0, 500)}`);
    validator().check(method, path, answer);
    const key = `${method.toLowerCase()} ${path}`;
    if (!answered.has(key)) answered.set(key, new Set());
    answered.get(key)!.add(answer.status);
    return answer.contentType?.startsWith('application/json') ? JSON.parse(answer.text) : answer.text;
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the OpenAPI document describes every answer', () => {
  let api: RoutedApi;
  let base = '';
  // biome-ignore lint/suspicious/noExplicitAny: the document is read loosely
  let doc: any;
  let validator: OpenApiValidator;
  let ok: Receiver;
  let failing: Receiver;
  let sender: Sender;
  let dispatcher: Dispatcher | null = null;
  const answered = new Map<string, Set<number>>();
  const call = caller(
    () => base,
    () => validator,
    answered,
  );

  before(async () => {
    api = await startRoutedApi(
      { maxBodyBytes: 64 * 1024 },
      {
        env: { HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
        metrics: {
          contentType: 'text/plain; version=0.0.4; charset=utf-8',
          render: async () => 'herald_up 1\n',
        },
      },
    );
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    base = `http://127.0.0.1:${port}`;
    const r = await fetch(`${base}/openapi.json`);
    assert.equal(r.status, 200);
    doc = await r.json();
    validator = openApiValidator(doc);
    ok = await startReceiver();
    failing = await startReceiver(sequence({ status: 500, body: 'nope' }));
    sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  });

  after(async () => {
    await dispatcher?.stop({ graceMs: 1_000 });
    await sender?.close();
    await ok?.close();
    await failing?.close();
    await api?.close();
  });

  test('no route gives Fastify a response schema: bodies are serialized as the handlers write them', () => {
    for (const route of api.routes) assert.equal(route.response, undefined, `${route.method} ${route.url}`);
  });

  test('every route, its success and its errors, answers as documented', async () => {
    // Health, readiness, metrics.
    await call('GET', '/healthz', 200, { token: null });
    await call('GET', '/readyz', 200, { token: null });
    api.app.setReady(false);
    await call('GET', '/readyz', 503, { token: null });
    api.app.setReady(true);
    await call('GET', '/metrics', 200, { token: null });

    // The catalog.
    const example = { playerId: 1820283, productId: 311 };
    await call('PUT', '/api/v1/event-types/{name}', 200, {
      params: { name: 'PurchasePlayerPurchase' },
      body: { description: 'A purchase', schema: { type: 'object' }, example },
    });
    await call('PUT', '/api/v1/event-types/{name}', 200, { params: { name: 'bare' }, body: {} });
    // An example its schema does not take (422 body.example), and a schema the stored example does
    // not match (422 body.schema): docs/api.md "PUT /api/v1/event-types/:name".
    await call('PUT', '/api/v1/event-types/{name}', 422, {
      params: { name: 'typed' },
      body: {
        schema: { type: 'object', properties: { amount: { type: 'number' } } },
        example: { amount: 'x' },
      },
    });
    await call('PUT', '/api/v1/event-types/{name}', 422, {
      params: { name: 'PurchasePlayerPurchase' },
      body: { schema: { type: 'array' } },
    });
    await call('GET', '/api/v1/event-types', 200);
    await call('GET', '/api/v1/event-types/{name}', 200, { params: { name: 'PurchasePlayerPurchase' } });
    await call('GET', '/api/v1/event-types/{name}', 404, { params: { name: 'nope' } });
    await call('GET', '/api/v1/installation', 200);
    await call('GET', '/api/v1/installation', 401, { token: null });

    // Projects and keys.
    const project = await call('POST', '/api/v1/projects', 201, {
      body: { name: 'Space Raiders', uid: 'space-raiders' },
    });
    const p = { project: project.id as string };
    await call('POST', '/api/v1/projects', 409, { body: { name: 'again', uid: 'space-raiders' } });
    await call('POST', '/api/v1/projects', 400, { body: { name: 5 } });
    await call('POST', '/api/v1/projects', 400, { raw: '{"name":', contentType: 'application/json' });
    await call('POST', '/api/v1/projects', 415, { raw: 'name=x', contentType: 'text/plain' });
    await call('GET', '/api/v1/projects', 200);
    await call('GET', '/api/v1/projects', 400, { query: 'limit=0' });
    await call('GET', '/api/v1/projects/{project}', 200, { params: p });
    await call('GET', '/api/v1/projects/{project}', 401, { params: p, token: null });
    await call('GET', '/api/v1/projects/{project}', 401, { params: p, token: 'hk_not-a-key' });
    await call('GET', '/api/v1/projects/{project}', 404, { params: { project: 'prj_nope' } });
    await call('PATCH', '/api/v1/projects/{project}', 200, {
      params: p,
      body: { retrySchedule: [10, 60], enforceCatalog: false },
    });
    const key = (
      await call('POST', '/api/v1/projects/{project}/api-keys', 201, { params: p, body: { name: 'b' } })
    ).key as string;
    await call('GET', '/api/v1/projects/{project}/api-keys', 200, { params: p });
    await call('POST', '/api/v1/projects', 403, { token: key, body: { name: 'mine' } });
    // A project's own backlog limit: the admin's, an integer or null in the answer.
    await call('PATCH', '/api/v1/projects/{project}', 200, { params: p, body: { backlogLimit: 5000 } });
    await call('PATCH', '/api/v1/projects/{project}', 403, {
      params: p,
      token: key,
      body: { backlogLimit: 1 },
    });
    await call('GET', '/api/v1/projects/{project}', 200, { params: p, token: key });
    await call('PATCH', '/api/v1/projects/{project}', 400, { params: p, body: { backlogLimit: -1 } });
    await call('PATCH', '/api/v1/projects/{project}', 200, { params: p, body: { backlogLimit: null } });
    const spare = await call('POST', '/api/v1/projects/{project}/api-keys', 201, {
      params: p,
      body: { name: 's' },
    });
    await call('DELETE', '/api/v1/projects/{project}/api-keys/{key}', 204, {
      params: { ...p, key: spare.id },
    });
    await call('DELETE', '/api/v1/projects/{project}/api-keys/{key}', 404, {
      params: { ...p, key: spare.id },
    });
    const link = await call('POST', '/api/v1/projects/{project}/portal-links', 201, {
      params: p,
      body: { expiresIn: 600 },
    });
    await call('POST', '/api/v1/projects/{project}/portal-links', 403, { params: p, token: link.token });
    await call('POST', '/api/v1/projects/{project}/portal-links', 400, { params: p, body: { expiresIn: 0 } });
    await call('GET', '/api/v1/projects/{project}/api-keys', 403, { params: p, token: link.token });

    // Endpoints: one that answers 200, one 500, one that refuses connections; no retries.
    const EP = '/api/v1/projects/{project}/endpoints';
    const good = await call('POST', EP, 201, {
      params: p,
      body: {
        url: ok.url,
        name: 'game',
        eventTypes: ['PurchasePlayerPurchase'],
        headers: { 'X-Env': 'prod' },
        rateLimit: { perSecond: 100 },
        signature: { scheme: 'hmac-sha256', signatureHeader: 'X-WPG-Signature' },
      },
    });
    const bad = await call('POST', EP, 201, { params: p, body: { url: failing.url, retrySchedule: [] } });
    const deadUrl = `http://127.0.0.1:${await closedPort()}/hook`;
    const dead = await call('POST', EP, 201, {
      params: p,
      body: { url: deadUrl, retrySchedule: [], dev: true },
    });
    await call('POST', EP, 422, {
      params: p,
      body: { url: ok.url, method: 'GET', signature: { scheme: 'sha256-body' } },
    });
    await call('POST', EP, 400, { params: p, body: { url: 'ftp://example.com' } });
    await call('GET', EP, 200, { params: p });
    const e = (endpoint: Body) => ({ ...p, endpoint: endpoint.id as string });
    await call('GET', `${EP}/{endpoint}`, 200, { params: e(good) });
    await call('GET', `${EP}/{endpoint}`, 404, { params: { ...p, endpoint: 'ep_nope' } });
    await call('GET', `${EP}/{endpoint}/secret`, 200, { params: e(good) });
    const rotated = await call('POST', `${EP}/{endpoint}/secret/rotate`, 200, {
      params: e(good),
      body: { graceSeconds: 60 },
    });
    await call('POST', `${EP}/{endpoint}/secret/rotate`, 409, {
      params: e(good),
      body: { secret: rotated.secret },
    });
    await call('PATCH', `${EP}/{endpoint}`, 200, { params: e(good), body: { description: 'the game' } });

    // Events: one with a 64-bit id kept exactly, a replay, a batch, a test event.
    const EV = '/api/v1/projects/{project}/events';
    const sent = await call('POST', EV, 202, {
      params: p,
      raw: '{"type":"PurchasePlayerPurchase","payload":{"playerId":9007199254740993,"productId":311}}',
      headers: { 'idempotency-key': 'order-1' },
    });
    assert.equal(sent.deliveries.length, 3);
    await call('POST', EV, 202, {
      params: p,
      body: { type: 'PurchasePlayerPurchase', payload: {} },
      headers: { 'idempotency-key': 'order-1' },
    });
    await call('POST', EV, 202, {
      params: p,
      body: { type: 'other', payload: [1], test: true, callbackUrl: `${ok.url}/callback` },
    });
    await call('POST', `${EV}/batch`, 202, {
      params: p,
      body: {
        events: [
          { type: 'a', payload: null },
          { type: 'b', payload: 'x', idempotencyKey: 'k' },
        ],
      },
    });
    // A repeated key sent with a `send` key: the original's id, type and time, what it may not read withheld.
    const producerKey = (
      await call('POST', '/api/v1/projects/{project}/api-keys', 201, {
        params: p,
        body: { name: 'producer', scope: 'send' },
      })
    ).key as string;
    const repeat = await call('POST', EV, 202, {
      params: p,
      token: producerKey,
      body: { type: 'PurchasePlayerPurchase', payload: {} },
      headers: { 'idempotency-key': 'order-1' },
    });
    assert.deepEqual(repeat.withheld, ['payload', 'callbackUrl', 'callbackEnvelope', 'deliveries']);
    await call('POST', `${EV}/batch`, 202, {
      params: p,
      token: producerKey,
      body: { events: [{ type: 'b', payload: 'x', idempotencyKey: 'k' }] },
    });
    await call('POST', EV, 400, { params: p, body: { type: 'x' } });
    await call('POST', EV, 413, { params: p, body: { type: 'x', payload: 'x'.repeat(70_000) } });
    await call('POST', `${EV}/batch`, 403, { params: p, token: link.token, body: { events: [] } });
    await call('GET', EV, 200, { params: p, query: 'limit=2' });
    await call('GET', EV, 422, { params: p, query: 'since=2026-01-02&until=2026-01-01' });
    await call('GET', `${EV}/{event}`, 200, { params: { ...p, event: sent.id } });
    // ?deliveries=false: the event as the list gives it, without a deliveries field.
    const alone = await call('GET', `${EV}/{event}`, 200, {
      params: { ...p, event: sent.id },
      query: 'deliveries=false',
    });
    assert.equal(alone.deliveries, undefined);
    await call('GET', `${EV}/{event}`, 404, { params: { ...p, event: 'evt_nope' } });

    // Deliver: a success, an HTTP failure with a response, a connection refused without one.
    dispatcher = createDispatcher({
      store: api.store,
      send: sender.send,
      config: { ...api.config.delivery, pollIntervalMs: 20, retryJitter: 0 },
      workerId: 'openapi-test',
    });
    await dispatcher.start();
    const settled = await until('the three deliveries settle', async () => {
      const event = await call('GET', `${EV}/{event}`, 200, { params: { ...p, event: sent.id } });
      return event.deliveries.every((d: Body) => d.status !== 'pending') && event;
    });
    await until('the callback delivery', async () => ok.requests.length >= 2);
    await dispatcher.stop({ graceMs: 2_000 });
    dispatcher = null;
    const outcomes = Object.fromEntries(settled.deliveries.map((d: Body) => [d.endpointId, d.status]));
    assert.deepEqual(outcomes, { [good.id]: 'succeeded', [bad.id]: 'failed', [dead.id]: 'failed' });
    const DLV = '/api/v1/projects/{project}/deliveries/{delivery}';
    for (const delivery of settled.deliveries) {
      assert.deepEqual(await call('GET', DLV, 200, { params: { ...p, delivery: delivery.id } }), delivery);
    }
    await call('GET', DLV, 404, { params: { ...p, delivery: 'dlv_nope' } });
    await call('GET', DLV, 400, { params: { ...p, delivery: 'dlv\u0000' } });
    const EVD = `${EV}/{event}/deliveries`;
    const first = await call('GET', EVD, 200, { params: { ...p, event: sent.id }, query: 'limit=2' });
    const rest = await call('GET', EVD, 200, {
      params: { ...p, event: sent.id },
      query: `limit=2&cursor=${first.nextCursor}`,
    });
    assert.deepEqual([...first.data, ...rest.data], settled.deliveries);
    assert.equal(rest.nextCursor, null);
    await call('GET', EVD, 200, { params: { ...p, event: sent.id }, query: 'status=failed' });
    await call('GET', EVD, 400, { params: { ...p, event: sent.id }, query: 'status=done' });
    await call('GET', EVD, 404, { params: { ...p, event: 'evt_nope' } });

    // History.
    const attempts = await call('GET', `${EV}/{event}/attempts`, 200, { params: { ...p, event: sent.id } });
    assert.equal(attempts.data.length, 3);
    for (const attempt of attempts.data) {
      await call('GET', '/api/v1/projects/{project}/attempts/{attempt}', 200, {
        params: { ...p, attempt: attempt.id },
      });
    }
    assert.ok(attempts.data.some((a: Body) => a.response === null && a.error?.kind === 'connect'));
    assert.ok(attempts.data.some((a: Body) => a.response?.status === 500 && a.error?.kind === 'http_status'));
    await call('GET', '/api/v1/projects/{project}/attempts/{attempt}', 404, {
      params: { ...p, attempt: 'att_nope' },
    });
    for (const endpoint of [good, bad, dead]) {
      await call('GET', `${EP}/{endpoint}/attempts`, 200, { params: e(endpoint) });
      await call('GET', `${EP}/{endpoint}/stats`, 200, { params: e(endpoint), query: 'bucket=1m' });
    }
    await call('GET', `${EP}/{endpoint}/attempts`, 200, { params: e(bad), query: 'status=failed&limit=1' });
    await call('GET', `${EP}/{endpoint}/attempts`, 422, {
      params: e(bad),
      query: 'since=2026-01-02&until=2026-01-01',
    });
    await call('GET', `${EP}/{endpoint}/stats`, 422, { params: e(bad), query: 'since=1000&until=1' });
    // What waits: the first page with its counts, a later page without, parked ones, refusals.
    const waiting = await call('GET', `${EP}/{endpoint}/deliveries`, 200, {
      params: e(dead),
      query: 'limit=1',
    });
    assert.ok(waiting.counts, 'the first page counts');
    if (waiting.nextCursor) {
      const next = await call('GET', `${EP}/{endpoint}/deliveries`, 200, {
        params: e(dead),
        query: `limit=1&cursor=${waiting.nextCursor}`,
      });
      assert.equal(next.counts, undefined);
    }
    await call('GET', `${EP}/{endpoint}/deliveries`, 200, { params: e(good), query: 'status=parked' });
    await call('GET', `${EP}/{endpoint}/deliveries`, 400, { params: e(good), query: 'status=failed' });
    await call('GET', `${EP}/{endpoint}/deliveries`, 404, { params: { ...p, endpoint: 'ep_nope' } });
    await call('GET', `${EP}/{endpoint}/stats`, 400, { params: e(bad), query: 'bucket=2m' });

    // The levers.
    const badDelivery = settled.deliveries.find((d: Body) => d.endpointId === bad.id);
    await call('POST', '/api/v1/projects/{project}/deliveries/{delivery}/retry', 202, {
      params: { ...p, delivery: badDelivery.id },
    });
    await call('POST', `${EP}/{endpoint}/recover`, 202, { params: e(dead), body: { since: 0 } });
    await call('POST', `${EP}/{endpoint}/recover`, 422, { params: e(dead), body: { since: 1000, until: 1 } });
    await call('POST', `${EP}/{endpoint}/recover`, 400, { params: e(dead) });
    await call('POST', `${EP}/{endpoint}/replay`, 202, { params: e(dead), body: { since: 0 } });
    await call('POST', `${EP}/{endpoint}/replay`, 422, { params: e(dead), body: { since: 1000, until: 1 } });
    await call('POST', `${EP}/{endpoint}/replay`, 400, { params: e(dead) });
    await call('POST', `${EP}/{endpoint}/test`, 202, { params: e(good) });
    await call('POST', `${EP}/{endpoint}/test`, 202, {
      params: e(good),
      body: { eventType: 'PurchasePlayerPurchase' },
    });
    await call('POST', `${EP}/{endpoint}/test`, 422, { params: e(good), body: { eventType: 'bare' } });
    // Disabled by hand: the levers are 409; PATCH active: true and enable answer resumed.
    await call('PATCH', `${EP}/{endpoint}`, 200, { params: e(bad), body: { active: false } });
    await call('POST', '/api/v1/projects/{project}/deliveries/{delivery}/retry', 409, {
      params: { ...p, delivery: badDelivery.id },
    });
    await call('POST', `${EP}/{endpoint}/test`, 409, { params: e(bad) });
    await call('POST', `${EP}/{endpoint}/recover`, 409, { params: e(bad), body: { since: 0 } });
    await call('POST', `${EP}/{endpoint}/replay`, 409, { params: e(bad), body: { since: 0 } });
    const patched = await call('PATCH', `${EP}/{endpoint}`, 200, { params: e(bad), body: { active: true } });
    assert.equal(typeof patched.resumed, 'number');
    await call('PATCH', `${EP}/{endpoint}`, 200, { params: e(bad), body: { active: false } });
    await call('POST', `${EP}/{endpoint}/enable`, 200, { params: e(bad) });
    await call('PATCH', `${EP}/{endpoint}`, 422, {
      params: e(bad),
      body: { method: 'GET', signature: { scheme: 'sha256-body' } },
    });
    await call('GET', '/api/v1/projects/{project}/operational-events', 200, { params: p });

    // A project enforcing its catalog; deleting.
    await call('PATCH', '/api/v1/projects/{project}', 200, { params: p, body: { enforceCatalog: true } });
    await call('POST', EV, 422, { params: p, body: { type: 'unknown.type', payload: {} } });
    await call('DELETE', `${EP}/{endpoint}`, 204, { params: e(dead) });
    await call('DELETE', `${EP}/{endpoint}`, 404, { params: e(dead) });
    await call('DELETE', '/api/v1/projects/{project}', 403, { params: p, token: key });
    await call('DELETE', '/api/v1/projects/{project}/portal-links', 403, { params: p, token: link.token });
    await call('DELETE', '/api/v1/projects/{project}/portal-links', 404, { params: { project: 'prj_nope' } });
    await call('DELETE', '/api/v1/projects/{project}/portal-links', 204, { params: p });
    await call('GET', '/api/v1/projects/{project}', 401, { params: p, token: link.token });
    const other = await call('POST', '/api/v1/projects', 201, { body: { name: 'Gone soon' } });
    await call('DELETE', '/api/v1/projects/{project}', 204, { params: { project: other.id } });

    // Every route of the app is in the document, and was answered with a documented success.
    const documented = new Set<string>();
    for (const route of api.routes) {
      if (route.method === 'HEAD') continue;
      if (UNDOCUMENTED.some((re) => re.test(route.url))) {
        assert.equal(doc.paths[toOpenApiPath(route.url)], undefined, route.url);
        continue;
      }
      const key = `${route.method.toLowerCase()} ${toOpenApiPath(route.url)}`;
      documented.add(key);
      const [method, path] = key.split(' ') as [string, string];
      assert.ok(doc.paths[path]?.[method], `${key} is not in the document`);
      const statuses = [...(answered.get(key) ?? [])];
      assert.ok(
        statuses.some((s) => s >= 200 && s < 300),
        `${key} was not called with success (${statuses})`,
      );
    }
    // …and the document has no operation the app does not serve.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item as object)) assert.ok(documented.has(`${method} ${path}`), path);
    }
  });

  test('every operation documents a success with its body, and its errors with the Error schema', () => {
    for (const [path, item] of Object.entries<Body>(doc.paths)) {
      for (const [method, operation] of Object.entries<Body>(item)) {
        const what = `${method} ${path}`;
        const statuses = Object.keys(operation.responses);
        const successes = statuses.filter((s) => /^2\d\d$/.test(s));
        assert.equal(successes.length, 1, `${what}: ${statuses}`);
        const success = validator.response(method, path, Number(successes[0]));
        assert.notEqual(success.description, 'Default Response', what);
        if (successes[0] === '204') assert.equal(success.content, undefined, what);
        else assert.ok(Object.values<Body>(success.content)[0]?.schema, what);
        assert.ok(operation.responses.default, `${what}: no default (error) response`);
        for (const status of statuses.filter((s) => /^[45]\d\d$/.test(s))) {
          const r = validator.response(method, path, Number(status));
          const schema = r.content?.['application/json']?.schema;
          const refs = JSON.stringify(schema);
          assert.ok(refs?.includes('"#/components/schemas/Error"'), `${what} ${status}: ${refs}`);
        }
        if (path.startsWith('/api/')) {
          for (const status of ['400', '401', '429', '503'])
            assert.ok(statuses.includes(status), `${what} ${status}`);
          if (operation.requestBody) assert.ok(statuses.includes('413') && statuses.includes('415'), what);
        }
      }
    }
  });
});

test('429 over the rate limit answers as documented', async () => {
  const api = await startRoutedApi({ apiRateLimit: { max: 2, windowMs: 60_000 } });
  try {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const validator = openApiValidator(await (await fetch(`${base}/openapi.json`)).json());
    const call = caller(
      () => base,
      () => validator,
      new Map(),
    );
    await call('GET', '/api/v1/projects', 200);
    await call('GET', '/api/v1/projects', 200);
    await call('GET', '/api/v1/projects', 429);
    await call('POST', '/api/v1/projects', 429, { body: { name: 'x' } });
  } finally {
    await api.close();
  }
});
