/**
 * PostgreSQL stopped and started under a running API and worker: the outage is logged as throttled
 * warnings, and once each process reaches the database again it says so in one info line, with how
 * long the outage lasted and how many requests (store calls, for the worker) failed meanwhile.
 * Without that line an operator reading the log could not tell an outage over from one going on.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertDatabaseUnavailable } from './database-unavailable-answers.ts';
import { api as call, type HeraldProcess } from './harness.ts';
import { type StartedPostgresProcesses, startPostgresProcesses } from './postgres-processes.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-outage-recovery-token-0123456789abcdef';

/** A PostgreSQL, a receiver and the processes the test starts, all of its own, stopped after it. */
async function ownCluster(t: TestContext): Promise<StartedPostgresProcesses> {
  const cluster = await startPostgresProcesses(TOKEN);
  t.after(() => cluster.stop());
  return cluster;
}

const BACK = /the database can be reached again/;

/** The process's line saying the database is back (polled until `deadline`). */
async function backLine(p: HeraldProcess, from: number, deadline: number): Promise<Record<string, unknown>> {
  for (;;) {
    const line = p
      .logLines()
      .slice(from)
      .find((l) => BACK.test(String(l.msg)));
    if (line) return line;
    if (Date.now() > deadline)
      assert.fail(`no line saying the database is back: ${JSON.stringify(p.logLines().slice(from))}`);
    await sleep(100);
  }
}

/** The process's `herald_store_up` as its /metrics says it. */
async function storeUp(p: HeraldProcess): Promise<string | undefined> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  return /^herald_store_up (\d)/m.exec(text)?.[1];
}

/**
 * PostgreSQL stopped under `p`, scraped a second apart three times (a read serves the scrapes of the
 * next second: each read fails), then started again until `p`'s scrape reads the backlog again.
 * When it went down.
 */
async function scrapedThroughOutage(cluster: StartedPostgresProcesses, p: HeraldProcess): Promise<number> {
  assert.equal(await storeUp(p), '1');
  const downAt = Date.now();
  await cluster.pg.down();
  for (let i = 0; i < 3; i++) {
    await sleep(1_100);
    assert.equal(await storeUp(p), '0');
  }
  await cluster.pg.up();
  const deadline = Date.now() + 20_000;
  while ((await storeUp(p)) !== '1') {
    if (Date.now() > deadline) assert.fail('the backlog cannot be read again');
    await sleep(200);
  }
  return downAt;
}

/** The process's lines saying the database is back, from log line `from` on. */
const backLines = (p: HeraldProcess, from: number) =>
  p
    .logLines()
    .slice(from)
    .filter((l) => BACK.test(String(l.msg)));

