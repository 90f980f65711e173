/**
 * PostgreSQL stopped and started under a running API and worker: the outage is logged as throttled
 * warnings, and once each process reaches the database again it says so in one info line, with how
 * long the outage lasted and how many requests (store calls, for the worker) failed meanwhile.
 * Without that line an operator reading the log could not tell an outage over from one going on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertDatabaseUnavailable } from './database-unavailable-answers.ts';
import { api as call, type HeraldProcess } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';

const TOKEN = 'e2e-outage-recovery-token-0123456789abcdef';
const cluster = usePostgresProcesses(TOKEN);

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

test('after PostgreSQL is back, the API and the worker each log one info line with the outage length and the failures', async () => {
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

test('an API process only scraped while PostgreSQL is down says, once it is back, that its backlog reads go through again', async () => {
  const database = await cluster.pg.createDatabase();
  const herald = await cluster.start(database, 'api');
  const from = herald.logLines().length;
  const storeUp = async () => {
    const text = await (await fetch(`${herald.url}/metrics`)).text();
    return /^herald_store_up (\d)/m.exec(text)?.[1];
  };
  assert.equal(await storeUp(), '1');

  const downAt = Date.now();
  await cluster.pg.down();
  // A scrape a second (a read serves the scrapes of the next second): each read fails.
  for (let i = 0; i < 3; i++) {
    await sleep(1_100);
    assert.equal(await storeUp(), '0');
  }
  await cluster.pg.up();
  const deadline = Date.now() + 20_000;
  while ((await storeUp()) !== '1') {
    if (Date.now() > deadline) assert.fail('the backlog cannot be read again');
    await sleep(200);
  }

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
  const back = herald
    .logLines()
    .slice(from)
    .filter((l) => BACK.test(String(l.msg)));
  assert.equal(back.length, 1, JSON.stringify(back));
});
