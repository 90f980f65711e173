/**
 * The window of a PostgreSQL key rotation while an `api` process is still on the old key: it still
 * creates endpoints, sealed with the old key (operations.md), after a process with the new key
 * resealed the others. A `worker` still on the old key then claims batches in which some secrets
 * open and some do not: it sends what it can sign, hands the rest back unattempted, and says so
 * once per 10 s. Its readiness flipped twice per such claim before, each flip a log line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyWebhook } from '@herald/verify';
import { api as call } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'pg-key-window-admin-token-0123456789';
const OLD_KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';
const NEW_KEY = 'MW7hcrHXcdYgqBXEDYxF1acwY44iwHFRpySug2Ujccg=';
const READINESS_LINE = /readyz answers 200|not ready: the endpoint secrets are sealed/;

const cluster = usePostgresProcesses(TOKEN);

/** Posts one event to `projectId` through the API at `url`; its id goes on `events`. */
async function postEvent(url: string, projectId: string, events: string[]): Promise<void> {
  const r = await call<{ id: string }>(url, TOKEN, 'POST', `/api/v1/projects/${projectId}/events`, {
    type: 't',
    payload: { n: events.length },
  });
  assert.equal(r.status, 202);
  events.push(r.body.id);
}
test('an old-key worker claiming secrets of both keys stays ready, logs once per 10 s, and loses nothing', async () => {
  const url = await cluster.pg.createDatabase();
  const oldWorker = await cluster.start(url, 'worker', { HERALD_ENCRYPTION_KEY: OLD_KEY });
  const oldApi = await cluster.start(url, 'api', { HERALD_ENCRYPTION_KEY: OLD_KEY });
  const project = await call<{ id: string }>(oldApi.url, TOKEN, 'POST', '/api/v1/projects', { name: 'w' });
  const endpoints = `/api/v1/projects/${project.body.id}/endpoints`;
  const a = await call<{ id: string; secret: string }>(oldApi.url, TOKEN, 'POST', endpoints, {
    url: `${cluster.receiver.url}/a`,
  });
  assert.equal(a.status, 201);
  const newApi = await cluster.start(url, 'api', {
    HERALD_ENCRYPTION_KEY: NEW_KEY,
    HERALD_ENCRYPTION_KEY_PREVIOUS: OLD_KEY,
  });
  // Sealed with the old key after the reseal: the old worker opens it, and only it.
  const b = await call<{ id: string; secret: string }>(oldApi.url, TOKEN, 'POST', endpoints, {
    url: `${cluster.receiver.url}/b`,
  });
  assert.equal(b.status, 201, 'the old api still creates endpoints');

  const events: string[] = [];
  const flips: number[] = [];
  const windowStart = Date.now();
  while (Date.now() - windowStart < 8_000) {
    await postEvent(newApi.url, project.body.id, events);
    const status = (await fetch(`${oldWorker.url}/readyz`)).status;
    if (flips.at(-1) !== status) flips.push(status);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const hits = (path: string) => cluster.receiver.hits.filter((h) => h.url === path);
  assert.ok(hits('/b').length > 0, 'the old worker sent what it could sign');
  assert.equal(hits('/a').length, 0, 'nothing sent that it could not sign');
  const readiness = oldWorker.logLines().filter((l) => READINESS_LINE.test(String(l.msg)));
  assert.ok(readiness.length <= 2, `${readiness.length} readiness lines in 8 s`);
  assert.deepEqual(flips, [200], 'it delivers: ready throughout');
  const handedBack = oldWorker.logLines().filter((l) => /handed them back/.test(String(l.msg)));
  assert.ok(handedBack.length >= 1 && handedBack.length <= 2, `${handedBack.length} hand-back lines in 8 s`);
  const attempts = await call<{ data: unknown[] }>(
    newApi.url,
    TOKEN,
    'GET',
    `/api/v1/projects/${project.body.id}/events/${events[0]}/attempts`,
  );
  assert.equal(attempts.body.data.length, 1, "only b's attempt: a's was handed back unattempted");

  // A worker with the new key delivers the rest; every signature verifies with its endpoint's secret.
  await cluster.start(url, 'worker', {
    HERALD_ENCRYPTION_KEY: NEW_KEY,
    HERALD_ENCRYPTION_KEY_PREVIOUS: OLD_KEY,
  });
  await eventually(
    async () => hits('/a').length >= events.length && hits('/b').length >= events.length,
    30_000,
  );
  for (const [path, secret] of [
    ['/a', a.body.secret],
    ['/b', b.body.secret],
  ] as const) {
    const ids = new Set<string>();
    for (const hit of hits(path)) {
      verifyWebhook({ scheme: 'standard', payload: hit.body, headers: hit.headers, secret });
      ids.add(String(hit.headers['webhook-id']));
    }
    assert.deepEqual([...ids].sort(), [...events].sort(), `every event reached ${path}`);
  }
});

/** Deliveries a process claimed so far (herald_claimed_deliveries_total). */
async function claimedBy(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('herald_claimed_deliveries_total '));
  assert.ok(line, 'herald_claimed_deliveries_total in /metrics');
  return Number(line.split(' ')[1]);
}

test('a worker delivering when the secrets are sealed again does not race the new-key worker under load', async () => {
  const url = await cluster.pg.createDatabase();
  const api = await cluster.start(url, 'api', { HERALD_ENCRYPTION_KEY: OLD_KEY });
  const oldWorker = await cluster.start(url, 'worker', { HERALD_ENCRYPTION_KEY: OLD_KEY });
  const project = await call<{ id: string }>(api.url, TOKEN, 'POST', '/api/v1/projects', { name: 'race' });
  const endpoint = await call<{ id: string; secret: string }>(
    api.url,
    TOKEN,
    'POST',
    `/api/v1/projects/${project.body.id}/endpoints`,
    { url: `${cluster.receiver.url}/race` },
  );
  assert.equal(endpoint.status, 201);
  const events: string[] = [];
  let posting = true;
  const poster = (async () => {
    while (posting) {
      await postEvent(api.url, project.body.id, events);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const hits = () => cluster.receiver.hits.filter((h) => h.url === '/race');
  await eventually(async () => hits().length >= 20, 15_000, 'the old worker delivering');
  // The rotation's first restart: a worker with the new key reseals while the old one delivers.
  const newWorker = await cluster.start(url, 'worker', {
    HERALD_ENCRYPTION_KEY: NEW_KEY,
    HERALD_ENCRYPTION_KEY_PREVIOUS: OLD_KEY,
  });
  const before = { old: await claimedBy(oldWorker.url), current: await claimedBy(newWorker.url) };
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  // It opened secrets a moment ago, so its 10 s pause has not begun (operations.md): it tries
  // again each second, not at every event accepted (50 a second here). Each claim takes work the
  // new-key worker would have sent, and hands it back: before, it took more than that worker did.
  const old = (await claimedBy(oldWorker.url)) - before.old;
  const current = (await claimedBy(newWorker.url)) - before.current;
  assert.ok(old * 3 < current, `in 6 s the old-key worker claimed ${old}, the new-key one ${current}`);
  posting = false;
  await poster;
  await eventually(
    async () => new Set(hits().map((h) => h.headers['webhook-id'])).size >= events.length,
    30_000,
  );
  for (const hit of hits()) {
    verifyWebhook({
      scheme: 'standard',
      payload: hit.body,
      headers: hit.headers,
      secret: endpoint.body.secret,
    });
  }
  const attempts = oldWorker.logLines().filter((l) => /cannot open/.test(String(l.msg)));
  assert.ok(attempts.length >= 1, 'it said it handed claims back');
});
