/**
 * `herald endpoints recover` against an API whose recover runs out of time after each batch of one:
 * it prints that it stopped and the command that goes on, and that command, run as printed, does.
 * The API runs in this process (so the test can make its requests short), on a real port.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recoverBatch } from '../../src/store/recover-batch.ts';
import { ADMIN, type Body, startApi, type TestApi } from '../api/helpers.ts';
import { attemptRecord } from '../store/helpers.ts';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';

let api: TestApi;
let url: string;
const saved = { ...recoverBatch };
before(async () => {
  api = await startApi();
  url = await api.app.listen({ host: '127.0.0.1', port: 0 });
  Object.assign(recoverBatch, { rows: 1, requestMs: 0 });
});
after(async () => {
  Object.assign(recoverBatch, saved);
  await api.close();
});

test('a recover out of time prints the command that goes on; run as printed, it recovers the rest', async () => {
  const p: Body = await api.project('cli-recover');
  const e: Body = (
    await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://h.example/r' })
  ).body;
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const sent = (await api.call('POST', `/api/v1/projects/${p.id}/events`, { type: 't', payload: { n } }))
      .body;
    const found = (await api.store.getEvent(p.id, sent.id))!;
    const delivery = found.deliveries[0]!;
    const record = attemptRecord(delivery, found.event, {
      outcome: 'failed',
      status: 'failed',
      startedAt: Date.now(),
    });
    await api.store.recordAttempts([record], { now: Date.now(), failureThreshold: 100 });
    ids.push(delivery.id);
    // Apart in time, so that the first request stops after the first.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const first = await api.store.getDelivery(p.id, ids[0]!);
  const since = new Date(Date.now() - 60_000).toISOString();
  const until = new Date(Date.now() + 1_000).toISOString();
  const conn = ['--url', url, '--token', ADMIN, '--project', p.id];
  const run = await runHeraldInProcess([
    'endpoints',
    'recover',
    e.id,
    ...conn,
    '--since',
    since,
    '--until',
    until,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const goOn = `--since ${new Date(first!.createdAt).toISOString()} --until ${until}`;
  assert.equal(run.stdout, `${e.id}: 1 failed delivery due again\nmore to recover: run again with ${goOn}\n`);
  assert.equal((await api.store.getDelivery(p.id, ids[1]!))!.status, 'failed', 'the second is left');

  // The next, run as printed, takes the second; its batch was full, so it cannot know it was the
  // last until one more looks: the third finds nothing and says nothing more.
  const second = await api.store.getDelivery(p.id, ids[1]!);
  const rest = await runHeraldInProcess(['endpoints', 'recover', e.id, ...conn, ...goOn.split(' ')]);
  assert.equal(rest.code, 0, rest.stderr);
  const goOnAgain = `--since ${new Date(second!.createdAt).toISOString()} --until ${until}`;
  assert.equal(
    rest.stdout,
    `${e.id}: 1 failed delivery due again\nmore to recover: run again with ${goOnAgain}\n`,
  );
  const last = await runHeraldInProcess(['endpoints', 'recover', e.id, ...conn, ...goOnAgain.split(' ')]);
  assert.equal(last.stdout, `${e.id}: 0 failed deliveries due again\n`);
  for (const id of ids) assert.equal((await api.store.getDelivery(p.id, id))!.status, 'pending');
});
