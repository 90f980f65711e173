/**
 * A receiver with its own rate limit: it answers `429` with `Retry-After` to what goes over it.
 * That receiver is healthy and asking to be sent less; a real `herald serve` must wait as told and
 * deliver everything, not count each 429 towards HERALD_FAILURE_THRESHOLD and disable it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';
import { eventually, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-receiver-429-token-0123456789ab';
const EVENTS = 40;
/** The receiver takes this many a second and answers 429 to the rest. */
const RECEIVER_PER_SECOND = 10;

let herald: HeraldProcess | undefined;
let receiver: ScriptedReceiver | undefined;
after(async () => {
  await herald?.kill();
  await receiver?.close();
});

test('a receiver answering 429 with Retry-After to what is over its own limit gets every event and stays active', async () => {
  let windowStart = 0;
  let taken = 0;
  const accepted = new Set<string>();
  receiver = await startScriptedReceiver((hit) => {
    if (hit.at - windowStart >= 1_000) {
      windowStart = hit.at;
      taken = 0;
    }
    if (taken >= RECEIVER_PER_SECOND) return { status: 429, headers: { 'retry-after': '1' } };
    taken++;
    accepted.add(String(hit.headers['webhook-id']));
    return { status: 200 };
  });
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
  const url = herald.url;
  const project = await api<{ id: string }>(url, TOKEN, 'POST', '/api/v1/projects', { name: 'p' });
  const endpoint = await api<{ id: string }>(
    url,
    TOKEN,
    'POST',
    `/api/v1/projects/${project.body.id}/endpoints`,
    {
      url: `${receiver.url}/hooks`,
      // Enough tries for every event to find a free second of the receiver's.
      retrySchedule: Array.from({ length: 20 }, () => 1),
    },
  );
  assert.equal(endpoint.status, 201);
  const batch = await api(url, TOKEN, 'POST', `/api/v1/projects/${project.body.id}/events/batch`, {
    events: Array.from({ length: EVENTS }, (_, i) => ({ type: 'order.created', payload: { i } })),
  });
  assert.equal(batch.status, 202);
  const path = `/api/v1/projects/${project.body.id}/endpoints/${endpoint.body.id}`;
  await eventually(
    async () => {
      const ep = await api<{ status: string }>(url, TOKEN, 'GET', path);
      assert.equal(ep.body.status, 'active', 'the endpoint was disabled');
      return accepted.size >= EVENTS;
    },
    60_000,
    'every event accepted by the receiver',
  );
  const tooMany = receiver.hits.length - accepted.size;
  assert.ok(tooMany >= 10, `the receiver answered 429 ${tooMany} times: the test needs at least 10`);
});
