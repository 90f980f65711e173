/**
 * HERALD_SHUTDOWN_DELAY_MS: behind a load balancer, a SIGTERM first turns /readyz to 503 and keeps
 * everything else going for the delay (new connections taken, events accepted and delivered), so the
 * balancer's probe takes the process out of rotation before its port closes; then the stop is as
 * without it (the default, 0: the port closes at once).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { api, startHerald, startReceiver } from './harness.ts';

const ADMIN = 'shutdown-delay-admin-token-0123456789';
const DELAY_MS = 2_000;

/** A GET on a connection of its own (no keep-alive pool): a closed port shows as ECONNREFUSED. */
function getOnNewConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('with HERALD_SHUTDOWN_DELAY_MS, a SIGTERM turns /readyz to 503 and the process serves and delivers through the delay, then stops', async () => {
  const receiver = await startReceiver();
  const herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_SHUTDOWN_DELAY_MS: String(DELAY_MS),
    },
  });
  try {
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'lb' });
    const endpoint = await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
      url: `${receiver.url}/hooks`,
    });
    assert.equal(endpoint.status, 201);

    const signalledAt = Date.now();
    process.kill(herald.pid, 'SIGTERM');
    // The signal's line says the delay has begun.
    for (let i = 0; i < 100 && !herald.output().includes('HERALD_SHUTDOWN_DELAY_MS'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(
      herald.output(),
      /"delayMs":2000,"msg":"shutdown: \/readyz answers 503; closing the server in 2000 ms/,
    );
    assert.deepEqual(await getOnNewConnection(`${herald.url}/readyz`), {
      status: 503,
      body: '{"status":"stopping"}',
    });
    assert.equal((await getOnNewConnection(`${herald.url}/healthz`)).status, 200, 'alive, only not ready');
    const event = await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.body.id}/events`, {
      type: 'player.joined',
      payload: { during: 'the delay' },
    });
    assert.equal(event.status, 202, 'an event sent during the delay is accepted');
    const [received] = await receiver.waitFor(1);
    assert.match(received?.body ?? '', /the delay/, 'and delivered');
    assert.ok(Date.now() - signalledAt < DELAY_MS, 'all of this within the delay');

    const exit = await herald.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - signalledAt >= DELAY_MS, `stopped after ${Date.now() - signalledAt} ms`);
  } finally {
    await herald.dispose();
    await receiver.close();
  }
});
