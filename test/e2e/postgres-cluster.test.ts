/**
 * Several `herald serve` processes on one PostgreSQL database: one API process and two workers.
 * Every event arrives exactly once; a worker killed with SIGKILL loses nothing (duplicates only
 * from its in-flight work, counted and printed); a PostgreSQL restart mid-run loses nothing and
 * the processes recover by themselves; the last worker stopped with SIGTERM mid-stream exits 0 and
 * hands back what it had not started, so the next worker sends it at once and exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api as call } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-cluster-token-0123456789abcdef';
const BATCH = 100;
/** w2's lease; step 4 gives the rest 10 s less than it to arrive (60 s and 50 s with the default). */
const W2_LEASE_MS = 30_000;

const cluster = usePostgresProcesses(TOKEN);
const start = cluster.start;

/** Sends `count` events through the batch API; returns the acknowledged ids. */
async function sendEvents(
  apiUrl: string,
  projectId: string,
  count: number,
  onProgress?: (n: number) => Promise<void>,
) {
  const ids: string[] = [];
  for (let sent = 0; sent < count; sent += BATCH) {
    const res = await call<{ data: { id: string }[] }>(
      apiUrl,
      TOKEN,
      'POST',
      `/api/v1/projects/${projectId}/events/batch`,
      {
        events: Array.from({ length: BATCH }, (_, i) => ({
          type: 'slot.submitted',
          payload: { n: sent + i },
        })),
      },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(...res.body.data.map((e) => e.id));
    await onProgress?.(ids.length);
  }
  return ids;
}

function arrivals(ids: string[]) {
  const wanted = new Set(ids);
  const seen = new Map<string, number>();
  for (const h of cluster.receiver.hits) {
    const id = String(h.headers['webhook-id']);
    if (wanted.has(id)) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const missing = ids.filter((id) => !seen.has(id)).length;
  const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
  return { missing, duplicates };
}

test('one API and two workers on PostgreSQL: exactly once, then a worker SIGKILLed and PostgreSQL restarted lose nothing', async () => {
  const { pg, receiver } = cluster;
  const url = await pg.createDatabase();
  const apiProcess = await start(url, 'api');
  // What w1 had claimed when it is SIGKILLed, and w2's sends whose records it could not write
  // around the PostgreSQL restart, come back when their lease ends: 60 s by default, most of this
  // test's time when there were any. Shorter leases, with attempts cut at the default 5 s: a claim
  // waits at most half its lease and then 5 s, so it is never sent after its lease. Step 4 waits
  // less than w2's lease by the same margin as with the default, so a hand-back on SIGTERM is
  // still told from a lease running out.
  const w1 = await start(url, 'worker', { HERALD_DELIVERY_MAX_TIMEOUT_MS: '5000', HERALD_LEASE_MS: '15000' });
  const w2 = await start(url, 'worker', {
    HERALD_DELIVERY_MAX_TIMEOUT_MS: '5000',
    HERALD_LEASE_MS: String(W2_LEASE_MS),
  });

  const project = await call<{ id: string }>(apiProcess.url, TOKEN, 'POST', '/api/v1/projects', {
    name: 'cluster',
  });
  const endpoint = await call(
    apiProcess.url,
    TOKEN,
    'POST',
    `/api/v1/projects/${project.body.id}/endpoints`,
    {
      url: `${receiver.url}/hook`,
      retrySchedule: [0.5, 1, 2, 4, 8],
    },
  );
  assert.equal(endpoint.status, 201);

  // 1. 3,000 events, both workers alive: every one arrives exactly once.
  const first = await sendEvents(apiProcess.url, project.body.id, 3_000);
  await eventually(async () => arrivals(first).missing === 0, 120_000, '3,000 events to arrive');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(arrivals(first), { missing: 0, duplicates: 0 });
  const byWorker = new Set(receiver.hits.map((h) => h.headers['user-agent']));
  assert.ok(byWorker.size >= 1);

  // 2. 3,000 more; one worker is SIGKILLed mid-stream. Nothing is lost; its claims come back after the lease.
  const hitsBefore = receiver.hits.length;
  let killed = false;
  const second = await sendEvents(apiProcess.url, project.body.id, 3_000, async () => {
    if (!killed && receiver.hits.length - hitsBefore > 500) {
      killed = true;
      await w1.kill('SIGKILL');
    }
  });
  if (!killed) await w1.kill('SIGKILL');
  await eventually(async () => arrivals(second).missing === 0, 150_000, 'the second 3,000 after the SIGKILL');
  const afterKill = arrivals(second);
  assert.equal(afterKill.missing, 0);

  // 3. PostgreSQL goes down and comes back mid-run: the processes recover by themselves.
  const third: string[] = [];
  third.push(...(await sendEvents(apiProcess.url, project.body.id, 1_000)));
  await pg.down();
  await new Promise((r) => setTimeout(r, 1_000));
  await pg.up();
  await eventually(
    async () => {
      const ready = await fetch(`${apiProcess.url}/readyz`).catch(() => null);
      return ready?.status === 200;
    },
    60_000,
    'the API to be ready again',
  );
  third.push(...(await sendEvents(apiProcess.url, project.body.id, 1_000)));
  await eventually(
    async () => arrivals(third).missing === 0,
    150_000,
    'events sent around the PostgreSQL restart',
  );
  // 4. The last worker (its dispatcher on the main thread) stops on SIGTERM mid-stream: it exits 0,
  // having recorded what it sent and released what it had not started, so a new worker sends the
  // rest at once (not after its lease) and nothing arrives twice.
  const hitsBeforeStop = receiver.hits.length;
  let stopped = false;
  let exit: Awaited<ReturnType<typeof w2.kill>> | null = null;
  const fourth = await sendEvents(apiProcess.url, project.body.id, 2_000, async () => {
    if (!stopped && receiver.hits.length - hitsBeforeStop > 300) {
      stopped = true;
      exit = await w2.kill('SIGTERM');
    }
  });
  if (!stopped) exit = await w2.kill('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, `worker exit after SIGTERM\n${w2.output().slice(-2000)}`);
  const restartedAt = Date.now();
  await start(url, 'worker');
  await eventually(
    async () => arrivals(fourth).missing === 0,
    W2_LEASE_MS - 10_000,
    'the rest after a SIGTERM, within the lease',
  );
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(arrivals(fourth), { missing: 0, duplicates: 0 });

  console.log(
    `postgres-cluster: 3000 exactly once; after SIGKILL of a worker ${afterKill.duplicates} duplicates of 3000; ` +
      `around a PostgreSQL restart ${arrivals(third).duplicates} duplicates of 2000; nothing lost; ` +
      `after SIGTERM of the last worker 2000 exactly once, the rest sent ${Date.now() - restartedAt} ms after a new worker started`,
  );
});
