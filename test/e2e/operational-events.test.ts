/**
 * Issue 7 item 8: operational events reach the operator webhook (HERALD_OPERATOR_WEBHOOK_URL) as
 * signed webhooks, and are visible in the API. A real `herald serve`, real receivers on loopback,
 * signatures checked by the `standardwebhooks` package.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { eventually, type Hit, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-operator-token-0123456789abcdef';
const OPERATOR_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** The customer's receiver takes its credential in the URL, as GamerSafer's do. */
const URL_TOKEN = 'customer-url-token-7f3a9c1e5b';
type Body = Record<string, unknown> & { id: string };

let herald: HeraldProcess;
let operator: ScriptedReceiver;
let customer: ScriptedReceiver;
let healthy = false;

const api = <T = Body>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);

/** The operator receiver's requests, verified and parsed: a bad signature throws. */
function operatorEvents(): { type: string; data: Record<string, unknown>; hit: Hit }[] {
  const wh = new Webhook(OPERATOR_SECRET);
  return operator.hits.map((hit) => {
    const parsed = wh.verify(hit.body, {
      'webhook-id': String(hit.headers['webhook-id']),
      'webhook-timestamp': String(hit.headers['webhook-timestamp']),
      'webhook-signature': String(hit.headers['webhook-signature']),
    }) as { type: string; data: Record<string, unknown> };
    return { type: parsed.type, data: parsed.data, hit };
  });
}

before(async () => {
  operator = await startScriptedReceiver();
  customer = await startScriptedReceiver(() => ({ status: healthy ? 200 : 500 }));
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_OPERATOR_WEBHOOK_URL: `${operator.url}/herald-ops`,
      HERALD_OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
      HERALD_FAILURE_THRESHOLD: '3',
      HERALD_RETRY_SCHEDULE: '0.2',
      HERALD_RETRY_JITTER: '0',
    },
  });
});
after(async () => {
  await herald?.dispose();
  await operator?.close();
  await customer?.close();
});

test('endpoint.disabled, delivery.exhausted and endpoint.recovered reach the operator, signed, and show in the API', async () => {
  const project = await api('POST', '/api/v1/projects', { name: 'Space Raiders', uid: 'space-raiders' });
  assert.equal(project.status, 201);
  const projectId = project.body.id;
  const endpoint = await api('POST', `/api/v1/projects/${projectId}/endpoints`, {
    url: `${customer.url}/hooks/${URL_TOKEN}?token=${URL_TOKEN}`,
  });
  assert.equal(endpoint.status, 201);
  const endpointId = endpoint.body.id;

  // Event 1: two failed attempts (schedule 0.2 s) → failed: delivery.exhausted, 2 failures so far.
  const first = await api<Body & { deliveries: Body[] }>('POST', `/api/v1/projects/${projectId}/events`, {
    type: 'slot.submitted',
    payload: { n: 1 },
  });
  assert.equal(first.status, 202);
  await eventually(
    async () => operatorEvents().some((e) => e.type === 'delivery.exhausted'),
    20_000,
    'delivery.exhausted at the operator',
  );
  // Event 2: the third consecutive failure disables the endpoint and parks the delivery.
  const second = await api<Body & { deliveries: Body[] }>('POST', `/api/v1/projects/${projectId}/events`, {
    type: 'slot.submitted',
    payload: { n: 2 },
  });
  await eventually(
    async () => operatorEvents().some((e) => e.type === 'endpoint.disabled'),
    20_000,
    'endpoint.disabled at the operator',
  );
  const exhausted = operatorEvents().find((e) => e.type === 'delivery.exhausted')!;
  assert.equal(exhausted.hit.url, '/herald-ops');
  assert.equal(exhausted.data.projectId, projectId);
  assert.equal(exhausted.data.projectUid, 'space-raiders');
  assert.equal(exhausted.data.endpointId, endpointId);
  assert.equal(exhausted.data.deliveryId, first.body.deliveries[0]!.id);
  assert.equal(exhausted.data.eventId, first.body.id);
  assert.equal(exhausted.data.reason, 'retries_exhausted');
  assert.equal(exhausted.data.attempts, 2);
  assert.equal(exhausted.data.lastStatus, 500);
  // The operator webhook names the receiver by its origin: the operator's chat or incident tool
  // gets no customer's credential (its endpoint id leads to the whole URL, in the API).
  assert.equal(exhausted.data.url, `${customer.url}/…`);
  for (const hit of operator.hits) assert.ok(!hit.body.includes(URL_TOKEN), hit.body);
  assert.ok(!Number.isNaN(Date.parse(String(exhausted.data.at))));
  const disabled = operatorEvents().find((e) => e.type === 'endpoint.disabled')!;
  assert.equal(disabled.data.endpointId, endpointId);
  assert.equal(disabled.data.reason, 'consecutive_failures');
  assert.equal(disabled.data.consecutiveFailures, 3);
  assert.equal(disabled.data.parked, 1);

  // Enabling it: the parked delivery goes out, and the operator hears endpoint.recovered.
  healthy = true;
  const enabled = await api('POST', `/api/v1/projects/${projectId}/endpoints/${endpointId}/enable`);
  assert.equal(enabled.status, 200);
  await eventually(
    async () => operatorEvents().some((e) => e.type === 'endpoint.recovered'),
    20_000,
    'endpoint.recovered at the operator',
  );
  const recovered = operatorEvents().find((e) => e.type === 'endpoint.recovered')!;
  assert.equal(recovered.data.endpointId, endpointId);
  assert.equal(recovered.data.resumed, 1);
  assert.equal(recovered.data.reason, 'enabled');
  await eventually(
    async () => {
      const e = await api<{ deliveries: Body[] }>(
        'GET',
        `/api/v1/projects/${projectId}/events/${second.body.id}`,
      );
      return e.body.deliveries[0]?.status === 'succeeded';
    },
    20_000,
    'the parked delivery delivered',
  );

  // Each operational event was sent once (webhook-ids differ, nothing repeated).
  const ids = operatorEvents().map((e) => e.hit.headers['webhook-id']);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, 3);

  // The project's API lists them; the operator project keeps them as ordinary events.
  const ops = await api<{ data: Body[] }>('GET', `/api/v1/projects/${projectId}/operational-events`);
  assert.equal(ops.status, 200);
  assert.deepEqual(
    ops.body.data.map((o) => o.type),
    ['endpoint.recovered', 'endpoint.disabled', 'delivery.exhausted'],
  );
  // The project's own list has its whole URL.
  assert.equal(
    (ops.body.data[2]!.data as { url: string }).url,
    `${customer.url}/hooks/${URL_TOKEN}?token=${URL_TOKEN}`,
  );
  const opsProject = await api<{ data: Body[] }>('GET', '/api/v1/projects/herald-operator/events');
  assert.equal(opsProject.status, 200);
  assert.deepEqual(opsProject.body.data.map((e) => e.type).sort(), [
    'delivery.exhausted',
    'endpoint.disabled',
    'endpoint.recovered',
  ]);
  const opsEndpoints = await api<{ data: Body[] }>('GET', '/api/v1/projects/herald-operator/endpoints');
  assert.equal(opsEndpoints.body.data.length, 1);
  assert.equal(opsEndpoints.body.data[0]!.url, `${operator.url}/herald-ops`);
  const secret = await api<{ secret: string }>(
    'GET',
    `/api/v1/projects/herald-operator/endpoints/${opsEndpoints.body.data[0]!.id}/secret`,
  );
  assert.equal(secret.body.secret, OPERATOR_SECRET);
});
