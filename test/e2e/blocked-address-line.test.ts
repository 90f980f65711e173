/**
 * `herald serve` (its dispatcher on its own thread, the default, and on the main one) logs why the address guard refused
 * a delivery, which the attempt does not say. An endpoint on a loopback receiver is saved while
 * HERALD_ALLOW_NETWORKS opens it; Herald restarts without the setting, and its deliveries there are
 * refused: a warn line names the address, the reason and the entry that would open it. Loopback
 * only; the receiver must get nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../support/wait-until.ts';
import { api, startHerald, startReceiver } from './harness.ts';

const ADMIN = 'blocked-line-admin-token-0123456789abcdef';

for (const thread of ['true', 'false']) {
  test(`a refused delivery's address, reason and setting are in the log, not in its attempt (HERALD_DELIVERY_THREAD=${thread})`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-blocked-line-'));
    const receiver = await startReceiver();
    const env = { HERALD_ADMIN_TOKEN: ADMIN, HERALD_RETRY_SCHEDULE: '3600', HERALD_DELIVERY_THREAD: thread };
    try {
      const opened = await startHerald({ dataDir, env: { ...env, HERALD_ALLOW_NETWORKS: '127.0.0.1/32' } });
      const call = (base: string, method: string, path: string, body?: unknown) =>
        api<{ id: string; data: Record<string, unknown>[] }>(base, ADMIN, method, `/api/v1${path}`, body);
      const project = (await call(opened.url, 'POST', '/projects', { name: 'p' })).body;
      const endpoint = (
        await call(opened.url, 'POST', `/projects/${project.id}/endpoints`, { url: `${receiver.url}/hook` })
      ).body;
      await opened.kill('SIGTERM');

      const herald = await startHerald({ dataDir, env });
      try {
        const sent = await call(herald.url, 'POST', `/projects/${project.id}/events`, {
          type: 'a.b',
          payload: {},
        });
        assert.equal(sent.status, 202);
        const refusal = () => herald.logLines().find((l) => String(l.msg).startsWith('delivery refused:'));
        for (let i = 0; i < 200 && !refusal(); i++) await sleep(25);
        const line = refusal();
        assert.ok(line, herald.output());
        assert.equal(line.level, 40);
        assert.equal(line.host, '127.0.0.1');
        assert.equal(line.address, '127.0.0.1');
        assert.equal(line.reason, 'loopback');
        assert.match(
          String(line.msg),
          /because it is a loopback address; .*HERALD_ALLOW_NETWORKS=127\.0\.0\.1\/32/,
        );

        // The line is logged as the sender refuses; the attempt is recorded after it, in the next
        // record batch: read until it is listed (read at once, it was not there yet under load).
        let attempts: Record<string, unknown>[] = [];
        await until('the refused attempt to be listed', async () => {
          attempts = (
            await call(herald.url, 'GET', `/projects/${project.id}/endpoints/${endpoint.id}/attempts`)
          ).body.data;
          return attempts.length > 0;
        });
        assert.equal(attempts.length, 1, JSON.stringify(attempts));
        assert.deepEqual((attempts[0] as { error: unknown }).error, {
          kind: 'blocked',
          message:
            'address 127.0.0.1 is not allowed (private, loopback or reserved; see HERALD_ALLOW_NETWORKS)',
        });
        assert.equal(receiver.requests.length, 0);
      } finally {
        await herald.kill('SIGTERM');
      }
    } finally {
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
