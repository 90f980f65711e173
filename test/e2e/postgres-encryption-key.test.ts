/**
 * PostgreSQL has no key file: every process is given HERALD_ENCRYPTION_KEY. One started without it,
 * on a database whose endpoint secrets are sealed, is refused with the reason, instead of starting
 * healthy-looking and failing every delivery it claims.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { api as call } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const TOKEN = 'pg-key-admin-token-0123456789abcdef';
const KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';

const cluster = usePostgresProcesses(TOKEN, { HERALD_ENCRYPTION_KEY: KEY });

/** Runs `herald ARGS` to completion; HERALD_* of the parent never leak in. */
function herald(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HERALD_PORT: '0', HERALD_ADMIN_TOKEN: TOKEN, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    // A process that starts instead of being refused is stopped: the test then fails on its code.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

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
