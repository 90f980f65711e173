/**
 * PostgreSQL has no key file: every process is given HERALD_ENCRYPTION_KEY. One started without it,
 * on a database whose endpoint secrets are sealed, is refused with the reason, instead of starting
 * healthy-looking and failing every delivery it claims.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api as call, runHerald } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';

const TOKEN = 'pg-key-admin-token-0123456789abcdef';
const KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';

const cluster = usePostgresProcesses(TOKEN, { HERALD_ENCRYPTION_KEY: KEY });

/** Runs `herald ARGS`; one that starts instead of being refused is killed after 20 s, and fails on its code. */
const herald = (args: string[], env: Record<string, string>) =>
  runHerald(args, { env: { HERALD_PORT: '0', HERALD_ADMIN_TOKEN: TOKEN, ...env }, killAfterMs: 20_000 });

test('a process without HERALD_ENCRYPTION_KEY on a database of sealed secrets is refused, naming the setting', async () => {
  const url = await cluster.pg.createDatabase();
  const keyed = await cluster.start(url, 'api');
  const project = await call<{ id: string }>(keyed.url, TOKEN, 'POST', '/api/v1/projects', { name: 'k' });
  const endpoint = await call(keyed.url, TOKEN, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
    url: 'https://receiver.example/hook',
  });
  assert.equal(endpoint.status, 201);
  for (const role of ['worker', 'api']) {
    const refused = await herald(['serve', '--role', role], { HERALD_DATABASE_URL: url });
    assert.equal(refused.code, 1, `${role}: ${refused.stderr}`);
    assert.match(
      refused.stderr,
      /HERALD_ENCRYPTION_KEY: is unset, but the database holds endpoint secrets sealed with an encryption key/,
    );
  }
  // With the key it starts (and a database without sealed secrets needs none: the keyed process's
  // is the first start above).
  const worker = await cluster.start(url, 'worker');
  assert.ok(worker.url);
});
