/**
 * An attempt record whose write PostgreSQL committed but whose COMMIT's answer never reached Herald
 * (the connection cut while committing): the record queue writes it again once it can, finds it
 * stored, and counts what that first write did: the attempt in herald_deliveries_total, and the
 * endpoint it disabled in herald_endpoints_disabled_total and the warning line. A real `herald
 * serve` on a real PostgreSQL, through a loopback TCP proxy that cuts the answer of the COMMIT of
 * the transaction storing the attempt.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { commitAnswerCuttingProxy } from './commit-answer-cutting-proxy.ts';
import { api, type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';

const TOKEN = 'e2e-record-commit-lost-token-0123456789';
/** The statement of a record write's transaction that stores its attempts (postgres/attempt-records.ts). */
const ATTEMPT_INSERT = 'INSERT INTO attempts (';

let postgres: TestPostgres;
let proxy: Awaited<ReturnType<typeof commitAnswerCuttingProxy>>;
let herald: HeraldProcess;
let receiver: Receiver;
before(async () => {
  postgres = await withPostgres();
  const url = new URL(await postgres.createDatabase());
  proxy = await commitAnswerCuttingProxy(Number(url.port), ATTEMPT_INSERT);
  url.port = String(proxy.port);
  receiver = await startReceiver();
  receiver.respondWith(500, 'no');
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: url.toString(),
      HERALD_FAILURE_THRESHOLD: '1',
    },
  });
});
after(async () => {
  await herald?.dispose();
  await receiver?.close();
  await proxy?.close();
  await postgres?.stop();
});

const metric = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

test('a record stored by a commit whose answer was lost is counted once, and the endpoint it disabled too', async () => {
  const call = <T>(method: string, path: string, body?: unknown) =>
    api<T>(herald.url, TOKEN, method, path, body);
  const project = (await call<{ id: string }>('POST', '/api/v1/projects', { name: 'commit-lost' })).body.id;
  const p = `/api/v1/projects/${project}`;
  const endpoint = (await call<{ id: string }>('POST', `${p}/endpoints`, { url: `${receiver.url}/hook` }))
    .body.id;
  proxy.state.cutNextCommit = true;
  assert.equal((await call('POST', `${p}/events`, { type: 'order.created', payload: {} })).status, 202);
  await receiver.waitFor(1, 20_000);
  // The failure disabled the endpoint (threshold 1) in the write whose answer was lost.
  let text = '';
  for (let i = 0; ; i++) {
    text = await fetch(`${herald.url}/metrics`).then((r) => r.text());
    const attempts = await call<{ data: unknown[] }>('GET', `${p}/endpoints/${endpoint}/attempts`);
    if (
      proxy.state.cut === 1 &&
      attempts.body.data?.length === 1 &&
      (await call<{ status: string }>('GET', `${p}/endpoints/${endpoint}`)).body.status === 'disabled'
    ) {
      // Written again once the connection is back (0.25 s and later): given its time to.
      if (metric(text, 'herald_deliveries_total{outcome="parked"}') === 1 || i > 100) break;
    }
    assert.ok(i < 200, `the write was stored (cut ${proxy.state.cut})`);
    await sleep(100);
  }
  assert.equal(proxy.state.cut, 1, 'the first write committed and its answer was cut');
  assert.equal(metric(text, 'herald_deliveries_total{outcome="parked"}'), 1, 'the attempt is counted');
  assert.equal(
    metric(text, 'herald_endpoints_disabled_total{reason="failures"}'),
    1,
    'the disable is counted',
  );
  const warned = herald.logLines().filter((l) => String(l.msg).startsWith('endpoint disabled:'));
  assert.equal(warned.length, 1, 'one warning line');
  assert.equal(warned[0]!.endpointId, endpoint);
  assert.equal(receiver.requests.length, 1, 'the delivery was sent once');
});
