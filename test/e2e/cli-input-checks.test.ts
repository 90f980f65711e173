/**
 * Mistakes on the `herald` command line, and answers that are not Herald's, end with one line naming
 * the flag (exit 1), never a stack trace nor a silent change of meaning; tenant-controlled text is
 * printed with its control characters made visible. Real CLI processes against a real `herald serve`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { type HeraldProcess, runHerald, startHerald } from './harness.ts';

const ADMIN = 'cli-input-checks-token-0123456789';

const herald = (args: string[]) => runHerald(args, { killAfterMs: 20_000 });

/** One line on stderr starting with `herald: `, no stack trace. */
function oneLine(stderr: string): void {
  assert.match(stderr, /^herald: [^\n]+\n$/, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('herald CLI: input mistakes and foreign answers', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  test('--types with an empty item is refused naming --types (it used to remove the filter: every type)', async () => {
    const project = await client.createProject({ name: 'types' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    for (const types of [',,', ' , ', 'a,,b', 'a,']) {
      const created = await herald([
        'endpoints',
        'create',
        'https://hooks.example/x',
        ...conn,
        '--types',
        types,
      ]);
      assert.equal(created.code, 1, created.stdout);
      oneLine(created.stderr);
      assert.match(
        created.stderr,
        /^herald: --types: item \d of .* is empty: .*for every type, leave out --types/,
      );
    }
    assert.equal((await client.listEndpoints(project.id)).data.length, 0);

    const endpoint = await client.createEndpoint(project.id, {
      url: 'https://hooks.example/y',
      eventTypes: ['player.paid'],
    });
    const updated = await herald(['endpoints', 'update', endpoint.id, ...conn, '--types', ' , ']);
    assert.equal(updated.code, 1, updated.stdout);
    oneLine(updated.stderr);
    assert.match(updated.stderr, /^herald: --types: .*for every type, give --all-types/);
    assert.deepEqual((await client.getEndpoint(project.id, endpoint.id)).eventTypes, ['player.paid']);

    const listened = await herald([
      'listen',
      ...conn,
      '--forward-to',
      'http://127.0.0.1:9/hook',
      '--types',
      ',',
    ]);
    assert.equal(listened.code, 1, listened.stdout);
    oneLine(listened.stderr);
    assert.match(listened.stderr, /^herald: --types: /);
  });
});
