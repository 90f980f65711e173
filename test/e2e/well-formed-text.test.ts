/**
 * Text fields must be well-formed Unicode: both stores keep a lone surrogate (`"\udbff"` in JSON)
 * as U+FFFD, so three events keyed `idem-\udbff`, `idem-\udfff` and `idem-\ud800` were one key (the
 * 2nd and 3rd answered as replays of the 1st and never stored), and a type or name was stored
 * other than the 202 echoed it. Every such field is 400 naming it. Payloads and examples are kept
 * as sent: stored as JSON text, their lone surrogates stay escapes, read back and delivered as
 * given. A real `herald serve` on SQLite and on PostgreSQL, a real receiver on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { heraldBackends } from './backends.ts';
import type { HeraldProcess } from './harness.ts';
import { type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-well-formed-0123456';
/** JSON text holding lone surrogates, in a key and in values. */
const PAYLOAD = '{"s":"a\\udbffb","\\udfffk":["\\ud800"],"pair":"\\ud83d\\ude00"}';

let herald: HeraldProcess;
const receivers: ScriptedReceiver[] = [];

/** A request with JSON text sent as is (JSON.stringify would send these escapes too, but say less). */
async function call(method: string, path: string, text?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${herald.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(text === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: text,
  });
  return { status: res.status, text: await res.text() };
}

function assertRefused(reply: { status: number; text: string }, field: string): void {
  assert.equal(reply.status, 400, reply.text);
  const error = JSON.parse(reply.text).error;
  assert.equal(error.details?.field, field, reply.text);
  assert.match(error.message, /lone surrogate/, reply.text);
}

const BACKENDS = heraldBackends({ HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' });

after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

for (const backend of BACKENDS) {
  describe(`well-formed text on ${backend.name}`, () => {
    let p: string;
    let events: string;
    before(async () => {
      herald = await backend.start();
      const project = await call('POST', '/api/v1/projects', `{"name":"text-${backend.name}"}`);
      assert.equal(project.status, 201, project.text);
      p = JSON.parse(project.text).id;
      events = `/api/v1/projects/${p}/events`;
    });

    test('idempotency keys with lone surrogates are 400, not one key', async () => {
      for (const key of ['idem-\\udbff', 'idem-\\udfff', 'idem-\\ud800']) {
        const sent = await call(
          'POST',
          events,
          `{"type":"t.a","idempotencyKey":"${key}","payload":{"k":"${key}"}}`,
        );
        assertRefused(sent, 'body.idempotencyKey');
      }
      // A surrogate pair is one character (U+1F600): accepted, and distinct keys stay distinct.
      const ids = new Set<string>();
      for (const key of ['idem-\\ud83d\\ude00', 'idem-\\ud83d\\ude01']) {
        const sent = await call('POST', events, `{"type":"t.a","idempotencyKey":"${key}","payload":1}`);
        assert.equal(sent.status, 202, sent.text);
        assert.equal(JSON.parse(sent.text).idempotencyKey, JSON.parse(`"${key}"`));
        ids.add(JSON.parse(sent.text).id);
      }
      assert.equal(ids.size, 2);
    });

    test('every other text field is 400 naming it, batch items too', async () => {
      const lone = 'x\\udbff';
      assertRefused(await call('POST', events, `{"type":"${lone}","payload":1}`), 'body.type');
      assertRefused(
        await call(
          'POST',
          `${events}/batch`,
          `{"events":[{"type":"ok","payload":1},{"type":"${lone}","payload":1}]}`,
        ),
        'body.events.1.type',
      );
      assertRefused(await call('POST', '/api/v1/projects', `{"name":"${lone}"}`), 'body.name');
      assertRefused(await call('PATCH', `/api/v1/projects/${p}`, `{"name":"${lone}"}`), 'body.name');
      assertRefused(await call('POST', `/api/v1/projects/${p}/api-keys`, `{"name":"${lone}"}`), 'body.name');
      const endpoints = `/api/v1/projects/${p}/endpoints`;
      for (const field of ['name', 'description']) {
        assertRefused(
          await call('POST', endpoints, `{"url":"https://hooks.example/","${field}":"${lone}"}`),
          `body.${field}`,
        );
      }
      assertRefused(
        await call('POST', endpoints, `{"url":"https://hooks.example/","eventTypes":["${lone}"]}`),
        'body.eventTypes.0',
      );
      assertRefused(
        await call('PUT', '/api/v1/event-types/t.ok', `{"description":"${lone}"}`),
        'body.description',
      );
    });

    test('payloads and examples keep their lone surrogates: 202, read back and delivered as sent', async () => {
      const receiver = await startScriptedReceiver((_hit, n) => ({ status: n === 1 ? 500 : 200 }));
      receivers.push(receiver);
      const endpoint = await call(
        'POST',
        `/api/v1/projects/${p}/endpoints`,
        JSON.stringify({
          url: receiver.url,
          envelope: 'raw',
          retrySchedule: [0.05],
          eventTypes: ['t.payload'],
        }),
      );
      assert.equal(endpoint.status, 201, endpoint.text);
      const sent = await call('POST', events, `{"type":"t.payload","payload":${PAYLOAD}}`);
      assert.equal(sent.status, 202, sent.text);
      const expected = JSON.parse(PAYLOAD);
      assert.deepEqual(JSON.parse(sent.text).payload, expected);
      const read = await call('GET', `${events}/${JSON.parse(sent.text).id}`);
      assert.deepEqual(JSON.parse(read.text).payload, expected);
      // The first attempt (handed off in memory) and the retry (read back from the store).
      for (const hit of await receiver.waitFor(2)) assert.deepEqual(JSON.parse(hit.body), expected, hit.body);

      const put = await call('PUT', '/api/v1/event-types/t.example', `{"example":${PAYLOAD}}`);
      assert.equal(put.status, 200, put.text);
      const example = await call('GET', '/api/v1/event-types/t.example');
      assert.deepEqual(JSON.parse(example.text).example, expected);
    });
  });
}
