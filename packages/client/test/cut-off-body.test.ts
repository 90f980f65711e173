/**
 * A body Herald refuses before reading it (over its HERALD_MAX_BODY_BYTES): Herald answers 413 and
 * closes the connection while the client is still writing, and the answer is often lost with it
 * (write EPIPE). Against a real `herald serve` on loopback with a 1 KiB limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HeraldProcess, startHerald } from '../../../test/e2e/harness.ts';
import { HeraldApiError, HeraldClient, HeraldNetworkError } from '../src/index.ts';

const ADMIN = 'cut-off-admin-token-0123456789abcdef';

describe('@herald/client: a body over Herald’s limit, refused before it is read', () => {
  let herald: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    herald = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_MAX_BODY_BYTES: '1024' },
    });
    // maxBodyBytes above the body: the client does not refuse it itself, Herald does.
    client = new HeraldClient({ url: herald.url, token: ADMIN, maxBodyBytes: 64 * 1024 * 1024 });
  });
  after(async () => {
    await client?.close();
    await herald?.dispose();
  });

  test('is the 413 when its answer is read, else "stored nothing", sent at most twice, never "may have been stored"', async (t) => {
    const project = await client.createProject({ name: 'cut off' });
    // 32 MiB: written for long enough that Herald's close usually comes first (8 and 10 of 10 here).
    const payload = 'x'.repeat(32 * 1024 * 1024);
    const outcomes: string[] = [];
    const calls = [
      () => client.sendEvent(project.id, { type: 'big.one', payload }),
      // As the CLI sends an event: request() with a key, repeatable.
      () =>
        client.request('POST', `/projects/${project.id}/events`, {
          body: { type: 'big.one', payload, idempotencyKey: 'big-1' },
          repeatable: true,
        }),
      // Not repeatable: a try cut off stored nothing, so it is sent once more all the same.
      () =>
        client.request('POST', `/projects/${project.id}/endpoints`, {
          body: { url: 'https://hooks.example/big', description: payload },
        }),
    ];
    for (const call of calls) {
      for (let i = 0; i < 2; i++) {
        const error = await call().then(
          () => assert.fail('a body over the limit was taken'),
          (e: unknown) => e,
        );
        if (error instanceof HeraldApiError) {
          assert.equal(error.status, 413);
          assert.equal(error.code, 'HERALD_ERR_BODY_TOO_LARGE');
          assert.deepEqual(error.details, { field: 'body', limitBytes: 1024 });
          outcomes.push('413');
          continue;
        }
        assert.ok(error instanceof HeraldNetworkError, String(error));
        assert.equal(error.code, 'HERALD_CLIENT_NETWORK', error.message);
        assert.equal(error.notStored, true, error.message);
        assert.ok(error.tries >= 1 && error.tries <= 2, `${error.tries} tries: ${error.message}`);
        assert.match(error.message, /stored nothing of it/);
        outcomes.push(`cut off, ${error.tries} tries`);
      }
    }
    t.diagnostic(outcomes.join('; '));
    assert.equal((await client.listEvents(project.id)).data.length, 0, outcomes.join('; '));
    assert.equal((await client.listEndpoints(project.id)).data.length, 0, outcomes.join('; '));
  });
});
