/**
 * The API side of numbers kept exactly as sent (src/api/parse.ts): a number JSON.parse would change
 * is kept only in free-form JSON (an event's payload, an event type's example and schema); elsewhere
 * a body's numbers are typed, and such a number is refused or read as JSON.parse reads it, never
 * stored as text.
 * Deliveries: test/e2e/exact-numbers.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, type Body, startApi, type TestApi } from './helpers.ts';

const PAYLOAD = '{"playerId":9007199254740993,"n":123456789012345678901234567890,"neg":-0.0}';

describe('numbers JSON.parse would change, through the API', () => {
  let api: TestApi;
  let p: Body;
  let EV: string;

  before(async () => {
    api = await startApi();
    // An enforced catalog: the type is looked up, the payload is not inspected.
    const put = await api.call('PUT', '/api/v1/event-types/bigid', { example: { playerId: 1 } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    p = await api.project('exact', { enforceCatalog: true });
    EV = `/api/v1/projects/${p.id}/events`;
  });
  after(() => api.close());

  const post = async (url: string, text: string, method: 'POST' | 'PUT' = 'POST') => {
    const r = await api.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: text,
    });
    return { status: r.statusCode, text: r.body };
  };

  test('an event or a batch answers 202 with the payload exactly as sent', async () => {
    const one = await post(EV, `{"type":"bigid","payload":${PAYLOAD}}`);
    assert.equal(one.status, 202, one.text);
    assert.ok(one.text.includes(`"payload":${PAYLOAD}`), one.text);
    const batch = await post(
      `${EV}/batch`,
      `{"events":[{"type":"bigid","payload":${PAYLOAD}},{"type":"bigid","payload":18446744073709551615}]}`,
    );
    assert.equal(batch.status, 202, batch.text);
    assert.ok(batch.text.includes(`"payload":${PAYLOAD}`), batch.text);
    assert.ok(batch.text.includes('"payload":18446744073709551615,'), batch.text);
  });

  test('outside the payload such a number is refused like any other wrong type', async () => {
    for (const [url, text, field] of [
      [EV, '{"type":"bigid","payload":{},"test":9007199254740993}', 'body.test'],
      [EV, '{"type":9007199254740993,"payload":{}}', 'body.type'],
      [EV, '{"type":"bigid","payload":{},"idempotencyKey":-0}', 'body.idempotencyKey'],
      [EV, '9007199254740993', 'body'],
      [`${EV}/batch`, '{"events":[1e400]}', 'body.events.0'],
    ] as const) {
      const r = await post(url, text);
      assert.equal(r.status, 400, `${text}: ${r.text}`);
      assert.equal(JSON.parse(r.text).error.details?.field, field, r.text);
    }
  });

  test('other routes read numbers as JSON.parse does: no kept text reaches a typed or stored setting', async () => {
    const endpoints = `/api/v1/projects/${p.id}/endpoints`;
    // Kept as text, 1e400 would be an object with one string property: a valid `headers`.
    const headers = await post(endpoints, '{"url":"https://hooks.example/a","headers":1e400}');
    assert.equal(headers.status, 400, headers.text);
    const schema = await post('/api/v1/event-types/other', '{"schema":1e400}', 'PUT');
    assert.equal(schema.status, 400, schema.text);
    const timeout = await post(endpoints, '{"url":"https://hooks.example/a","timeoutMs":9007199254740993}');
    assert.equal(timeout.status, 400, timeout.text);
    assert.match(JSON.parse(timeout.text).error.message, /timeoutMs/);
  });
});
