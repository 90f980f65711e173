/** Where the CLI's API commands find Herald (src/config/client-connection.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConnection } from '../../src/config/client-connection.ts';

test('flags, then HERALD_URL / HERALD_TOKEN / HERALD_ADMIN_TOKEN, then the saved admin token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-conn-'));
  try {
    writeFileSync(join(dir, 'admin-token'), 'saved-token-0123456789\n');
    const env = {
      HERALD_URL: 'http://127.0.0.1:9999',
      HERALD_TOKEN: 'env-token',
      HERALD_ADMIN_TOKEN: 'admin',
    };
    assert.deepEqual(resolveConnection({ url: 'http://127.0.0.1:1', token: 'flag-token' }, env), {
      url: 'http://127.0.0.1:1',
      token: 'flag-token',
    });
    assert.deepEqual(resolveConnection({}, env), { url: 'http://127.0.0.1:9999', token: 'env-token' });
    assert.equal(resolveConnection({}, { HERALD_ADMIN_TOKEN: 'admin' }).token, 'admin');
    assert.deepEqual(resolveConnection({ dataDir: dir }, {}), {
      url: 'http://127.0.0.1:8080',
      token: 'saved-token-0123456789',
    });
    assert.equal(resolveConnection({}, { HERALD_DATA_DIR: dir }).token, 'saved-token-0123456789');
    assert.equal(resolveConnection({ dataDir: join(dir, 'missing') }, {}).token, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
