/** Where the CLI's API commands find Herald (src/config/client-connection.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
      urlSource: '--url',
      urlFrom: '--url',
      token: 'flag-token',
      tokenSource: '--token',
      adminTokenShadowed: true,
      tokenFile: tokenFile('./herald-data'),
      savedTokenApplies: true,
    });
    assert.deepEqual(resolveConnection({}, env), {
      url: 'http://127.0.0.1:9999',
      urlSource: 'HERALD_URL',
      urlFrom: 'HERALD_URL',
      token: 'env-token',
      tokenSource: 'HERALD_TOKEN',
      adminTokenShadowed: true,
      tokenFile: tokenFile('./herald-data'),
      savedTokenApplies: true,
    });
    assert.equal(resolveConnection({}, { HERALD_ADMIN_TOKEN: 'admin' }).token, 'admin');
    assert.equal(resolveConnection({}, { HERALD_ADMIN_TOKEN: 'admin' }).tokenSource, 'HERALD_ADMIN_TOKEN');
    assert.deepEqual(resolveConnection({ dataDir: dir }, {}), {
      url: 'http://127.0.0.1:8080',
      urlSource: '--url',
      urlFrom: null,
      token: 'saved-token-0123456789',
      tokenSource: tokenFile(dir),
      adminTokenShadowed: false,
      tokenFile: tokenFile(dir),
      savedTokenApplies: true,
    });
    assert.equal(resolveConnection({}, { HERALD_DATA_DIR: dir }).token, 'saved-token-0123456789');
    assert.equal(resolveConnection({ dataDir: join(dir, 'missing') }, {}).token, undefined);
    // The saved token is the local server's: it goes to this machine only, never to another host.
    for (const url of [
      'http://localhost:8080',
      'http://LOCALHOST.:1',
      'http://[::1]:8080',
      'http://127.9.9.9',
    ]) {
      assert.equal(resolveConnection({ dataDir: dir, url }, {}).token, 'saved-token-0123456789', url);
    }
    for (const url of [
      'https://herald.example.com',
      'http://10.0.0.5:8080',
      'http://127.0.0.1.example:1',
      'nonsense',
      // the client resolves it through the system resolver, which may ask DNS for it
      'http://app.localhost:8080',
    ]) {
      const remote = resolveConnection({ dataDir: dir, url }, {});
      assert.deepEqual([remote.token, remote.savedTokenApplies], [undefined, false], url);
    }
    // A token given is sent wherever the URL says.
    assert.equal(resolveConnection({ url: 'https://herald.example.com', token: 't' }, {}).token, 't');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty flag or variable counts as unset, as for every server setting (configuration.md)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-conn-'));
  try {
    writeFileSync(join(dir, 'admin-token'), 'saved-token-0123456789\n');
    // HERALD_TOKEN= falls through to HERALD_ADMIN_TOKEN; HERALD_URL= to the default URL.
    assert.deepEqual(
      resolveConnection(
        {},
        { HERALD_URL: '', HERALD_TOKEN: '', HERALD_ADMIN_TOKEN: 'admin-token-0123456789' },
      ),
      {
        url: 'http://127.0.0.1:8080',
        urlSource: '--url',
        urlFrom: null,
        token: 'admin-token-0123456789',
        tokenSource: 'HERALD_ADMIN_TOKEN',
        adminTokenShadowed: false,
        tokenFile: tokenFile('./herald-data'),
        savedTokenApplies: true,
      },
    );
    // Both tokens empty, and an empty --token: the token the local server saved.
    assert.equal(
      resolveConnection({ token: '', dataDir: dir }, { HERALD_TOKEN: ' ', HERALD_ADMIN_TOKEN: '' }).token,
      'saved-token-0123456789',
    );
    // An empty --url falls through to HERALD_URL, which a message then names.
    assert.deepEqual(resolveConnection({ url: '' }, { HERALD_URL: 'http://127.0.0.1:9999' }), {
      url: 'http://127.0.0.1:9999',
      urlSource: 'HERALD_URL',
      urlFrom: 'HERALD_URL',
      token: savedIn('./herald-data'),
      tokenSource: savedIn('./herald-data') === undefined ? null : tokenFile('./herald-data'),
      adminTokenShadowed: false,
      tokenFile: tokenFile('./herald-data'),
      savedTokenApplies: true,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The admin-token file resolveConnection looks at for the data directory `dir`. */
const tokenFile = (dir: string) => join(resolve(dir), 'admin-token');

/** What resolveConnection finds in `dir` (the test's working directory may hold one). */
function savedIn(dir: string): string | undefined {
  return resolveConnection({ dataDir: dir }, {}).token;
}
