/**
 * `herald events send --data @FILE` with a body over the server's HERALD_MAX_BODY_BYTES: Herald
 * answers 413 and closes the connection while the CLI is still writing, and the answer is often
 * lost with it (write EPIPE). Real CLI processes against a real `herald serve` with a 1 KiB limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { type HeraldProcess, runHerald, startHerald } from './harness.ts';

const ADMIN = 'cli-cut-off-token-0123456789abcdef';

describe('herald CLI: a body Herald refuses before reading it', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let dir: string;
  before(async () => {
    server = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_MAX_BODY_BYTES: '1024' },
    });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    dir = mkdtempSync(join(tmpdir(), 'herald-cut-off-'));
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('says the 413 naming --data, or that Herald closed the connection before it had it all and stored nothing; never "may have been stored"', async (t) => {
    const project = await client.createProject({ name: 'cut off' });
    const file = join(dir, 'large.json');
    // 32 MiB: written for long enough that Herald's close usually comes first.
    writeFileSync(file, JSON.stringify({ name: 'n'.repeat(32 * 1024 * 1024) }));
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const said: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runHerald(['events', 'send', 'player.paid', ...conn, '--data', `@${file}`], {
        killAfterMs: 60_000,
      });
      assert.equal(run.code, 1, run.stdout);
      assert.doesNotMatch(run.stderr, /may have been stored/);
      if (run.stderr.startsWith('herald: 413 ')) {
        assert.equal(
          run.stderr,
          'herald: 413 HERALD_ERR_BODY_TOO_LARGE: --data (body): larger than the limit of 1024 bytes (HERALD_MAX_BODY_BYTES); send less in it, or have the operator raise the limit\n',
        );
        said.push('413');
        continue;
      }
      const at = `Herald at ${server.url} \\(from --url\\)`;
      assert.match(
        run.stderr,
        new RegExp(
          `^herald: ${at} closed the connection before it had the whole request \\(write EPIPE; POST /api/v1/projects/${project.id}/events, [12] tr(?:y|ies)\\), so it stored nothing: ` +
            'Herald does so when it refuses a request before reading its body, such as one over its HERALD_MAX_BODY_BYTES \\(1 MiB unless its operator set it\\), and its answer was lost with the connection\\n$',
        ),
      );
      said.push('cut off');
    }
    t.diagnostic(said.join('; '));
    assert.equal((await client.listEvents(project.id)).data.length, 0);
  });
});
