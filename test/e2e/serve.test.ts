import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { api, type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-0123456789abcdef';

describe('herald serve (real process)', () => {
  const running: HeraldProcess[] = [];
  const receivers: Receiver[] = [];
  after(async () => {
    for (const herald of running.reverse()) await herald.dispose();
    for (const receiver of receivers) await receiver.close();
  });

  test('starts, delivers an event end to end, and exits cleanly on SIGTERM', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const herald = await startHerald({
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
    });
    running.push(herald);

    // Exactly one ready line, and nothing printed the admin token (it was given, not generated).
    const readyLines = herald.logLines().filter((line) => String(line.msg).startsWith('herald ready on'));
    assert.equal(readyLines.length, 1);
    assert.match(String(readyLines[0]?.msg), /\(role all, sqlite:.*herald\.db\)$/);
    assert.ok(!herald.output().includes(ADMIN), 'the admin token never reaches the output');

    const health = await fetch(`${herald.url}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${herald.url}/readyz`);
    assert.equal(ready.status, 200);

    const unauthorized = await api(herald.url, 'wrong-token-wrong-token', 'GET', '/api/v1/projects');
    assert.equal(unauthorized.status, 401);

    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'E2E' });
    assert.equal(project.status, 201);
    const endpoint = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${project.body.id}/endpoints`,
      { url: `${receiver.url}/hooks`, retrySchedule: [0.2] },
    );
    assert.equal(endpoint.status, 201);
    const event = await api<{ id: string; deliveries: { endpointId: string }[] }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${project.body.id}/events`,
      { type: 'slot.submitted', payload: { slotId: 'slot_1' } },
    );
    assert.equal(event.status, 202);
    assert.equal(event.body.deliveries.length, 1);

    const [received] = await receiver.waitFor(1);
    assert.equal(received?.method, 'POST');
    assert.equal(received?.url, '/hooks');
    assert.equal(received?.headers['webhook-id'], event.body.id);
    assert.deepEqual(JSON.parse(received?.body ?? '').data, { slotId: 'slot_1' });

    // The attempt is recorded shortly after the response (group commit): poll for it.
    const attempts = await eventually(async () => {
      const list = await api<{ data: { outcome: string; response: { status: number } | null }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${project.body.id}/events/${event.body.id}/attempts`,
      );
      return list.body.data.length > 0 ? list.body.data : null;
    });
    assert.equal(attempts[0]?.outcome, 'succeeded');
    assert.equal(attempts[0]?.response?.status, 200);

    // The dispatcher thread reports its counts in batches (every 100 ms): poll for them too.
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${herald.url}/metrics`)).text();
      return /herald_deliveries_total\{outcome="succeeded"\} 1/.test(text) ? text : null;
    });
    assert.match(metrics, /herald_deliveries_total\{outcome="succeeded"\} 1/);
    assert.match(metrics, /herald_deliveries_pending 0/);
    // The dispatcher thread's heap, which the main thread's nodejs_heap_* metrics leave out.
    const used = /^herald_dispatcher_thread_heap_used_bytes (\d+)$/m.exec(metrics);
    const total = /^herald_dispatcher_thread_heap_total_bytes (\d+)$/m.exec(metrics);
    assert.ok(used && total && Number(used[1]) > 1_000_000 && Number(total[1]) >= Number(used[1]), metrics);

    const exit = await herald.kill('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    // node:sqlite's ExperimentalWarning is dropped on both threads (the dispatcher's loads it too).
    assert.ok(!herald.output().includes('ExperimentalWarning'), herald.output());
  });

  test('a generated admin token is printed once and survives a restart', async () => {
    const first = await startHerald();
    running.push(first);
    // Shown once listening: on stderr, just after the ready line on stdout.
    for (let i = 0; i < 100 && !/\n {4}[A-Za-z0-9_-]{43}\n/.test(first.output()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const match = /\n {4}([A-Za-z0-9_-]{43})\n/.exec(first.output());
    assert.ok(match?.[1], `the token is printed on the first start:\n${first.output()}`);
    const token = match[1];
    assert.equal(readFileSync(join(first.dataDir, 'admin-token'), 'utf8').trim(), token);
    const created = await api<{ id: string }>(first.url, token, 'POST', '/api/v1/projects', { name: 'kept' });
    assert.equal(created.status, 201);
    const tokenLogged = first.logLines().some((line) => JSON.stringify(line).includes(token));
    assert.ok(!tokenLogged, 'the token is on the console once, never in a log line');

    const second = await first.restart();
    running.push(second);
    assert.ok(!second.output().includes(token), 'not printed again');
    const fetched = await api<{ name: string }>(
      second.url,
      token,
      'GET',
      `/api/v1/projects/${created.body.id}`,
    );
    assert.equal(fetched.status, 200, 'same token, same database after the restart');
    assert.equal(fetched.body.name, 'kept');
  });

  test('the test harness: the data directory outlives restarts and goes with the last dispose', async () => {
    const first = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
    const second = await first.restart();
    const third = await second.restart();
    assert.equal(third.dataDir, first.dataDir);
    assert.ok(existsSync(join(third.dataDir, 'herald.db')), 'the restarted process uses the same database');
    await third.dispose();
    assert.equal(existsSync(first.dataDir), false, 'deleted after two restarts as well');
  });

  test('a bad setting stops the start with one line naming it', async () => {
    await assert.rejects(startHerald({ env: { HERALD_PORT: 'eighty' } }), (error: Error) => {
      assert.match(error.message, /exited before it was ready \(code 1/);
      assert.match(error.message, /herald: HERALD_PORT: expected a whole number, got "eighty"/);
      return true;
    });
  });
});

/** Polls `check` until it returns a value (not null) or 10 s pass. */
async function eventually<T>(check: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
