/**
 * Numbers JSON.parse would change (64-bit ids, long decimals, -0) reach receivers exactly as they
 * were sent: a real `herald serve` on SQLite and on PostgreSQL, real receivers on loopback. The
 * first attempt of each delivery is refused, so both the in-memory hand-off of a new event and a
 * retry claimed from the store (its payload read back as stored text) are checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { heraldBackends } from './backends.ts';
import { api as call, type HeraldProcess } from './harness.ts';
import { type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-exact-numbers-0123';
/** As sent, and as a `raw` JSON body must arrive: JSON.parse would turn these numbers into
 * 9007199254740992, 1.2345678901234568e+29, 0, 18446744073709552000 and 0.1. */
const PAYLOAD =
  '{"playerId":9007199254740993,"n":123456789012345678901234567890,"neg":-0.0,' +
  '"order":{"ids":[18446744073709551615,7]},"ratio":0.10000000000000000555,"small":1.5,"s":"9007199254740993"}';

let herald: HeraldProcess;
const receivers: ScriptedReceiver[] = [];

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);

/** POST (or PUT) of JSON text as is (a JavaScript object could not hold these numbers). */
async function postText(
  path: string,
  text: string,
  method = 'POST',
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${herald.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: text,
  });
  return { status: res.status, text: await res.text() };
}

async function getText(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${herald.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, text: await res.text() };
}

/** A receiver that answers 500 to the first request for each URL and body, 200 to the retry. */
async function failOnceReceiver(): Promise<ScriptedReceiver> {
  const seen = new Set<string>();
  const r = await startScriptedReceiver((hit) => {
    const key = `${hit.url} ${hit.body}`;
    if (seen.has(key)) return { status: 200 };
    seen.add(key);
    return { status: 500 };
  });
  receivers.push(r);
  return r;
}

