/** Ingest (single, batch, idempotency, callbacks, catalog), reads, retries and attempts. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { attemptRecord } from '../store/helpers.ts';
import { ADMIN, assertError, type Body, startApi, type TestApi } from './helpers.ts';

const BODY_LIMIT_BYTES = 16 * 1024;

describe('events API', () => {
  let api: TestApi;
  let p: Body;
  let EV: string;
  let hook: Body;

  before(async () => {
    api = await startApi({ maxBodyBytes: BODY_LIMIT_BYTES, maxBatchEvents: 5 });
    p = await api.project('events');
    EV = `/api/v1/projects/${p.id}/events`;
    hook = (await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://hooks.example/a' }))
      .body;
  });
  after(() => api.close());

  test('POST one event → 202 with its deliveries, readable afterwards', async () => {
    const r = await api.call('POST', EV, { type: 'order.created', payload: { n: 1 } });
    assert.equal(r.status, 202);
    assert.match(r.body.id, /\S/);
    assert.equal(r.body.type, 'order.created');
    assert.ok(!Number.isNaN(Date.parse(r.body.createdAt)));
    assert.equal(r.body.deliveries.length, 1);
    const d = r.body.deliveries[0];
    assert.equal(d.endpointId, hook.id);
    assert.equal(d.url, 'https://hooks.example/a');
    assert.equal(d.status, 'pending');
    assert.equal(d.attempts, 0);
    assert.ok(!Number.isNaN(Date.parse(d.nextAttemptAt)));

    const got = await api.call('GET', `${EV}/${r.body.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.payload, { n: 1 });
    assert.equal(got.body.deliveries[0].id, d.id);
    assert.equal(got.body.deliveries[0].inFlight, false);
    assertError(await api.call('GET', `${EV}/evt_missing`), 404, 'HERALD_ERR_NOT_FOUND');
  });

  test('a delivery a worker holds reads as inFlight, with its lease end as nextAttemptAt', async () => {
    const r = await api.call('POST', EV, { type: 'order.held', payload: {} });
    const now = Date.now();
    const claimed = await api.store.claimDueDeliveries({ limit: 100, leaseMs: 60_000, now, workerId: 'w' });
    assert.ok(claimed.some((c) => c.delivery.id === r.body.deliveries[0].id));
    const held = (await api.call('GET', `${EV}/${r.body.id}`)).body.deliveries[0];
    assert.equal(held.inFlight, true);
    assert.equal(Date.parse(held.nextAttemptAt), now + 60_000);
    await api.store.releaseClaims('w', Date.now());
    assert.equal((await api.call('GET', `${EV}/${r.body.id}`)).body.deliveries[0].inFlight, false);
  });

  test('the same idempotency key (field or header) returns the original event and creates nothing', async () => {
    const first = await api.call('POST', EV, { type: 'x', payload: { v: 1 }, idempotencyKey: 'k-1' });
    const again = await api.call('POST', EV, { type: 'x', payload: { v: 2 }, idempotencyKey: 'k-1' });
    assert.equal(again.status, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.equal(again.body.id, first.body.id);
    assert.deepEqual(again.body.payload, { v: 1 });
    assert.deepEqual(
      again.body.deliveries.map((d: Body) => d.id),
      first.body.deliveries.map((d: Body) => d.id),
    );

    const h1 = await api.call(
      'POST',
      EV,
      { type: 'x', payload: {} },
      { headers: { 'idempotency-key': 'h-1' } },
    );
    const h2 = await api.call(
      'POST',
      EV,
      { type: 'x', payload: {} },
      { headers: { 'idempotency-key': 'h-1' } },
    );
    assert.equal(h2.body.id, h1.body.id);
    const other = await api.call(
      'POST',
      EV,
      { type: 'x', payload: {} },
      { headers: { 'idempotency-key': 'h-2' } },
    );
    assert.notEqual(other.body.id, h1.body.id);
    const long = await api.call(
      'POST',
      EV,
      { type: 'x', payload: {} },
      { headers: { 'idempotency-key': 'k'.repeat(201) } },
    );
    assertError(long, 400, 'HERALD_ERR_VALIDATION', 'headers.idempotency-key');
    assert.equal(long.body.error.details.limit, 200, 'the limit is stated, as for every size limit');
    assert.match(long.body.error.message, /at most 200 characters/);
  });

  test('idempotency keys that cannot mean one thing are refused, not ignored or joined', async () => {
    const e = { type: 'x', payload: {} };
    const batch = await api.call(
      'POST',
      `${EV}/batch`,
      { events: [e, e] },
      { headers: { 'idempotency-key': 'b-1' } },
    );
    assertError(batch, 400, 'HERALD_ERR_VALIDATION', 'headers.idempotency-key');
    const both = await api.call(
      'POST',
      EV,
      { ...e, idempotencyKey: 'k-a' },
      { headers: { 'idempotency-key': 'k-b' } },
    );
    assertError(both, 400, 'HERALD_ERR_VALIDATION', 'body.idempotencyKey');
    const same = await api.call(
      'POST',
      EV,
      { ...e, idempotencyKey: 'k-c' },
      { headers: { 'idempotency-key': 'k-c' } },
    );
    assert.equal(same.status, 202);
    const latin1 = await api.call('POST', EV, e, { headers: { 'idempotency-key': '\u00e9' } });
    assertError(latin1, 400, 'HERALD_ERR_VALIDATION', 'headers.idempotency-key');
    const count = async () => (await api.call('GET', `${EV}?limit=1000`)).body.data.length;
    const before = await count();
    // An empty key (a client's variable that was never set) is refused, as the body's "" is: taken
    // as no key, each retry of it stored the event again.
    for (const path of [EV, `${EV}/batch`]) {
      const empty = await api.call('POST', path, path === EV ? e : { events: [e] }, {
        headers: { 'idempotency-key': '' },
      });
      assertError(empty, 400, 'HERALD_ERR_VALIDATION', 'headers.idempotency-key');
      assert.match(empty.body.error.message, /must not be empty/);
    }
    assert.equal(await count(), before, 'nothing stored');
    // Two copies of the header: over a real connection, as a proxy or a client bug would send them.
    const address = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const reply = await new Promise<{ status: number; body: Body }>((resolve, reject) => {
      const body = JSON.stringify(e);
      const req = request(`${address}${EV}`, {
        method: 'POST',
        headers: [
          'host',
          new URL(address).host,
          'authorization',
          `Bearer ${ADMIN}`,
          'content-type',
          'application/json',
          'idempotency-key',
          'a',
          'idempotency-key',
          'b',
        ],
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(reply.status, 400, JSON.stringify(reply.body));
    assert.equal(reply.body.error.details.field, 'headers.idempotency-key');
    assert.equal(await count(), before, 'nothing stored');
  });

  test('callbackUrl adds one delivery to that URL; only http(s)', async () => {
    const r = await api.call('POST', EV, {
      type: 'x',
      payload: {},
      callbackUrl: 'https://cb.example/done?x=1',
    });
    assert.equal(r.status, 202);
    const cb = r.body.deliveries.find((d: Body) => d.endpointId === null);
    assert.equal(cb.url, 'https://cb.example/done?x=1');
    assert.equal(r.body.deliveries.length, 2);
    assert.equal(r.body.callbackEnvelope, 'standard');
    const raw = await api.call('POST', EV, {
      type: 'x',
      payload: { event: 'guildInvite' },
      callbackUrl: 'https://cb.example/raw',
      callbackEnvelope: 'raw',
    });
    assert.equal(raw.status, 202, JSON.stringify(raw.body));
    assert.equal((await api.call('GET', `${EV}/${raw.body.id}`)).body.callbackEnvelope, 'raw');
    const none = await api.call('POST', EV, { type: 'x', payload: {} });
    assert.equal(none.body.callbackEnvelope, null);
    const alone = await api.call('POST', EV, { type: 'x', payload: {}, callbackEnvelope: 'raw' });
    assertError(alone, 400, 'HERALD_ERR_VALIDATION', 'body.callbackEnvelope');
    const soap = await api.call('POST', EV, {
      type: 'x',
      payload: {},
      callbackUrl: 'https://cb.example/s',
      callbackEnvelope: 'soap',
    });
    assertError(soap, 400, 'HERALD_ERR_VALIDATION', 'body.callbackEnvelope');
    for (const callbackUrl of [
      'ftp://cb.example/x',
      'not a url',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http:///x', // WHATWG URL would take `x` for the host
      'https:/cb.example/x',
      'http://cb.example:0/x',
    ]) {
      const bad = await api.call('POST', EV, { type: 'x', payload: {}, callbackUrl });
      assertError(bad, 400, 'HERALD_ERR_VALIDATION', 'body.callbackUrl');
    }
    // An address delivery may not reach (no HERALD_ALLOW_NETWORKS here): refused, nothing stored.
    for (const callbackUrl of ['http://10.0.0.1/cb', 'http://[::1]:9/cb', 'http://localhost/cb']) {
      const refused = await api.call('POST', EV, { type: 'x.refused', payload: {}, callbackUrl });
      const error = assertError(refused, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.callbackUrl');
      // Said so that a portal's customer knows it is the operator's call.
      assert.match(error.message, /public addresses only, unless its operator allows this network/);
    }
    const listed = await api.call('GET', `${EV}?type=x.refused`);
    assert.deepEqual(listed.body.data, []);
  });

  test('batch: 202 {data} in request order; over the limit or an invalid item is refused whole', async () => {
    const events = [0, 1, 2, 3, 4].map((i) => ({ type: `t.${i}`, payload: { i } }));
    const r = await api.call('POST', `${EV}/batch`, { events });
    assert.equal(r.status, 202);
    assert.deepEqual(
      r.body.data.map((e: Body) => e.payload.i),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      r.body.data.map((e: Body) => e.type),
      events.map((e) => e.type),
    );
    assert.ok(r.body.data.every((e: Body) => e.deliveries.length === 1));
    const tooMany = await api.call('POST', `${EV}/batch`, { events: [...events, events[0]] });
    assertError(tooMany, 400, 'HERALD_ERR_VALIDATION', 'body.events');
    const badItem = await api.call('POST', `${EV}/batch`, {
      events: [events[0], { type: 'x', payload: {}, callbackUrl: 'gopher://x' }],
    });
    assertError(badItem, 400, 'HERALD_ERR_VALIDATION', 'body.events.1.callbackUrl');
    const missing = await api.call('POST', `${EV}/batch`, { events: [events[0], { type: 'x' }] });
    assertError(missing, 400, 'HERALD_ERR_VALIDATION', 'body.events.1.payload');
    assertError(await api.call('POST', `${EV}/batch`, { events: [] }), 400, undefined, 'body.events');
  });

  test('bad input: missing fields, unknown fields, malformed JSON, other media types, too large', async () => {
    assertError(await api.call('POST', EV, { payload: {} }), 400, 'HERALD_ERR_VALIDATION', 'body.type');
    assertError(await api.call('POST', EV, { type: 'x' }), 400, 'HERALD_ERR_VALIDATION', 'body.payload');
    assertError(
      await api.call('POST', EV, { type: 'x', payload: {}, extra: 1 }),
      400,
      undefined,
      'body.extra',
    );
    assertError(await api.call('POST', EV, { type: 5, payload: {} }), 400, undefined, 'body.type');
    assertError(
      await api.call('POST', EV, { type: 'x', payload: {}, test: 'yes' }),
      400,
      undefined,
      'body.test',
    );
    assertError(
      await api.call('POST', EV, undefined, { raw: '{"type": "x",' }),
      400,
      'HERALD_ERR_MALFORMED_JSON',
    );
    assertError(await api.call('POST', EV, undefined, { raw: '' }), 400, 'HERALD_ERR_VALIDATION', 'body');
    // Valid JSON with a key that could pollute prototypes: the message says what is refused, not
    // Fastify's "Body is not valid JSON", on the event routes' second parse too.
    for (const raw of [
      '{"type":"x","payload":{"__proto__":{"admin":true}}}',
      '{"type":"x","payload":{"a":[{"constructor":{"prototype":{"admin":true}}}]}}',
      '{"type":"x","payload":{"id":9007199254740993,"__proto__":{}}}',
      '{"__proto__":{"admin":true},"type":"x","payload":{}}',
    ]) {
      const refused = assertError(
        await api.call('POST', EV, undefined, { raw }),
        400,
        'HERALD_ERR_MALFORMED_JSON',
        'body',
      );
      assert.match(
        refused.message,
        /^body: must not hold a "__proto__" key, or a "constructor" key holding "prototype"/,
        raw,
      );
    }
    // Text that is not JSON keeps its own message.
    const notJson = assertError(await api.call('POST', EV, undefined, { raw: '{"type": "x",' }), 400);
    assert.match(notJson.message, /not valid JSON/);
    assertError(
      await api.call('POST', EV, undefined, {
        raw: 'type=x',
        contentType: 'application/x-www-form-urlencoded',
      }),
      415,
      'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
    assertError(
      await api.call('POST', EV, undefined, { raw: '{"type":"x","payload":{}}', contentType: 'text/plain' }),
      415,
    );
    const big = { type: 'x', payload: { blob: 'x'.repeat(20 * 1024) } };
    const tooLarge = assertError(await api.call('POST', EV, big), 413, 'HERALD_ERR_BODY_TOO_LARGE', 'body');
    // The limit and what to do about it, for a client whose batches grew past it.
    assert.equal(tooLarge.details.limitBytes, BODY_LIMIT_BYTES);
    assert.match(tooLarge.message, new RegExp(`${BODY_LIMIT_BYTES} bytes \\(HERALD_MAX_BODY_BYTES\\)`));
    // One event cannot be split: it is not told to send its batch in parts.
    assert.match(tooLarge.message, /send less in it, or have the operator raise the limit$/);
    const bigBatch = { events: Array.from({ length: 3 }, () => big) };
    const batchTooLarge = assertError(
      await api.call('POST', `${EV}/batch`, bigBatch),
      413,
      undefined,
      'body',
    );
    assert.match(batchTooLarge.message, /smaller requests/);
  });

  test('an enforced catalog refuses unknown types with 422 naming type; otherwise they are accepted', async () => {
    const strict = await api.project('strict', { enforceCatalog: true });
    const SEV = `/api/v1/projects/${strict.id}/events`;
    assertError(
      await api.call('POST', SEV, { type: 'nope', payload: {} }),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.type',
    );
    await api.call('PUT', '/api/v1/event-types/known.type', { description: 'k' });
    assert.equal((await api.call('POST', SEV, { type: 'known.type', payload: {} })).status, 202);
    const batch = await api.call('POST', `${SEV}/batch`, {
      events: [
        { type: 'known.type', payload: {} },
        { type: 'nope', payload: {} },
      ],
    });
    assertError(batch, 422, undefined, 'body.events.1.type');
    assert.equal((await api.call('POST', EV, { type: 'nope', payload: {} })).status, 202);
  });

  test('list with type, since, until, limit and cursor', async () => {
    const q = await api.project('listing');
    const L = `/api/v1/projects/${q.id}/events`;
    for (const i of [1, 2, 3]) await api.call('POST', L, { type: i === 2 ? 'b' : 'a', payload: { i } });
    const all = await api.call('GET', L);
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.data.map((e: Body) => e.payload.i),
      [3, 2, 1],
    );
    assert.equal(all.body.nextCursor, null);
    const onlyB = await api.call('GET', `${L}?type=b`);
    assert.deepEqual(
      onlyB.body.data.map((e: Body) => e.payload.i),
      [2],
    );
    const page1 = await api.call('GET', `${L}?limit=2`);
    assert.equal(page1.body.data.length, 2);
    assert.ok(page1.body.nextCursor);
    const page2 = await api.call('GET', `${L}?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    assert.deepEqual(
      page2.body.data.map((e: Body) => e.payload.i),
      [1],
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await api.call('GET', `${L}?since=${future}`)).body.data.length, 0);
    assert.equal((await api.call('GET', `${L}?until=${Date.now() + 1000}`)).body.data.length, 3);
    // Epoch ms is accepted up to what a Date holds (year 275760); an id holds 50 bits of time (up
    // to the year 37648). A bound past that is still the far future, not a time near 1970.
    const pastIdTimes = 32 ** 10 + 1000;
    assert.equal((await api.call('GET', `${L}?until=${pastIdTimes}`)).body.data.length, 3);
    assert.equal((await api.call('GET', `${L}?since=${pastIdTimes}`)).body.data.length, 0);
    assert.equal(
      (await api.call('GET', `${L}?since=0001-01-01T00:00:00.123456789%2B14:00`)).body.data.length,
      3,
    );
    for (const bad of ['limit=0', 'limit=1001', 'limit=abc']) {
      assertError(await api.call('GET', `${L}?${bad}`), 400, 'HERALD_ERR_VALIDATION', 'querystring.limit');
    }
    assertError(await api.call('GET', `${L}?since=yesterday`), 400, undefined, 'querystring.since');
    // A cursor Herald did not make is refused: starting the list over would loop a client.
    // …and so is one of another list (an attempts cursor would have answered an empty page).
    const attemptsCursor = Buffer.from('att_01m8vx6851gp6q0d26bs8j7j8n', 'utf8').toString('base64url');
    for (const cursor of ['garbage!', `${page1.body.nextCursor}A`, 'AA', attemptsCursor]) {
      assertError(
        await api.call('GET', `${L}?limit=2&cursor=${encodeURIComponent(cursor)}`),
        400,
        'HERALD_ERR_VALIDATION',
        'querystring.cursor',
      );
    }
    assertError(await api.call('GET', `${L}?since=2000&until=1000`), 422, undefined, 'querystring.since');
    assertError(await api.call('GET', `${L}?until=2024-13-45T99`), 400, undefined, 'querystring.until');
  });

  test('list by idempotencyKey finds the event a sender keyed, alone', async () => {
    const q = await api.project('keyed');
    const L = `/api/v1/projects/${q.id}/events`;
    for (const i of [1, 2, 3]) {
      await api.call('POST', L, {
        type: 'order.paid',
        payload: { orderId: 1233 + i },
        idempotencyKey: `order-${1233 + i}`,
      });
    }
    await api.call('POST', L, { type: 'order.paid', payload: { unkeyed: true } });
    const found = await api.call('GET', `${L}?idempotencyKey=order-1234`);
    assert.equal(found.status, 200);
    assert.deepEqual(
      found.body.data.map((e: Body) => [e.idempotencyKey, e.payload.orderId]),
      [['order-1234', 1234]],
    );
    assert.equal(found.body.nextCursor, null);
    assert.deepEqual((await api.call('GET', `${L}?idempotencyKey=order-9&type=order.paid`)).body.data, []);
    assertError(
      await api.call('GET', `${L}?idempotencyKey=`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.idempotencyKey',
    );
  });

  test('attempts: per event and one by id', async () => {
    const sent = await api.call('POST', EV, { type: 'att', payload: {} });
    const found = await api.store.getEvent(p.id, sent.body.id);
    const delivery = found!.deliveries[0]!;
    const record = attemptRecord(delivery, found!.event, {
      outcome: 'failed',
      status: 'failed',
      effect: 'none',
    });
    await api.store.recordAttempts([record], { now: Date.now(), failureThreshold: 100 });
    const list = await api.call('GET', `${EV}/${sent.body.id}/attempts`);
    assert.equal(list.status, 200);
    assert.equal(list.body.data.length, 1);
    const a = list.body.data[0];
    assert.equal(a.id, record.attempt.id);
    assert.equal(a.deliveryId, delivery.id);
    assert.equal(a.outcome, 'failed');
    assert.ok(!Number.isNaN(Date.parse(a.startedAt)));
    const one = await api.call('GET', `/api/v1/projects/${p.id}/attempts/${a.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, a);
    assertError(await api.call('GET', `/api/v1/projects/${p.id}/attempts/att_missing`), 404);
    assertError(await api.call('GET', `${EV}/evt_missing/attempts`), 404);

    // Retry: 202 with the delivery due again; 409 once its endpoint is disabled.
    const retry = await api.call('POST', `/api/v1/projects/${p.id}/deliveries/${delivery.id}/retry`);
    assert.equal(retry.status, 202);
    assert.equal(retry.body.id, delivery.id);
    assert.equal(retry.body.status, 'pending');
    await api.call('PATCH', `/api/v1/projects/${p.id}/endpoints/${hook.id}`, { active: false });
    const refused = await api.call('POST', `/api/v1/projects/${p.id}/deliveries/${delivery.id}/retry`);
    assertError(refused, 409, 'HERALD_ERR_ENDPOINT_DISABLED');
    await api.call('POST', `/api/v1/projects/${p.id}/endpoints/${hook.id}/enable`);
    assertError(await api.call('POST', `/api/v1/projects/${p.id}/deliveries/dlv_missing/retry`), 404);
    // While a worker holds it (an attempt being sent), a retry would send a second one at once.
    const now = Date.now();
    const held = await api.store.claimDueDeliveries({
      limit: 100,
      leaseMs: 60_000,
      now: now + 1000,
      workerId: 'w',
    });
    assert.ok(held.some((c) => c.delivery.id === delivery.id));
    const inFlight = await api.call('POST', `/api/v1/projects/${p.id}/deliveries/${delivery.id}/retry`);
    assertError(inFlight, 409, 'HERALD_ERR_DELIVERY_IN_FLIGHT');
  });

  test('retrying a delivery whose endpoint was deleted is 409 HERALD_ERR_ENDPOINT_DELETED; the delivery stays closed', async () => {
    const q = await api.project('retry-deleted');
    const gone = (
      await api.call('POST', `/api/v1/projects/${q.id}/endpoints`, { url: 'https://hooks.example/gone' })
    ).body;
    const sent = await api.call('POST', `/api/v1/projects/${q.id}/events`, { type: 'a.b', payload: {} });
    const deliveryId = sent.body.deliveries[0].id;
    assert.equal((await api.call('DELETE', `/api/v1/projects/${q.id}/endpoints/${gone.id}`)).status, 204);
    const D = `/api/v1/projects/${q.id}/deliveries/${deliveryId}`;
    assert.equal((await api.call('GET', D)).body.status, 'failed', 'the delete closed it');
    const refused = await api.call('POST', `${D}/retry`);
    assertError(refused, 409, 'HERALD_ERR_ENDPOINT_DELETED');
    const after = await api.call('GET', D);
    assert.equal(after.body.status, 'failed', 'not reopened');
    assert.equal(after.body.nextAttemptAt, null);
  });
});
