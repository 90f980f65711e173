/**
 * `herald projects api-key --json` prints the API's answer (the key with its id, prefix, scope,
 * name), as `portal-links create --json` does for a link: a script that makes a key for a service
 * keeps its id, to revoke it later, without matching first characters in `projects api-keys`.
 * The CLI run in this process (run-herald-in-process.ts) against a real `herald serve`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'cli-api-key-json-token-0123456789';

describe('herald projects api-key --json', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    server = await startHerald({ args: ['--role', 'api'], env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  test("prints the API's answer: the key and its id, which revoke-api-key takes", async () => {
    const project = await client.createProject({ name: 'api-key-json' });
    const conn = ['--url', server.url, '--token', ADMIN];
    const made = await runHeraldInProcess(
      ['projects', 'api-key', project.id, '--name', 'sender', '--scope', 'send', '--json', ...conn],
      { killAfterMs: 20_000 },
    );
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stderr, '');
    const answer = JSON.parse(made.stdout) as Record<string, unknown>;
    const [listed] = (await client.listApiKeys(project.id)).data;
    assert.ok(listed);
    assert.deepEqual(
      { id: answer.id, prefix: answer.prefix, scope: answer.scope, name: answer.name },
      { id: listed.id, prefix: listed.prefix, scope: 'send', name: 'sender' },
    );
    assert.ok(typeof answer.key === 'string' && answer.key.startsWith(listed.prefix), made.stdout);
    const revoked = await runHeraldInProcess([
      'projects',
      'revoke-api-key',
      project.id,
      String(answer.id),
      ...conn,
    ]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await client.listApiKeys(project.id)).data.length, 0);
  });
});
