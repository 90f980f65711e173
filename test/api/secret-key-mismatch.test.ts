/**
 * A server whose HERALD_ENCRYPTION_KEY no longer opens the endpoint secrets (another process sealed
 * them with a new key: docs/operations.md) answers a request that needs one with 503 naming the
 * cause, not a 500, and logs it like the other states that fail every request the same way: one
 * error line per 10 s saying what to do, without a stack, with the number refused since.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput } from '../store/helpers.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { ADMIN } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-key-mismatch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('GET …/secret on a server whose key does not open the secrets is 503 HERALD_ERR_SECRET_KEY with Retry-After', async () => {
  const url = `sqlite:${join(dir, 'herald.db')}`;
  const sealing = await openStore(url, { encryptionKey: 'a'.repeat(64) });
  const project = await sealing.createProject({ name: 'p', uid: 'p' }, Date.now());
  const endpoint = await sealing.createEndpoint(
    endpointInput(project.id, { url: 'http://127.0.0.1:9/hook' }),
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    Date.now(),
  );
  await sealing.close();

  const store = await openStore(url, { encryptionKey: 'b'.repeat(64) });
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: dir } });
  const { logger, lines } = capturedLogger();
  const app = buildApp({ store, config, logger });
  await app.ready();
  const getSecret = () =>
    app.inject({
      method: 'GET',
      url: `/api/v1/projects/${project.id}/endpoints/${endpoint.id}/secret`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
  try {
    const response = await getSecret();
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.headers['retry-after'], '60');
    const body = response.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'HERALD_ERR_SECRET_KEY');
    assert.match(body.error.message, /HERALD_ENCRYPTION_KEY/);
    assert.doesNotMatch(response.body, /whsec_/, 'no secret in the answer');

    // Four more within 10 s: still the one line, at error level, saying what to do, no stack.
    for (let i = 0; i < 4; i++) assert.equal((await getSecret()).statusCode, 503);
    const keyLines = () => lines.filter((l) => /cannot open the endpoint secrets/.test(String(l.msg)));
    assert.equal(keyLines().length, 1, JSON.stringify(lines));
    const [first] = keyLines();
    assert.equal(first?.level, 50); // error
    assert.match(String(first?.msg), /restart it with the current HERALD_ENCRYPTION_KEY/);
    assert.match(String(first?.msg), /at most once per 10 s/);
    assert.equal((first?.cause as { code?: string } | undefined)?.code, 'HERALD_SECRET_KEY_MISMATCH');
    assert.equal(first?.refusedSinceLastLine, undefined);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes('"stack"'), text);
    assert.ok(!text.includes('whsec_'), text);

    // 10 s later, the next refusal logs a second line counting the four refused in between.
    const realNow = Date.now.bind(Date);
    mock.method(Date, 'now', () => realNow() + 11_000);
    try {
      assert.equal((await getSecret()).statusCode, 503);
    } finally {
      mock.restoreAll();
    }
    assert.equal(keyLines().length, 2, JSON.stringify(lines));
    assert.equal(keyLines()[1]?.refusedSinceLastLine, 4);
    assert.ok(!JSON.stringify(lines).includes('"stack"'));
  } finally {
    await app.close();
    await store.close();
  }
});
