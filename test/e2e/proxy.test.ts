/**
 * `herald serve` with HERALD_PROXY_URL, against a real CONNECT proxy and receiver on loopback:
 * deliveries go through the proxy with its credentials, which never reach the logs; while the proxy
 * refuses Herald (407), deliveries wait with no attempt recorded and their endpoint is not blamed,
 * one log line says why, and once the proxy takes Herald again they go out.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startConnectProxy } from '../support/connect-proxy.ts';
import { api as call, type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-proxy-0123456789abc';
const PASSWORD = 'pr0xy-pa55word';
const AUTHORIZATION = `Basic ${Buffer.from(`herald:${PASSWORD}`).toString('base64')}`;
type Body = Record<string, unknown> & { id: string };

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

test('deliveries go through the proxy; while it refuses Herald they wait unblamed, then go out', async () => {
  let refusing = false;
  const proxy = await startConnectProxy((req) =>
    refusing || req.headers['proxy-authorization'] !== AUTHORIZATION ? 407 : null,
  );
  closers.push(() => proxy.close());
  const receiver: Receiver = await startReceiver();
  closers.push(() => receiver.close());
  const herald: HeraldProcess = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_POLL_INTERVAL_MS: '50',
      HERALD_FAILURE_THRESHOLD: '2',
      HERALD_PROXY_URL: `http://herald:${PASSWORD}@127.0.0.1:${proxy.port}`,
    },
  });
  closers.push(() => herald.dispose());
  const api = <T = Body>(method: string, path: string, body?: unknown) =>
    call<T>(herald.url, TOKEN, method, path, body);

  const project = (await api('POST', '/api/v1/projects', { name: 'proxied' })).body.id;
  const endpoint = await api('POST', `/api/v1/projects/${project}/endpoints`, {
    url: `${receiver.url}/hook`,
  });
  assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
  const send = async (n: number) =>
    assert.equal(
      (await api('POST', `/api/v1/projects/${project}/events`, { type: 'player.paid', payload: { n } }))
        .status,
      202,
    );

  const attemptsPath = `/api/v1/projects/${project}/endpoints/${endpoint.body.id}/attempts`;
  const attempts = async () => (await api<{ data: { outcome: string }[] }>('GET', attemptsPath)).body.data;
  await send(1);
  // Recorded, so its response is through the tunnel before the proxy drops it below.
  await eventually(async () => (await attempts()).length === 1, 8_000, 'the first attempt');
  assert.equal((await attempts())[0]!.outcome, 'succeeded');
  assert.deepEqual(
    proxy.connects.map((c) => c.authority),
    [`127.0.0.1:${new URL(receiver.url).port}`],
  );

  // The proxy refuses Herald: more than the failure threshold of deliveries wait, none is attempted.
  refusing = true;
  // The open tunnel would carry them: new connections are what the proxy refuses.
  proxy.dropConnections();
  // Herald sees its connection closed before the next delivery (else that one would go out on a
  // dead socket and fail as `reset`, the receiver's failure, as without a proxy).
  await eventually(async () => proxy.open === 0, 5_000, 'the tunnel closed');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const tunnels = proxy.connects.length;
  for (const n of [2, 3, 4]) await send(n);
  await eventually(
    async () => proxy.connects.length > tunnels + 3,
    8_000,
    'Herald tries the proxy again and again',
  );
  assert.equal((await attempts()).length, 1, 'no attempt recorded while the proxy refuses');
  const held = await api('GET', `/api/v1/projects/${project}/endpoints/${endpoint.body.id}`);
  assert.equal(held.body.status, 'active', 'the endpoint is not blamed for the proxy');
  assert.equal(held.body.consecutiveFailures, 0);

  const metrics = await (await fetch(`${herald.url}/metrics`)).text();
  const failures = Number(/^herald_proxy_failures_total (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(failures >= 3, `herald_proxy_failures_total ${failures}: counted on the dispatcher's thread`);

  refusing = false;
  await receiver.waitFor(4, 10_000);
  assert.deepEqual(receiver.requests.map((r) => JSON.parse(r.body).data.n).sort(), [1, 2, 3, 4]);

  const lines = herald.logLines();
  const refusals = lines.filter((l) =>
    String(l.msg).includes('cannot go through the proxy (HERALD_PROXY_URL)'),
  );
  assert.ok(refusals.length >= 1 && refusals.length <= 2, `${refusals.length} lines, at most one per 10 s`);
  assert.match(String(refusals[0]!.msg), /answered 407/);
  assert.ok(
    lines.some((l) => String(l.msg).includes(`tunnelled through the proxy http://127.0.0.1:${proxy.port}`)),
    'the start names the proxy',
  );
  assert.ok(!herald.output().includes(PASSWORD), 'the proxy password is never logged');
});