// At once: each test stops and starts a PostgreSQL of its own, and most of each is waiting (the
// outage, a stop's grace, a lease running out), not work.
describe('PostgreSQL stopped and started under running processes', { concurrency: true }, () => {
  test('after PostgreSQL is back, the API and the worker each log one info line with the outage length and the failures', async (t) => {
    const cluster = await ownCluster(t);
    const database = await cluster.pg.createDatabase();
    const herald = await cluster.start(database, 'api');
    const worker = await cluster.start(database, 'worker');
    const project = await call<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', {
      name: 'outage',
    });
    assert.equal(project.status, 201);
    const events = `/api/v1/projects/${project.body.id}/events`;
    const before = { api: herald.logLines().length, worker: worker.logLines().length };

    const downAt = Date.now();
    await cluster.pg.down();
    await assertDatabaseUnavailable(herald.url, TOKEN, events, 5);
    await sleep(2_500); // the worker's claims fail once a second meanwhile
    await cluster.pg.up();
    const upAt = Date.now();
    // Calls succeed again by themselves (a new connection), and the API's first one says so.
    const deadline = Date.now() + 20_000;
    for (;;) {
      if ((await call(herald.url, TOKEN, 'GET', events)).status === 200) break;
      if (Date.now() > deadline) assert.fail('the API did not recover');
      await sleep(200);
    }

    for (const [name, p, from] of [
      ['api', herald, before.api],
      ['worker', worker, before.worker],
    ] as const) {
      const line = await backLine(p, from, Date.now() + 20_000);
      assert.equal(line.level, 30, `${name}: ${JSON.stringify(line)}`);
      const ms = Number(line.outageMs);
      assert.ok(
        ms >= 2_500 && ms <= Date.now() - downAt,
        `${name}: outageMs ${ms} (down for ${upAt - downAt} ms)`,
      );
      const failed = Number(name === 'api' ? line.refused : line.failedCalls);
      assert.ok(failed >= (name === 'api' ? 5 : 2), `${name}: ${JSON.stringify(line)}`);
      const later = p.logLines().slice(from);
      assert.equal(later.filter((l) => BACK.test(String(l.msg))).length, 1, `${name}: one line`);
      assert.ok(
        later.every((l) => Number(l.level) < 50),
        `${name}: nothing at error level: ${JSON.stringify(later).slice(0, 2000)}`,
      );
    }
  });

  test('an API process only scraped while PostgreSQL is down says, once it is back, that its backlog reads go through again', async (t) => {
    const cluster = await ownCluster(t);
    const database = await cluster.pg.createDatabase();
    const herald = await cluster.start(database, 'api');
    const from = herald.logLines().length;
    const downAt = await scrapedThroughOutage(cluster, herald);

    const later = herald.logLines().slice(from);
    const warned = later.filter((l) => /^metrics: cannot read the delivery backlog/.test(String(l.msg)));
    assert.ok(warned.length >= 1, JSON.stringify(later));
    const line = await backLine(herald, from, Date.now() + 5_000);
    assert.match(String(line.msg), /^metrics: /);
    assert.equal(line.level, 30, JSON.stringify(line));
    assert.ok(
      Number(line.outageMs) >= 2_000 && Number(line.outageMs) <= Date.now() - downAt,
      JSON.stringify(line),
    );
    assert.ok(Number(line.failedReads) >= 3, JSON.stringify(line));
    const back = backLines(herald, from);
    assert.equal(back.length, 1, JSON.stringify(back));
  });

  test('a worker scraped for metrics while PostgreSQL is down says once that it is back, with its store calls and its reads counted', async (t) => {
    // A worker's dispatcher runs on its main thread by default (HERALD_DELIVERY_THREAD), beside
    // its /metrics: until 2026-12-07 each wrote a "reached again" line of its own for one outage.
    const cluster = await ownCluster(t);
    const database = await cluster.pg.createDatabase();
    const worker = await cluster.start(database, 'worker');
    const from = worker.logLines().length;
    // Its claims fail meanwhile too.
    await scrapedThroughOutage(cluster, worker);
    const line = await backLine(worker, from, Date.now() + 5_000);
    assert.equal(line.level, 30, JSON.stringify(line));
    assert.ok(Number(line.failedReads) >= 3, JSON.stringify(line));
    assert.ok(Number(line.failedCalls) >= 1, JSON.stringify(line));
    assert.match(
      String(line.msg),
      /^the database can be reached again \(it could not be for \d+ s; meanwhile \d+ store calls of the dispatcher failed and \d+ reads of the delivery backlog \(metrics\) failed\)$/,
    );
    // Both parts waited for the same connection: a second line would have come with the first.
    const back = backLines(worker, from);
    assert.equal(back.length, 1, JSON.stringify(back));
  });

  test('a worker stopped while PostgreSQL is down says how many attempts it could not record, whose deliveries are sent again', async (t) => {
    const cluster = await ownCluster(t);
    const database = await cluster.pg.createDatabase();
    const herald = await cluster.start(database, 'api');
    // A short lease (the shortest the 2 s timeout allows), so that its claims come back soon.
    const worker = await cluster.start(database, 'worker', {
      HERALD_DELIVERY_MAX_TIMEOUT_MS: '2000',
      HERALD_LEASE_MS: '8000',
    });
    const project = await call<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', {
      name: 'stop',
    });
    assert.equal(project.status, 201);
    const base = `/api/v1/projects/${project.body.id}`;
    const path = `/stop-in-outage-${Date.now()}`;
    cluster.receiver.script(() => ({ status: 200, delayMs: 1_500 }));
    const endpoint = await call(herald.url, TOKEN, 'POST', `${base}/endpoints`, {
      url: `${cluster.receiver.url}${path}`,
    });
    assert.equal(endpoint.status, 201);
    const sent = await call(herald.url, TOKEN, 'POST', `${base}/events/batch`, {
      events: Array.from({ length: 5 }, (_, i) => ({ type: 'order.created', payload: { i } })),
    });
    assert.equal(sent.status, 202);
    await eventually(
      async () => cluster.receiver.hits.filter((h) => h.url === path).length === 5,
      20_000,
      'five sent',
    );

    // The receiver answers the five while the database is down: their records cannot be written.
    await cluster.pg.down();
    const from = worker.logLines().length;
    const exit = await worker.kill('SIGTERM');
    await cluster.pg.up();
    assert.equal(exit.code, 0);
    const lines = worker.logLines().slice(from);
    const said = lines.filter((l) => /records could not be written before the stop/.test(String(l.msg)));
    assert.equal(said.length, 1, JSON.stringify(lines));
    assert.equal(said[0]!.level, 40);
    assert.match(
      String(said[0]!.msg),
      /^dispatcher: 5 attempts ended but their records could not be written/,
    );

    // Nothing is lost: another worker sends the five again once the lease has run out.
    cluster.receiver.script(() => ({ status: 200 }));
    await cluster.start(database, 'worker');
    const again = await eventually(
      async () => {
        const hits = cluster.receiver.hits.filter((h) => h.url === path);
        return hits.length >= 10 && hits;
      },
      30_000,
      'the five sent again',
    );
    const byId = new Map<string, number>();
    for (const h of again)
      byId.set(String(h.headers['webhook-id']), (byId.get(String(h.headers['webhook-id'])) ?? 0) + 1);
    assert.deepEqual([...byId.values()], [2, 2, 2, 2, 2]);
  });
});
