/**
 * A server whose HERALD_ENCRYPTION_KEY no longer opens the endpoint secrets (another process sealed
 * them with a new key: docs/operations.md) answers a request that needs one with 503 naming the
 * cause, not a 500.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput } from '../store/helpers.ts';
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
  const app = buildApp({ store, config });
  await app.ready();
  try {
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/projects/${project.id}/endpoints/${endpoint.id}/secret`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.headers['retry-after'], '60');
    const body = response.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'HERALD_ERR_SECRET_KEY');
    assert.match(body.error.message, /HERALD_ENCRYPTION_KEY/);
    assert.doesNotMatch(response.body, /whsec_/, 'no secret in the answer');
  } finally {
    await app.close();
    await store.close();
  }
});
