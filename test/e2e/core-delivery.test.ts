/**
 * Issue "Core": a real `herald serve` process, real receivers on loopback, signatures checked by
 * the `standardwebhooks` package (code no one here wrote).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { heraldBackends } from './backends.ts';
import { api as call, type HeraldProcess } from './harness.ts';
import { eventually, type Hit, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-0123456789abcdef';
type Body = Record<string, unknown> & { id: string };

let herald: HeraldProcess;
const receivers: ScriptedReceiver[] = [];

const api = <T = Body>(method: string, path: string, body?: unknown, token = TOKEN) =>
  call<T>(herald.url, token, method, path, body);

async function receiver(respond?: Parameters<typeof startScriptedReceiver>[0]) {
  const r = await startScriptedReceiver(respond);
  receivers.push(r);
  return r;
}

async function project(name: string) {
  const res = await api('POST', '/api/v1/projects', { name });
  assert.equal(res.status, 201);
  return res.body.id;
}

async function endpoint(projectId: string, body: Record<string, unknown>) {
  const res = await api<Body & { secret: string }>('POST', `/api/v1/projects/${projectId}/endpoints`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function send(projectId: string, body: Record<string, unknown>) {
  const res = await api<Body & { deliveries: Body[] }>('POST', `/api/v1/projects/${projectId}/events`, body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body;
}

async function attempts(projectId: string, endpointId: string) {
  const res = await api<{ data: Body[] }>(
    'GET',
    `/api/v1/projects/${projectId}/endpoints/${endpointId}/attempts`,
  );
  assert.equal(res.status, 200);
  return res.body.data;
}

function verify(secret: string | string[], hit: Hit) {
  const headers = {
    'webhook-id': String(hit.headers['webhook-id']),
    'webhook-timestamp': String(hit.headers['webhook-timestamp']),
    'webhook-signature': String(hit.headers['webhook-signature']),
  };
  for (const s of [secret].flat()) new Webhook(s).verify(hit.body, headers);
}

const BACKENDS = heraldBackends(
  { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
  { postgresWorkers: 1 },
);

after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

for (const backend of BACKENDS) {
  describe(`core on ${backend.name}`, () => {
    before(async () => {
      herald = await backend.start();
    });

    describe('fan-out', () => {
      test('filters, dev/test routing and disabled endpoints; every request verifies with standardwebhooks', async () => {
        const p = await project('fan-out');
        const all = await receiver();
        const onlyA = await receiver();
        const dev = await receiver();
        const off = await receiver();
        const eAll = await endpoint(p, { url: `${all.url}/all` });
        const eA = await endpoint(p, { url: `${onlyA.url}/a`, eventTypes: ['a'] });
        const eDev = await endpoint(p, { url: `${dev.url}/dev`, dev: true });
        await endpoint(p, { url: `${off.url}/off`, active: false });

        const live = await send(p, { type: 'a', payload: { n: 1 } });
        assert.equal(live.deliveries.length, 3);
        await send(p, { type: 'b', payload: { n: 2 } });
        const testEvent = await send(p, { type: 'a', payload: { n: 3 }, test: true });
        assert.equal(testEvent.deliveries.length, 1, 'a test event goes to dev endpoints only');

        await all.waitFor(2);
        await onlyA.waitFor(1);
        await dev.waitFor(3);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(all.hits.length, 2);
        assert.equal(onlyA.hits.length, 1);
        assert.equal(off.hits.length, 0);
        assert.deepEqual(dev.hits.map((h) => JSON.parse(h.body).data.n).sort(), [1, 2, 3]);
        for (const h of all.hits) verify(eAll.secret, h);
        verify(eA.secret, onlyA.hits[0]!);
        for (const h of dev.hits) verify(eDev.secret, h);
        const first = JSON.parse(onlyA.hits[0]!.body);
        assert.deepEqual(first.data, { n: 1 });
        assert.equal(first.type, 'a');
        assert.equal(onlyA.hits[0]!.headers['webhook-id'], live.id);
      });

      test('an idempotency key returns the original event and creates no deliveries', async () => {
        const p = await project('idempotency');
        const r = await receiver();
        await endpoint(p, { url: r.url });
        const first = await send(p, { type: 'x', payload: {}, idempotencyKey: 'k-1' });
        const again = await api<Body & { deliveries: Body[] }>('POST', `/api/v1/projects/${p}/events`, {
          type: 'x',
          payload: { other: true },
          idempotencyKey: 'k-1',
        });
        assert.equal(again.status, 202);
        assert.equal(again.body.id, first.id);
        await r.waitFor(1);
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(r.hits.length, 1);
      });

      test('callbackUrl adds one ad-hoc delivery', async () => {
        const p = await project('callback');
        const r = await receiver();
        const ev = await send(p, { type: 'guildInvite', payload: { code: '1' }, callbackUrl: `${r.url}/cb` });
        assert.equal(ev.deliveries.length, 1);
        const [hit] = await r.waitFor(1);
        assert.equal(hit!.url, '/cb');
        assert.equal(hit!.headers['webhook-id'], ev.id);
      });

      test('callbackEnvelope raw: the callback carries the payload as sent (GamerSafer webhookUrl)', async () => {
        const p = await project('callback-raw');
        const r = await receiver();
        const payload = { event: 'guildInvite', payload: { code: '123456' }, player: { id: 'p1' } };
        const url = `${r.url}/gamersafer/secret-path`;
        const ev = await send(p, { type: 'guildInvite', payload, callbackUrl: url, callbackEnvelope: 'raw' });
        assert.equal(ev.callbackEnvelope, 'raw');
        const [hit] = await r.waitFor(1);
        assert.deepEqual(JSON.parse(hit!.body), payload);
      });
    });

    describe('retries and failures', () => {
      test('500, 500, 200 gives three attempts in history', async () => {
        const p = await project('retries');
        const r = await receiver((_h, n) => ({ status: n <= 2 ? 500 : 200 }));
        const ep = await endpoint(p, { url: r.url, retrySchedule: [0.05, 0.05, 0.05] });
        const ev = await send(p, { type: 'x', payload: { a: 1 } });
        await r.waitFor(3);
        const list = await eventually(async () => {
          const a = await attempts(p, ep.id);
          return a.length === 3 && a;
        });
        assert.deepEqual(
          list.map((a) => [a.number, a.outcome, (a.response as { status: number }).status]),
          [
            [3, 'succeeded', 200],
            [2, 'failed', 500],
            [1, 'failed', 500],
          ],
        );
        const ids = new Set(r.hits.map((h) => h.headers['webhook-id']));
        assert.deepEqual([...ids], [ev.id], 'webhook-id is the same across retries');
        const detail = await api<{ deliveries: Body[] }>('GET', `/api/v1/projects/${p}/events/${ev.id}`);
        assert.equal(detail.body.deliveries[0]!.status, 'succeeded');
        assert.equal(detail.body.deliveries[0]!.attempts, 3);
        const one = await api<Body>('GET', `/api/v1/projects/${p}/attempts/${list[2]!.id}`);
        assert.equal(one.status, 200);
        assert.equal((one.body.request as { method: string }).method, 'POST');
      });

      test('Retry-After on 429 is honoured over a shorter schedule', async () => {
        const p = await project('retry-after');
        const r = await receiver((_h, n) =>
          n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
        );
        await endpoint(p, { url: r.url, retrySchedule: [0.05] });
        await send(p, { type: 'x', payload: {} });
        const hits = await r.waitFor(2, 10_000);
        const gap = hits[1]!.at - hits[0]!.at;
        assert.ok(gap >= 1_900, `second try came ${gap} ms after the first`);
      });

      test('a hung receiver is recorded as a timeout', async () => {
        const p = await project('timeout');
        const r = await receiver((_h, n) => (n === 1 ? { hang: true } : { status: 200 }));
        const ep = await endpoint(p, { url: r.url, timeoutMs: 300, retrySchedule: [0.05] });
        await send(p, { type: 'x', payload: {} });
        const list = await eventually(async () => {
          const a = await attempts(p, ep.id);
          return a.length === 2 && a;
        });
        assert.equal((list[1]!.error as { kind: string }).kind, 'timeout');
        assert.equal(list[0]!.outcome, 'succeeded');
      });

      test('410 Gone disables the endpoint at once and is not retried', async () => {
        const p = await project('gone');
        const r = await receiver(() => ({ status: 410 }));
        const ep = await endpoint(p, { url: r.url, retrySchedule: [0.05, 0.05] });
        const ev = await send(p, { type: 'x', payload: {} });
        await r.waitFor(1);
        const got = await eventually(async () => {
          const e = await api<Body>('GET', `/api/v1/projects/${p}/endpoints/${ep.id}`);
          return e.body.status === 'disabled' && e.body;
        });
        assert.equal(got.disabledReason, 'gone');
        const detail = await api<{ deliveries: Body[] }>('GET', `/api/v1/projects/${p}/events/${ev.id}`);
        assert.equal(detail.body.deliveries[0]!.status, 'failed');
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(r.hits.length, 1);
      });

      test('10 consecutive failures disable the endpoint, park its work, and enable resumes it', async () => {
        const p = await project('auto-disable');
        let healthy = false;
        const r = await receiver(() => ({ status: healthy ? 200 : 500 }));
        const ep = await endpoint(p, { url: r.url, retrySchedule: Array(20).fill(0.02) });
        const ev = await send(p, { type: 'x', payload: {} });
        await eventually(async () => {
          const e = await api<Body>('GET', `/api/v1/projects/${p}/endpoints/${ep.id}`);
          return e.body.status === 'disabled';
        });
        assert.equal(r.hits.length, 10);
        const detail = await api<{ deliveries: Body[] }>('GET', `/api/v1/projects/${p}/events/${ev.id}`);
        assert.equal(detail.body.deliveries[0]!.status, 'parked');
        const ops = await api<{ data: Body[] }>('GET', `/api/v1/projects/${p}/operational-events`);
        assert.equal(ops.body.data[0]!.type, 'endpoint.disabled');

        healthy = true;
        const enabled = await api<Body>('POST', `/api/v1/projects/${p}/endpoints/${ep.id}/enable`);
        assert.equal(enabled.status, 200);
        assert.equal(enabled.body.resumed, 1);
        await r.waitFor(11);
        await eventually(async () => {
          const d = await api<{ deliveries: Body[] }>('GET', `/api/v1/projects/${p}/events/${ev.id}`);
          return d.body.deliveries[0]!.status === 'succeeded';
        });
      });
    });

    describe('manual levers', () => {
      test('retry one delivery resends it with the same webhook-id', async () => {
        const p = await project('manual-retry');
        const r = await receiver();
        await endpoint(p, { url: r.url });
        const ev = await send(p, { type: 'x', payload: {} });
        await r.waitFor(1);
        await eventually(async () => {
          const d = await api<{ deliveries: Body[] }>('GET', `/api/v1/projects/${p}/events/${ev.id}`);
          return d.body.deliveries[0]!.status === 'succeeded';
        });
        const retried = await api('POST', `/api/v1/projects/${p}/deliveries/${ev.deliveries[0]!.id}/retry`);
        assert.equal(retried.status, 202);
        const hits = await r.waitFor(2);
        assert.equal(hits[1]!.headers['webhook-id'], ev.id);
      });

      test('recover re-sends failed deliveries since a time', async () => {
        const p = await project('recover');
        let healthy = false;
        const r = await receiver(() => ({ status: healthy ? 200 : 503 }));
        const ep = await endpoint(p, { url: r.url, retrySchedule: [0.02] });
        const since = new Date(Date.now() - 1000).toISOString();
        const ev = await send(p, { type: 'x', payload: {} });
        await eventually(async () => {
          const d = await api<{ deliveries: Body[] }>('GET', `/api/v1/projects/${p}/events/${ev.id}`);
          return d.body.deliveries[0]!.status === 'failed';
        });
        healthy = true;
        const rec = await api<{ recovered: number }>(
          'POST',
          `/api/v1/projects/${p}/endpoints/${ep.id}/recover`,
          {
            since,
          },
        );
        assert.equal(rec.status, 202);
        assert.equal(rec.body.recovered, 1);
        await r.waitFor(3);
        assert.equal(r.hits[2]!.headers['webhook-id'], ev.id);
      });

      test('test send delivers the catalog example to that endpoint', async () => {
        const p = await project('test-send');
        const put = await api('PUT', '/api/v1/event-types/PurchasePlayerPurchase', {
          description: 'Player made a purchase',
          example: { player: { id: 7 }, productId: 'gems-100' },
        });
        assert.equal(put.status, 200);
        const r = await receiver();
        const ep = await endpoint(p, { url: r.url, eventTypes: ['PurchasePlayerPurchase'] });
        const res = await api<{ eventId: string }>(
          'POST',
          `/api/v1/projects/${p}/endpoints/${ep.id}/test`,
          {},
        );
        assert.equal(res.status, 202);
        const [hit] = await r.waitFor(1);
        const body = JSON.parse(hit!.body);
        assert.equal(body.type, 'PurchasePlayerPurchase');
        assert.deepEqual(body.data, { player: { id: 7 }, productId: 'gems-100' });
        verify(ep.secret, hit!);
      });

      test('during a rotation grace period both secrets sign and verify', async () => {
        const p = await project('rotation');
        const r = await receiver();
        const ep = await endpoint(p, { url: r.url });
        const rotated = await api<{ secret: string; secrets: { secret: string }[] }>(
          'POST',
          `/api/v1/projects/${p}/endpoints/${ep.id}/secret/rotate`,
          { graceSeconds: 3600 },
        );
        assert.equal(rotated.status, 200);
        assert.notEqual(rotated.body.secret, ep.secret);
        assert.equal(rotated.body.secrets.length, 2);
        await send(p, { type: 'x', payload: {} });
        const [hit] = await r.waitFor(1);
        assert.equal(String(hit!.headers['webhook-signature']).split(' ').length, 2);
        verify([ep.secret, rotated.body.secret], hit!);
        const now = await api<{ secret: string }>('GET', `/api/v1/projects/${p}/endpoints/${ep.id}/secret`);
        assert.equal(now.body.secret, rotated.body.secret);
      });
    });

    describe('access and bad input', () => {
      test('a project key sees only its project', async () => {
        const a = await project('tenant-a');
        const b = await project('tenant-b');
        const key = await api<{ key: string }>('POST', `/api/v1/projects/${a}/api-keys`, { name: 'backend' });
        assert.equal(key.status, 201);
        const k = key.body.key;
        assert.equal((await api('GET', `/api/v1/projects/${a}`, undefined, k)).status, 200);
        assert.equal((await api('GET', `/api/v1/projects/${b}`, undefined, k)).status, 404);
        assert.equal((await api('GET', `/api/v1/projects/${b}/endpoints`, undefined, k)).status, 404);
        assert.equal(
          (await api('POST', `/api/v1/projects/${b}/events`, { type: 'x', payload: {} }, k)).status,
          404,
        );
        assert.equal((await api('GET', '/api/v1/projects', undefined, k)).status, 403);
        assert.equal((await api('GET', `/api/v1/projects/${a}`, undefined, 'hk_wrong')).status, 401);
        const sent = await api('POST', `/api/v1/projects/${a}/events`, { type: 'x', payload: {} }, k);
        assert.equal(sent.status, 202);
      });

      test('malformed, incomplete and oversized requests get 4xx naming the problem', async () => {
        const p = await project('bad-input');
        const raw = async (body: string, type = 'application/json') => {
          const res = await fetch(`${herald.url}/api/v1/projects/${p}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
            body,
          });
          return {
            status: res.status,
            body: (await res.json()) as { error: { code: string; message: string } },
          };
        };
        const malformed = await raw('{"type": "x", ');
        assert.equal(malformed.status, 400);
        const missing = await raw('{"payload": {}}');
        assert.equal(missing.status, 400);
        assert.match(missing.body.error.message, /type/);
        const wrongType = await raw('{"type": 5, "payload": {}}');
        assert.equal(wrongType.status, 400);
        assert.match(wrongType.body.error.message, /type/);
        const huge = await raw(JSON.stringify({ type: 'x', payload: 'x'.repeat(1_100_000) }));
        assert.equal(huge.status, 413);
        const text = await raw('hello', 'text/plain');
        assert.equal(text.status, 415);
        const badUrl = await api('POST', `/api/v1/projects/${p}/endpoints`, { url: 'ftp://example' });
        assert.equal(badUrl.status, 400);
        const proto = await raw('{"type": "x", "payload": {"__proto__": {"polluted": true}}}');
        assert.ok(proto.status === 400 || proto.status === 202, `status ${proto.status}`);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        const health = await fetch(`${herald.url}/healthz`);
        assert.equal(health.status, 200);
      });
    });
  });
}
