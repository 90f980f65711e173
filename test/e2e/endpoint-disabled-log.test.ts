/**
 * The line an auto-disabled endpoint logs says what happened to which endpoint, and what to do:
 * before, it was `endpoint disabled` with the ids and a reason code alone, nothing about its
 * deliveries being parked or how to get them sent.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { api as call, type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-endpoint-disabled-log-0123456789ab';
let herald: HeraldProcess | undefined;
let receiver: Receiver | undefined;
after(async () => {
  await herald?.dispose();
  await receiver?.close();
});

/** A loopback port nothing listens on. */
const refusedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

test('an endpoint disabled for 410 or for consecutive failures logs a warning naming it, its parked deliveries and how to enable it', async () => {
  receiver = await startReceiver();
  receiver.respondWith(410, 'gone');
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_POLL_INTERVAL_MS: '50',
      HERALD_RETRY_SCHEDULE: '0.1,0.1,0.1',
      HERALD_FAILURE_THRESHOLD: '2',
    },
  });
  const api = <T = { id: string }>(method: string, path: string, body?: unknown) =>
    call<T>(herald!.url, TOKEN, method, path, body);
  const project = (await api('POST', '/api/v1/projects', { name: 'disabled' })).body.id;
  const P = `/api/v1/projects/${project}`;
  const gone = (await api('POST', `${P}/endpoints`, { url: `${receiver.url}/gone` })).body.id;
  const refused = (await api('POST', `${P}/endpoints`, { url: `http://127.0.0.1:${await refusedPort()}/x` }))
    .body.id;
  for (let i = 0; i < 2; i++) {
    assert.equal((await api('POST', `${P}/events`, { type: 'a.b', payload: { i } })).status, 202);
  }
  const lineOf = (endpointId: string) => herald!.logLines().find((l) => l.endpointId === endpointId);
  await eventually(async () => Boolean(lineOf(gone) && lineOf(refused)), 10_000, 'both endpoints disabled');
  for (const [endpointId, reason, why] of [
    [gone, 'gone', /410/],
    [refused, 'consecutive_failures', /2 consecutive failed attempts/],
  ] as const) {
    const line = lineOf(endpointId)!;
    assert.equal(line.level, 40, JSON.stringify(line));
    assert.equal(line.projectId, project);
    assert.equal(line.reason, reason);
    const msg = String(line.msg);
    assert.match(msg, /^endpoint disabled/);
    assert.match(msg, why, msg);
    assert.match(msg, /parked/, msg);
    assert.match(msg, /endpoints enable/, msg);
  }
});
