/**
 * `herald serve` and the settings only the start can judge: a port another process holds ends the
 * start with one line naming HERALD_PORT, a host that is not this machine's (or no host at all)
 * one naming HERALD_HOST, and a split role on the embedded SQLite store, where no
 * other process can take the other half while it runs, is said at start. A generated admin token
 * is shown by the first start that listens, not by one the busy port refused.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, runHerald, startHerald } from './harness.ts';

describe('serve: settings the start judges', () => {
  let dataDir: string;
  let holder: Server;
  let port: number;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-start-settings-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => holder.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a port another process listens on: one line naming HERALD_PORT and the address, exit 1', async () => {
    const result = await runHerald(['serve'], {
      env: { HERALD_DATA_DIR: dataDir, HERALD_HOST: '127.0.0.1', HERALD_PORT: String(port) },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^herald: HERALD_PORT \\(--port\\): 127\\.0\\.0\\.1:${port} is already in use by another process`,
        'm',
      ),
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a first start refused for a busy port shows no admin token; the next start that listens shows it, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-token-busy-port-'));
    try {
      const env = { HERALD_DATA_DIR: dir, HERALD_HOST: '127.0.0.1', HERALD_PORT: String(port) };
      for (const attempt of [1, 2]) {
        const refused = await runHerald(['serve'], { env });
        assert.equal(refused.code, 1, refused.stderr);
        const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
        assert.ok(
          !`${refused.stdout}${refused.stderr}`.includes(token),
          `start ${attempt} printed the token`,
        );
        assert.doesNotMatch(refused.stderr, /shown only this once/);
        assert.match(
          refused.stderr,
          /^herald: the admin token generated in .*admin-token is not shown, as this start failed; the first start that serves shows it$/m,
        );
        assert.match(refused.stderr, /HERALD_PORT \(--port\): .* is already in use/);
      }
      const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();

      const serving = await startHerald({ dataDir: dir });
      try {
        // Written to stderr just after the ready line (stdout): wait for it.
        for (let i = 0; i < 100 && !serving.output().includes('shown only this once'); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(
          serving.output().includes(`(shown only this once):\n\n    ${token}\n`),
          `the token kept by the refused start is shown now:\n${serving.output()}`,
        );
        assert.equal((await api(serving.url, token, 'GET', '/api/v1/projects')).status, 200);
        assert.equal(existsSync(join(dir, 'admin-token.unshown')), false);
        const again = await serving.restart();
        try {
          await new Promise((r) => setTimeout(r, 300));
          assert.ok(!again.output().includes(token), 'shown once only');
          assert.equal((await api(again.url, token, 'GET', '/api/v1/projects')).status, 200);
        } finally {
          await again.dispose();
        }
      } finally {
        await serving.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 192.0.2.1 (TEST-NET-1, RFC 5737) is no machine's own: the bind fails here, no packet is sent.
  for (const port of ['0', '8099']) {
    test(`a host that is not this machine's (port ${port}): one line naming HERALD_HOST and the host, exit 1`, async () => {
      const result = await runHerald(['serve'], {
        env: { HERALD_DATA_DIR: dataDir, HERALD_HOST: '192.0.2.1', HERALD_PORT: port },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /^herald: HERALD_HOST \(--host\): 192\.0\.2\.1 is not an address of this machine/m,
      );
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  test('a host that is not a host name: one line naming HERALD_HOST, exit 1', async () => {
    const result = await runHerald(['serve'], {
      env: { HERALD_DATA_DIR: dataDir, HERALD_HOST: 'not a host' },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^herald: HERALD_HOST: expected a host name or IP address, got "not a host"$/m,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  // Not refused: the file can be served by a process of the other role after this one stops.
  const afterwards = {
    api: /none is delivered while this process runs.*sent once a --role all or worker process serves it after this one stops/,
    worker: /no new events come in until a --role all or api process serves it after this one stops/,
  };
  for (const role of ['api', 'worker'] as const) {
    test(`--role ${role} on SQLite starts, and warns that no other process can take the other half meanwhile`, async () => {
      const server = await startHerald({ args: ['--role', role] });
      try {
        const line = server.logLines().find((l) => l.level === 40 && l.role === role);
        assert.ok(line, server.output());
        assert.match(
          String(line.msg),
          new RegExp(`is ${role} on the embedded SQLite store: .*one process per SQLite file`),
        );
        assert.match(String(line.msg), afterwards[role]);
      } finally {
        await server.dispose();
      }
    });
  }

  test('--role all on SQLite says nothing of roles', async () => {
    const server = await startHerald();
    try {
      assert.equal(
        server.logLines().some((l) => String(l.msg).includes('HERALD_ROLE')),
        false,
      );
    } finally {
      await server.dispose();
    }
  });
});
