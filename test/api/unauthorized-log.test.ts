/**
 * Wrong tokens (a brute force, a client with a revoked key) are answered 401, and show up in the
 * log: a warning at most once per 10 s with the number of 401s and the addresses they came from
 * most, never the tokens. They wrote nothing at any level before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const ADMIN = 'unauthorized-log-admin-token-0123456789';
const GUESS = 'hk_guessed-token-that-must-not-be-logged';

test('401s are a warning at most once per 10 s, with their count and top addresses, never the tokens', async (t) => {
  const { logger, lines } = capturedLogger('info');
  const store = await openStore('sqlite::memory:');
  // The rate limit would refuse an address that keeps failing: off, to count every 401 here.
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_API_RATE_LIMIT: '0' } });
  const app = buildApp({ store, config, logger });
  await app.ready();
  const from = (remoteAddress: string, token = GUESS) =>
    app.inject({
      method: 'GET',
      url: '/api/v1/projects',
      remoteAddress,
      headers: { authorization: `Bearer ${token}` },
    });
  try {
    for (let i = 0; i < 60; i++) {
      const answer = await from(i % 3 === 0 ? '192.0.2.7' : i % 3 === 1 ? '192.0.2.7' : '198.51.100.9');
      assert.equal(answer.statusCode, 401);
    }
    assert.equal((await from('192.0.2.1', ADMIN)).statusCode, 200);
    const warned = lines.filter((l) => Number(l.level) >= 40);
    assert.equal(warned.length, 1, JSON.stringify(warned));
    const [first] = warned as [Record<string, unknown>];
    assert.equal(first.level, 40);
    assert.match(String(first.msg), /401/);
    assert.equal(first.unauthorized, 1, 'the first 401 is logged at once');
    assert.deepEqual(first.topAddresses, [{ address: '192.0.2.7', count: 1 }]);

    // 10 s later the next 401 writes the next line, counting every 401 since the first line's.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 10_000 });
    assert.equal((await from('203.0.113.5')).statusCode, 401);
    const next = lines.filter((l) => Number(l.level) >= 40);
    assert.equal(next.length, 2, JSON.stringify(next));
    const second = next[1] as Record<string, unknown>;
    assert.equal(second.unauthorized, 60, '59 held back, and this one');
    assert.deepEqual(second.topAddresses, [
      { address: '192.0.2.7', count: 39 },
      { address: '198.51.100.9', count: 20 },
      { address: '203.0.113.5', count: 1 },
    ]);
    assert.ok(!JSON.stringify(lines).includes('guessed-token'), 'a token reached the log');
  } finally {
    await app.close();
    await store.close();
  }
});