async function endpoint(projectId: string, body: Record<string, unknown>): Promise<void> {
  const res = await api('POST', `/api/v1/projects/${projectId}/endpoints`, {
    retrySchedule: [0.05],
    ...body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

const BACKENDS = heraldBackends({ HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' });

after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

for (const backend of BACKENDS) {
  describe(`numbers kept exactly on ${backend.name}`, () => {
    before(async () => {
      herald = await backend.start();
    });

    test('the 202 answer and every delivery (raw and standard JSON, GET query, form body) keep the digits', async () => {
      const project = await api<{ id: string }>('POST', '/api/v1/projects', {
        name: `exact-${backend.name}`,
      });
      const p = project.body.id;
      const raw = await failOnceReceiver();
      const standard = await failOnceReceiver();
      const get = await failOnceReceiver();
      const form = await failOnceReceiver();
      await endpoint(p, { url: `${raw.url}/raw`, envelope: 'raw' });
      await endpoint(p, { url: `${standard.url}/standard` });
      await endpoint(p, {
        url: `${get.url}/get`,
        envelope: 'raw',
        method: 'GET',
        signature: { scheme: 'none' },
      });
      await endpoint(p, {
        url: `${form.url}/form`,
        envelope: 'raw',
        signature: { scheme: 'hmac-sha1-url', key: 'project-key' },
      });

      const sent = await postText(`/api/v1/projects/${p}/events`, `{"type":"bigid","payload":${PAYLOAD}}`);
      assert.equal(sent.status, 202, sent.text);
      assert.ok(sent.text.includes(`"payload":${PAYLOAD}`), sent.text);

      for (const r of [raw, standard, get, form]) await r.waitFor(2);
      for (const hit of raw.hits) assert.equal(hit.body, PAYLOAD, 'raw: the payload exactly as given');
      for (const hit of standard.hits) {
        assert.match(hit.body, /^\{"type":"bigid","timestamp":"[^"]+","data":/);
        assert.ok(hit.body.endsWith(`"data":${PAYLOAD}}`), hit.body);
      }
      // Fields carry their JSON text: a number's digits, an object's JSON.
      const fields = (text: string) => Object.fromEntries(new URLSearchParams(text));
      const expected = {
        playerId: '9007199254740993',
        n: '123456789012345678901234567890',
        neg: '-0.0',
        order: '{"ids":[18446744073709551615,7]}',
        ratio: '0.10000000000000000555',
        small: '1.5',
        s: '9007199254740993',
      };
      for (const hit of get.hits) assert.deepEqual(fields(new URL(hit.url, get.url).search), expected);
      for (const hit of form.hits) assert.deepEqual(fields(hit.body), expected);

      // Read back from the store: the event, the list, and the answer to a repeated key.
      const id = (JSON.parse(sent.text) as { id: string }).id;
      for (const path of [`/api/v1/projects/${p}/events/${id}`, `/api/v1/projects/${p}/events`]) {
        const read = await getText(path);
        assert.equal(read.status, 200, read.text);
        assert.ok(read.text.includes(`"payload":${PAYLOAD}`), `${path}: ${read.text}`);
      }
      const keyed = `{"type":"bigid","idempotencyKey":"exact-1","payload":${PAYLOAD}}`;
      await postText(`/api/v1/projects/${p}/events`, keyed);
      const replay = await postText(`/api/v1/projects/${p}/events`, keyed);
      assert.ok(replay.text.includes(`"payload":${PAYLOAD}`), replay.text);
    });

    test("an event type's example and schema keep them, and a test send delivers the example exactly", async () => {
      const schema =
        '{"type":"object","properties":{"playerId":{"type":"integer","maximum":18446744073709551615}}}';
      const put = await postText(
        `/api/v1/event-types/bigid.example.${backend.name}`,
        `{"example":${PAYLOAD},"schema":${schema}}`,
        'PUT',
      );
      assert.equal(put.status, 200, put.text);
      assert.ok(put.text.includes(`"example":${PAYLOAD}`), put.text);
      const read = await getText(`/api/v1/event-types/bigid.example.${backend.name}`);
      assert.ok(read.text.includes(`"example":${PAYLOAD}`), read.text);
      assert.ok(read.text.includes(`"schema":${schema}`), read.text);

      const project = await api<{ id: string }>('POST', '/api/v1/projects', {
        name: `example-${backend.name}`,
      });
      const raw = await failOnceReceiver();
      const created = await api<{ id: string }>('POST', `/api/v1/projects/${project.body.id}/endpoints`, {
        url: raw.url,
        envelope: 'raw',
        retrySchedule: [0.05],
      });
      const sent = await api(
        'POST',
        `/api/v1/projects/${project.body.id}/endpoints/${created.body.id}/test`,
        {
          eventType: `bigid.example.${backend.name}`,
        },
      );
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      for (const hit of await raw.waitFor(2)) assert.equal(hit.body, PAYLOAD);
    });

    test('a batch keeps them too (out-of-range magnitudes as well); ordinary numbers stay as JSON.stringify writes them', async () => {
      const project = await api<{ id: string }>('POST', '/api/v1/projects', {
        name: `batch-${backend.name}`,
      });
      const p = project.body.id;
      const raw = await failOnceReceiver();
      await endpoint(p, { url: raw.url, envelope: 'raw' });
      const plain = '{"score":1.0,"time":1700000000000.123,"big":1e3}';
      const sent = await postText(
        `/api/v1/projects/${p}/events/batch`,
        `{"events":[{"type":"a","payload":${plain}},{"type":"b","payload":${PAYLOAD}},{"type":"c","payload":-0},{"type":"d","payload":{"huge":1e400,"tiny":-1e-400}}]}`,
      );
      assert.equal(sent.status, 202, sent.text);
      const bodies = new Set((await raw.waitFor(8)).map((h) => h.body));
      assert.deepEqual(
        bodies,
        new Set([
          '{"score":1,"time":1700000000000.123,"big":1000}',
          PAYLOAD,
          '-0',
          '{"huge":1e400,"tiny":-1e-400}',
        ]),
      );
    });
  });
}
