/**
 * The embedded default's key file (`<data dir>/encryption-key`) is written only for a database
 * that holds no secret sealed with another key: a database sealed with HERALD_ENCRYPTION_KEY and
 * started without it is refused before any key file exists, so the next start is refused the same
 * way instead of taking a wrong key for the right one.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { api, runHerald, startHerald } from './harness.ts';

const ADMIN = 'key-file-admin-token-0123456789abcdef';
const KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Runs `herald ARGS` to completion; HERALD_* of the parent never leak in (harness.ts runHerald). */
const herald = (args: string[], env: Record<string, string>) =>
  runHerald(args, { env: { HERALD_PORT: '0', HERALD_ADMIN_TOKEN: ADMIN, ...env } });

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-key-file-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project named `name` with an endpoint whose secret is SECRET; the endpoint's API path. */
async function endpointWithSecret(url: string, name: string): Promise<string> {
  const project = await api<{ id: string }>(url, ADMIN, 'POST', '/api/v1/projects', { name });
  const endpoint = await api<{ id: string }>(
    url,
    ADMIN,
    'POST',
    `/api/v1/projects/${project.body.id}/endpoints`,
    {
      url: 'https://receiver.example/hook',
      secret: SECRET,
    },
  );
  assert.equal(endpoint.status, 201);
  return `/api/v1/projects/${project.body.id}/endpoints/${endpoint.body.id}`;
}

describe('the generated encryption key file', () => {
  test('a database sealed with HERALD_ENCRYPTION_KEY, started without it, is refused twice and gets no key file; with the key it starts', async () => {
    const dir = dataDir();
    const keyFile = join(dir, 'encryption-key');
    let server = await startHerald({
      dataDir: dir,
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ENCRYPTION_KEY: KEY },
    });
    let endpointPath: string;
    try {
      endpointPath = await endpointWithSecret(server.url, 'k');
    } finally {
      await server.kill('SIGTERM');
    }
    assert.equal(existsSync(keyFile), false, 'HERALD_ENCRYPTION_KEY set: no key file');

    for (const attempt of [1, 2]) {
      const refused = await herald(['serve'], { HERALD_DATA_DIR: dir });
      assert.equal(refused.code, 1, `start ${attempt}: ${refused.stderr}`);
      assert.match(
        refused.stderr,
        /HERALD_ENCRYPTION_KEY: is unset and .*encryption-key does not exist, but .* holds endpoint secrets sealed with an encryption key/,
      );
      assert.equal(existsSync(keyFile), false, `start ${attempt} wrote a key file`);
    }

    server = await startHerald({
      dataDir: dir,
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ENCRYPTION_KEY: KEY },
    });
    try {
      const secret = await api<{ secret: string }>(server.url, ADMIN, 'GET', `${endpointPath}/secret`);
      assert.equal(secret.body.secret, SECRET);
    } finally {
      await server.dispose();
    }
  });

  test('a database made by herald migrate (no secrets, no key file) gets its key file at the first serve', async () => {
    const dir = dataDir();
    const migrated = await herald(['migrate'], { HERALD_DATA_DIR: dir });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(existsSync(join(dir, 'encryption-key')), false);
    let server = await startHerald({ dataDir: dir, env: { HERALD_ADMIN_TOKEN: ADMIN } });
    try {
      assert.equal(existsSync(join(dir, 'encryption-key')), true);
      const project = await api<{ id: string }>(server.url, ADMIN, 'POST', '/api/v1/projects', { name: 'm' });
      const endpoint = await api<{ id: string }>(
        server.url,
        ADMIN,
        'POST',
        `/api/v1/projects/${project.body.id}/endpoints`,
        { url: 'https://receiver.example/hook', secret: SECRET },
      );
      server = await server.restart();
      const secret = await api<{ secret: string }>(
        server.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${project.body.id}/endpoints/${endpoint.body.id}/secret`,
      );
      assert.equal(secret.body.secret, SECRET);
    } finally {
      await server.dispose();
    }
  });

  test("a database sealed with its key file, started with a new HERALD_ENCRYPTION_KEY alone, is refused naming the file; with the file's key as previous it starts", async () => {
    const dir = dataDir();
    let server = await startHerald({ dataDir: dir, env: { HERALD_ADMIN_TOKEN: ADMIN } });
    let endpointPath: string;
    try {
      endpointPath = await endpointWithSecret(server.url, 'f');
    } finally {
      await server.kill('SIGTERM');
    }
    const fileKey = readFileSync(join(dir, 'encryption-key'), 'utf8').trim();
    const refused = await herald(['serve'], { HERALD_DATA_DIR: dir, HERALD_ENCRYPTION_KEY: KEY });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /HERALD_ENCRYPTION_KEY: does not open the endpoint secrets .*encryption-key holds another key, probably the one they were sealed with: set HERALD_ENCRYPTION_KEY_PREVIOUS to it/,
    );
    assert.ok(!refused.stderr.includes(fileKey) && !refused.stderr.includes(KEY), 'no key in the message');

    server = await startHerald({
      dataDir: dir,
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ENCRYPTION_KEY: KEY, HERALD_ENCRYPTION_KEY_PREVIOUS: fileKey },
    });
    try {
      const secret = await api<{ secret: string }>(server.url, ADMIN, 'GET', `${endpointPath}/secret`);
      assert.equal(secret.body.secret, SECRET);
    } finally {
      await server.dispose();
    }
  });
});
