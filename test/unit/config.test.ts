import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ADMIN_TOKEN_FILE,
  adminTokenUnshown,
  claimUnshownAdminToken,
  UNSHOWN_ADMIN_TOKEN_FILE,
} from '../../src/config/admin-token.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh data directory, so tests never share a token file. */
function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
  roots.push(dir);
  return dir;
}

/** An environment with a fixed admin token, so tests that are not about the token write no files. */
function envWith(extra: Record<string, string> = {}): Record<string, string> {
  return { HERALD_ADMIN_TOKEN: 'a-test-admin-token-0123456789', HERALD_DATA_DIR: tempDataDir(), ...extra };
}

function assertConfigError(fn: () => unknown, setting: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.setting, setting);
    assert.equal(error.code, 'HERALD_ERR_CONFIG');
    assert.ok(error.message.startsWith(`${setting}: `), error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe('loadConfig defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const dataDir = tempDataDir();
    const config = loadConfig({ env: { HERALD_DATA_DIR: dataDir } });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.role, 'all');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.maxBodyBytes, 1024 * 1024);
    assert.equal(config.maxBodyBytesInFlight, 64 * 1024 * 1024);
    const raised = loadConfig({
      env: { HERALD_DATA_DIR: dataDir, HERALD_MAX_BODY_BYTES: String(32 * 1024 * 1024) },
    });
    assert.equal(raised.maxBodyBytesInFlight, 128 * 1024 * 1024, 'at least four of the largest bodies');
    // On a heap of 2 GiB or more (V8's limit with 8 GiB of memory or more): the heap does not
    // bound it (below), whatever this machine's heap is.
    const bigHeap = 4096 * 1024 * 1024;
    assert.equal(
      loadConfig({ env: { HERALD_DATA_DIR: dataDir }, heapLimitBytes: bigHeap }).delivery.bytesInFlight,
      256 * 1024 * 1024,
    );
    const largest = loadConfig({
      env: { HERALD_DATA_DIR: dataDir, HERALD_MAX_BODY_BYTES: String(64 * 1024 * 1024) },
      heapLimitBytes: bigHeap,
    });
    assert.equal(largest.delivery.bytesInFlight, 256 * 1024 * 1024, 'four of the largest events');
    const set = loadConfig({
      env: { HERALD_DATA_DIR: dataDir, HERALD_DELIVERY_BYTES_IN_FLIGHT: String(32 * 1024 * 1024) },
    });
    assert.equal(set.delivery.bytesInFlight, 32 * 1024 * 1024);
    // The default fits a small heap (an eighth of it), never below one event; a setting is kept.
    const MiB = 1024 * 1024;
    const small = (env: Record<string, string>) =>
      loadConfig({ env: { HERALD_DATA_DIR: dataDir, ...env }, heapLimitBytes: 184 * MiB }).delivery
        .bytesInFlight;
    assert.equal(small({}), 23 * MiB, 'an eighth of a 184 MiB heap');
    assert.equal(small({ HERALD_MAX_BODY_BYTES: String(32 * MiB) }), 32 * MiB, 'one event at least');
    assert.equal(small({ HERALD_DELIVERY_BYTES_IN_FLIGHT: String(256 * MiB) }), 256 * MiB, 'as set');
    assert.equal(
      loadConfig({ env: { HERALD_DATA_DIR: dataDir }, heapLimitBytes: 2048 * MiB }).delivery.bytesInFlight,
      256 * MiB,
      'a 2 GiB heap keeps 256 MiB',
    );
    assert.equal(config.maxBatchEvents, 1000);
    assert.equal(config.encryptionKey, null);
    assert.equal(config.dataDir, resolve(dataDir));
    assert.equal(config.databaseUrl, `sqlite:${dataDir}/herald.db`);
    assert.equal(config.publicUrl, 'http://127.0.0.1:8080');
    assert.deepEqual(config.delivery, DEFAULT_DELIVERY);
  });

  test('without HERALD_DATA_DIR the embedded database lives in ./herald-data', () => {
    const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: 'a-test-admin-token-0123456789' } });
    assert.equal(config.databaseUrl, 'sqlite:./herald-data/herald.db');
    assert.equal(config.dataDir, resolve('herald-data'));
  });

  test('empty variables count as unset', () => {
    const config = loadConfig({ env: envWith({ HERALD_PORT: '', HERALD_LOG_LEVEL: '  ' }) });
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, 'info');
  });
});

describe('loadConfig precedence', () => {
  test('a flag wins over the environment, the environment over the default', () => {
    const env = envWith({ HERALD_PORT: '9000', HERALD_HOST: '0.0.0.0', HERALD_ROLE: 'worker' });
    const fromEnv = loadConfig({ env });
    assert.equal(fromEnv.port, 9000);
    assert.equal(fromEnv.host, '0.0.0.0');
    assert.equal(fromEnv.role, 'worker');
    const fromFlags = loadConfig({ env, flags: { port: '9100', role: 'api' } });
    assert.equal(fromFlags.port, 9100);
    assert.equal(fromFlags.host, '0.0.0.0');
    assert.equal(fromFlags.role, 'api');
  });

  test('the dispatcher gets a thread of its own where the process also serves the API', () => {
    assert.equal(loadConfig({ env: envWith() }).delivery.thread, true);
    assert.equal(loadConfig({ env: envWith({ HERALD_ROLE: 'api' }) }).delivery.thread, true);
    // A worker-only process delivers on its main thread: one isolate fewer, nothing to share a core with.
    assert.equal(loadConfig({ env: envWith({ HERALD_ROLE: 'worker' }) }).delivery.thread, false);
    assert.equal(loadConfig({ env: envWith(), flags: { role: 'worker' } }).delivery.thread, false);
    const told = envWith({ HERALD_ROLE: 'worker', HERALD_DELIVERY_THREAD: 'true' });
    assert.equal(loadConfig({ env: told }).delivery.thread, true);
    assert.equal(loadConfig({ env: envWith({ HERALD_DELIVERY_THREAD: 'false' }) }).delivery.thread, false);
  });

  test('a switch refused quotes the value and names every spelling it takes', () => {
    for (const name of ['HERALD_DELIVERY_THREAD', 'HERALD_ALLOW_NEWER_SCHEMA']) {
      for (const [value, expected] of [
        ['1', true],
        ['off', false],
        ['YES', true],
        ['no', false],
      ] as const) {
        const config = loadConfig({ env: envWith({ [name]: value }) });
        const taken = name === 'HERALD_DELIVERY_THREAD' ? config.delivery.thread : config.allowNewerSchema;
        assert.equal(taken, expected, `${name}=${value}`);
      }
      assertConfigError(
        () => loadConfig({ env: envWith({ [name]: 'enabled' }) }),
        name,
        /^[A-Z_]+: expected true or false \(or 1\/0, yes\/no, on\/off\), got "enabled"$/,
      );
    }
  });

  test('--database overrides HERALD_DATABASE_URL', () => {
    const env = envWith({ HERALD_DATABASE_URL: 'sqlite:/tmp/a.db' });
    assert.equal(loadConfig({ env }).databaseUrl, 'sqlite:/tmp/a.db');
    const config = loadConfig({ env, flags: { database: 'postgres://herald:pw@127.0.0.1:5432/herald' } });
    assert.equal(config.databaseUrl, 'postgres://herald:pw@127.0.0.1:5432/herald');
  });

  test("a database URL's query_timeout in milliseconds is taken as given", () => {
    for (const value of ['40000', '1', '2147483647']) {
      const url = `postgres://herald:pw@127.0.0.1:5432/herald?lock_timeout=30000&query_timeout=${value}`;
      assert.equal(loadConfig({ env: envWith({ HERALD_DATABASE_URL: url }) }).databaseUrl, url);
    }
  });

  test("a database URL's server timeouts in whole milliseconds are taken as given, 0 (no limit) too", () => {
    for (const query of [
      'lock_timeout=30000',
      'lock_timeout=0',
      'statement_timeout=60000&idle_in_transaction_session_timeout=20000',
      'idle_in_transaction_session_timeout=2147483647',
    ]) {
      const url = `postgres://herald:pw@127.0.0.1:5432/herald?${query}`;
      assert.equal(loadConfig({ env: envWith({ HERALD_DATABASE_URL: url }) }).databaseUrl, url);
    }
  });

  test('port 0 is allowed (pick a free port)', () => {
    assert.equal(loadConfig({ env: envWith({ HERALD_PORT: '0' }) }).port, 0);
  });

  test('host names, IPv4 and IPv6 addresses (without brackets) are taken as given', () => {
    for (const host of ['localhost', 'herald-1.internal', '10.1.2.3', '::1', '::', 'fe80::1']) {
      assert.equal(loadConfig({ env: envWith({ HERALD_HOST: host }) }).host, host);
    }
  });
});

describe('loadConfig validation names the setting', () => {
  const cases: [string, Record<string, string>, string, RegExp?][] = [
    ['port not a number', { HERALD_PORT: 'eighty' }, 'HERALD_PORT', /whole number/],
    ['port out of range', { HERALD_PORT: '70000' }, 'HERALD_PORT', /between 0 and 65535/],
    ['host with a scheme', { HERALD_HOST: 'http://example' }, 'HERALD_HOST'],
    ['host with blanks', { HERALD_HOST: 'not a host' }, 'HERALD_HOST', /host name or IP address/],
    ['host an IPv4 address out of range', { HERALD_HOST: '999.1.1.1' }, 'HERALD_HOST', /not an IPv4 address/],
    ['host an IPv4 address cut short', { HERALD_HOST: '10.0.1' }, 'HERALD_HOST', /not an IPv4 address/],
    ['host with a port', { HERALD_HOST: 'localhost:8080' }, 'HERALD_HOST', /HERALD_PORT/],
    ['host a broken IPv6 address', { HERALD_HOST: '::1::2' }, 'HERALD_HOST', /not an IPv6 address/],
    [
      'unknown database',
      { HERALD_DATABASE_URL: 'mysql://x' },
      'HERALD_DATABASE_URL',
      /sqlite:PATH or postgres/,
    ],
    // node-postgres takes the URL's query_timeout as its client-side bound, and a value that is not
    // a number of milliseconds Node's timers take became a 1 ms timeout: every query failed with
    // "Query read timeout", naming nothing, and no process could start (docs/operations.md).
    ...['40s', '0', '-5', 'abc', '3000000000'].map(
      (value): [string, Record<string, string>, string, RegExp] => [
        `database URL with query_timeout=${value}`,
        { HERALD_DATABASE_URL: `postgres://herald:pw-9f2c@127.0.0.1:5432/herald?query_timeout=${value}` },
        'HERALD_DATABASE_URL',
        new RegExp(`query_timeout=${value}: .*milliseconds, from 1 to 2147483647`),
      ],
    ),
    // Empty, the driver's parse still overrides the pool's 20,000 ms with '' and sets no timer at
    // all: a stalled connection held its queries for good. Also as the last of two (the driver
    // takes the last).
    ...['query_timeout=', 'query_timeout=40000&query_timeout='].map(
      (query): [string, Record<string, string>, string, RegExp] => [
        `database URL with ${query}`,
        { HERALD_DATABASE_URL: `postgres://herald:pw-9f2c@127.0.0.1:5432/herald?${query}` },
        'HERALD_DATABASE_URL',
        /query_timeout=: .*milliseconds, from 1 to 2147483647.*empty/,
      ],
    ),
    // The server's timeouts in the URL reach it as node-postgres's parseInt of them: lock_timeout=30s
    // was 30 ms (every lock wait failing at once), statement_timeout=1min 1 ms (every statement
    // cancelled), idle_in_transaction_session_timeout=10s 10 ms, abc NaN, and an empty one dropped
    // Herald's bound (docs/operations.md, "PostgreSQL connections that stall").
    ...[
      'lock_timeout=30s',
      'statement_timeout=1min',
      'idle_in_transaction_session_timeout=10s',
      'lock_timeout=abc',
      'lock_timeout=1.5',
      'lock_timeout=-1',
      'statement_timeout=3000000000',
      'lock_timeout=30000&lock_timeout=30s',
    ].map((query): [string, Record<string, string>, string, RegExp] => [
      `database URL with ${query}`,
      { HERALD_DATABASE_URL: `postgres://herald:pw-9f2c@127.0.0.1:5432/herald?${query}` },
      'HERALD_DATABASE_URL',
      new RegExp(
        `${query.split('&').at(-1)!.replace('.', '\\.')}: give a whole number of milliseconds, from 0 \\(no limit\\)`,
      ),
    ]),
    [
      'database URL with an empty lock_timeout',
      { HERALD_DATABASE_URL: 'postgres://herald:pw-9f2c@127.0.0.1:5432/herald?lock_timeout=' },
      'HERALD_DATABASE_URL',
      /lock_timeout=: .*empty, the driver drops it and Herald's 15000 ms with it/,
    ],
    ['unknown log level', { HERALD_LOG_LEVEL: 'verbose' }, 'HERALD_LOG_LEVEL', /fatal, error, warn, info/],
    ['unknown role', { HERALD_ROLE: 'both' }, 'HERALD_ROLE', /api, worker, all/],
    ['short admin token', { HERALD_ADMIN_TOKEN: 'short' }, 'HERALD_ADMIN_TOKEN', /at least 16/],
    // The API reads bearer tokens of at most 1024 characters: a longer admin token could never be used.
    ['admin token too long', { HERALD_ADMIN_TOKEN: 'x'.repeat(1025) }, 'HERALD_ADMIN_TOKEN', /at most 1024/],
    // Headers arrive as bytes, one character each: the UTF-8 bytes of `ä` never equal `ä`.
    [
      'admin token not ASCII',
      { HERALD_ADMIN_TOKEN: 'pässwort-0123456789' },
      'HERALD_ADMIN_TOKEN',
      /printable ASCII/,
    ],
    [
      'admin token with a control character',
      { HERALD_ADMIN_TOKEN: 'token-\u0001-0123456789' },
      'HERALD_ADMIN_TOKEN',
      /printable ASCII/,
    ],
    ['bad CIDR', { HERALD_ALLOW_NETWORKS: '127.0.0.0/8,not-a-net' }, 'HERALD_ALLOW_NETWORKS', /not-a-net/],
    ['CIDR prefix too long', { HERALD_ALLOW_NETWORKS: '10.0.0.0/33' }, 'HERALD_ALLOW_NETWORKS', /prefix/],
    ['CIDR with an empty prefix', { HERALD_ALLOW_NETWORKS: '10.0.0.0/' }, 'HERALD_ALLOW_NETWORKS', /prefix/],
    ['weak encryption key', { HERALD_ENCRYPTION_KEY: 'hunter2' }, 'HERALD_ENCRYPTION_KEY', /32 bytes/],
    [
      'previous key without a current one',
      { HERALD_ENCRYPTION_KEY_PREVIOUS: Buffer.alloc(32, 1).toString('hex') },
      'HERALD_ENCRYPTION_KEY_PREVIOUS',
      /needs HERALD_ENCRYPTION_KEY/,
    ],
    [
      'weak previous key',
      { HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('hex'), HERALD_ENCRYPTION_KEY_PREVIOUS: 'old' },
      'HERALD_ENCRYPTION_KEY_PREVIOUS',
      /32 bytes/,
    ],
    ['tiny body limit', { HERALD_MAX_BODY_BYTES: '10' }, 'HERALD_MAX_BODY_BYTES'],
    ['tiny in-flight budget', { HERALD_MAX_BODY_BYTES_IN_FLIGHT: '1000' }, 'HERALD_MAX_BODY_BYTES_IN_FLIGHT'],
    [
      'in-flight budget under four of the largest bodies',
      { HERALD_MAX_BODY_BYTES_IN_FLIGHT: String(4 * 1024 * 1024 - 1) },
      'HERALD_MAX_BODY_BYTES_IN_FLIGHT',
      /between 4194304 and/,
    ],
    [
      'delivery byte budget below the largest event (MiB meant, bytes read)',
      { HERALD_DELIVERY_BYTES_IN_FLIGHT: '256' },
      'HERALD_DELIVERY_BYTES_IN_FLIGHT',
      /at least HERALD_MAX_BODY_BYTES \(1048576\), the largest event it must hold, got 256: a number of bytes/,
    ],
    [
      'delivery byte budget below a raised body limit',
      {
        HERALD_MAX_BODY_BYTES: String(8 * 1024 * 1024),
        HERALD_DELIVERY_BYTES_IN_FLIGHT: String(8 * 1024 * 1024 - 1),
      },
      'HERALD_DELIVERY_BYTES_IN_FLIGHT',
      /at least HERALD_MAX_BODY_BYTES \(8388608\)/,
    ],
    [
      'delivery byte budget past its largest',
      { HERALD_DELIVERY_BYTES_IN_FLIGHT: String(64 * 1024 * 1024 * 1024 + 1) },
      'HERALD_DELIVERY_BYTES_IN_FLIGHT',
      /at most 68719476736 \(64 GiB\), got 68719476737/,
    ],
    [
      'delivery byte budget not a number',
      { HERALD_DELIVERY_BYTES_IN_FLIGHT: '256MiB' },
      'HERALD_DELIVERY_BYTES_IN_FLIGHT',
      /whole number/,
    ],
    ['public URL not http', { HERALD_PUBLIC_URL: 'ftp://x' }, 'HERALD_PUBLIC_URL', /http/],
    ['public URL without a host', { HERALD_PUBLIC_URL: 'http:///x' }, 'HERALD_PUBLIC_URL', /host after/],
    // Herald is served at the root of its host: under a path, its pages and API calls miss.
    [
      'public URL with a path',
      { HERALD_PUBLIC_URL: 'http://example.com/herald/' },
      'HERALD_PUBLIC_URL',
      /must be the root of a host.*"http:\/\/example\.com\/herald\/"/,
    ],
    [
      'public URL with a path, no slash',
      { HERALD_PUBLIC_URL: 'https://example.com/h' },
      'HERALD_PUBLIC_URL',
      /root of its host/,
    ],
    [
      'public URL with a query',
      { HERALD_PUBLIC_URL: 'https://example.com/?a=1' },
      'HERALD_PUBLIC_URL',
      /without a path, query/,
    ],
    [
      'public URL with a fragment',
      { HERALD_PUBLIC_URL: 'https://example.com/#x' },
      'HERALD_PUBLIC_URL',
      /fragment/,
    ],
    [
      'trusted proxy not a network',
      { HERALD_TRUST_PROXY: '10.0.0.1,proxy.local' },
      'HERALD_TRUST_PROXY',
      /network 2 of 2/,
    ],
    ['retry schedule word', { HERALD_RETRY_SCHEDULE: '5,soon' }, 'HERALD_RETRY_SCHEDULE', /number/],
    [
      'retry schedule with an empty item',
      { HERALD_RETRY_SCHEDULE: '5,,10' },
      'HERALD_RETRY_SCHEDULE',
      /item 2 of 3 is empty .*got "5,,10"$/,
    ],
    [
      'retry schedule ending in a comma',
      { HERALD_RETRY_SCHEDULE: '5,10,' },
      'HERALD_RETRY_SCHEDULE',
      /item 3 of 3/,
    ],
    [
      'trusted proxies with an empty item',
      { HERALD_TRUST_PROXY: ',10.0.0.1' },
      'HERALD_TRUST_PROXY',
      /item 1 of 2/,
    ],
    [
      'allowed networks with an empty item',
      { HERALD_ALLOW_NETWORKS: '10.0.0.0/8,,' },
      'HERALD_ALLOW_NETWORKS',
      /item 2 of 3/,
    ],
    [
      'frame ancestors with an empty item',
      { HERALD_FRAME_ANCESTORS: "'self',," },
      'HERALD_FRAME_ANCESTORS',
      /item 2 of 3/,
    ],
    ['negative delay', { HERALD_RETRY_SCHEDULE: '5,-1' }, 'HERALD_RETRY_SCHEDULE'],
    ['zero delay', { HERALD_RETRY_SCHEDULE: '5,0' }, 'HERALD_RETRY_SCHEDULE', /greater than 0/],
    [
      'delay over a week',
      { HERALD_RETRY_SCHEDULE: '604801' },
      'HERALD_RETRY_SCHEDULE',
      /^HERALD_RETRY_SCHEDULE: delays must be greater than 0 and at most 604800 seconds \(one week\), got 604801$/,
    ],
    [
      'too many steps',
      { HERALD_RETRY_SCHEDULE: Array(21).fill('1').join(',') },
      'HERALD_RETRY_SCHEDULE',
      /1 to 20/,
    ],
    ['jitter above half', { HERALD_RETRY_JITTER: '0.9' }, 'HERALD_RETRY_JITTER'],
    ['zero threshold', { HERALD_FAILURE_THRESHOLD: '0' }, 'HERALD_FAILURE_THRESHOLD'],
    ['timeout above the maximum', { HERALD_DELIVERY_TIMEOUT_MS: '40000' }, 'HERALD_DELIVERY_TIMEOUT_MS'],
    [
      'timeout above a lowered maximum',
      { HERALD_DELIVERY_MAX_TIMEOUT_MS: '2000', HERALD_DELIVERY_TIMEOUT_MS: '5000' },
      'HERALD_DELIVERY_TIMEOUT_MS',
      /at most HERALD_DELIVERY_MAX_TIMEOUT_MS \(2000\), got 5000/,
    ],
    [
      'timeout below 100 ms',
      { HERALD_DELIVERY_TIMEOUT_MS: '50' },
      'HERALD_DELIVERY_TIMEOUT_MS',
      /100 and 30000/,
    ],
    ['lease shorter than a timeout', { HERALD_LEASE_MS: '10000' }, 'HERALD_LEASE_MS', /35000/],
    [
      'proxy over TLS',
      { HERALD_PROXY_URL: 'https://proxy.internal:3128' },
      'HERALD_PROXY_URL',
      /only http:\/\/ proxies are supported .*got https:\/\/$/,
    ],
    ['SOCKS proxy', { HERALD_PROXY_URL: 'socks5://127.0.0.1:1080' }, 'HERALD_PROXY_URL', /only http:\/\//],
    [
      'proxy with a path',
      { HERALD_PROXY_URL: 'http://proxy.internal:3128/x' },
      'HERALD_PROXY_URL',
      /no path/,
    ],
    ['proxy not a URL', { HERALD_PROXY_URL: 'proxy internal' }, 'HERALD_PROXY_URL', /expected a URL/],
    [
      'proxy password with a bare %',
      { HERALD_PROXY_URL: 'http://herald:50%off@proxy.internal:3128' },
      'HERALD_PROXY_URL',
      /^HERALD_PROXY_URL: the user and password are percent-encoded in a URL: write % as %25 \(and @ : \/ as %40 %3A %2F\)$/,
    ],
    [
      'proxy user with a colon, which Basic authentication cannot send',
      { HERALD_PROXY_URL: 'http://corp%3Aherald:s3cret@proxy.internal:3128' },
      'HERALD_PROXY_URL',
      /^HERALD_PROXY_URL: the user cannot hold ":" \(%3A\): Basic authentication ends the user at the first ":", the proxy would take the rest for the password; the password may hold it$/,
    ],
    [
      'proxy bypass without a proxy',
      { HERALD_PROXY_BYPASS: '10.0.0.0/8' },
      'HERALD_PROXY_BYPASS',
      /HERALD_PROXY_URL/,
    ],
    [
      'proxy bypass of everything',
      { HERALD_PROXY_URL: 'http://proxy.internal:3128', HERALD_PROXY_BYPASS: 'hooks.internal,*' },
      'HERALD_PROXY_BYPASS',
      /"\*" would bypass the proxy for every receiver/,
    ],
    [
      'proxy bypass item neither name nor network',
      { HERALD_PROXY_URL: 'http://proxy.internal:3128', HERALD_PROXY_BYPASS: '10.0.0.0/8,http://x' },
      'HERALD_PROXY_BYPASS',
      /item 2, "http:\/\/x", is neither a host name/,
    ],
    [
      'negative shutdown delay',
      { HERALD_SHUTDOWN_DELAY_MS: '-1' },
      'HERALD_SHUTDOWN_DELAY_MS',
      /0 and 300000/,
    ],
    ['shutdown delay above 5 minutes', { HERALD_SHUTDOWN_DELAY_MS: '300001' }, 'HERALD_SHUTDOWN_DELAY_MS'],
    [
      "schema check wall bound below the check's CPU time",
      { HERALD_SCHEMA_CHECK_WALL_MS: '999' },
      'HERALD_SCHEMA_CHECK_WALL_MS',
      /1000 and 600000/,
    ],
    [
      'endpoint cap above the process cap',
      { HERALD_DELIVERY_CONCURRENCY: '8', HERALD_ENDPOINT_CONCURRENCY: '9' },
      'HERALD_ENDPOINT_CONCURRENCY',
    ],
  ];
  for (const [name, extra, setting, pattern] of cases) {
    test(name, () => assertConfigError(() => loadConfig({ env: envWith(extra) }), setting, pattern));
  }

  test("a bad query_timeout is reported under --database, without the URL's password", () => {
    const database = 'postgres://herald:pw-9f2c@127.0.0.1:5432/herald?query_timeout=40s';
    assertConfigError(
      () => loadConfig({ env: envWith(), flags: { database } }),
      '--database',
      /query_timeout=40s/,
    );
    assert.throws(
      () => loadConfig({ env: envWith(), flags: { database } }),
      (error: Error) => !error.message.includes('pw-9f2c'),
    );
  });

  test('a bad flag is reported under the flag name', () => {
    assertConfigError(() => loadConfig({ env: envWith(), flags: { port: '-1' } }), '--port');
    assertConfigError(() => loadConfig({ env: envWith(), flags: { role: 'x' } }), '--role');
    assertConfigError(
      () => loadConfig({ env: envWith(), flags: { allowNetworks: '1.2.3.4/99' } }),
      '--allow-networks',
    );
  });

  test('previous encryption keys with an empty item: refused naming its place, without the keys', () => {
    const old = [Buffer.alloc(32, 2).toString('hex'), Buffer.alloc(32, 3).toString('base64')];
    const env = envWith({
      HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('hex'),
      HERALD_ENCRYPTION_KEY_PREVIOUS: `${old[0]},,${old[1]}`,
    });
    assertConfigError(
      () => loadConfig({ env }),
      'HERALD_ENCRYPTION_KEY_PREVIOUS',
      /^HERALD_ENCRYPTION_KEY_PREVIOUS: item 2 of 3 is empty \(two commas in a row, or one at either end\)$/,
    );
    assert.throws(
      () => loadConfig({ env }),
      (error: Error) => !old.some((key) => error.message.includes(key)),
    );
  });
});

describe('loadConfig values', () => {
  test('delivery knobs are read and the lease follows a longer maximum timeout', () => {
    const config = loadConfig({
      env: envWith({
        HERALD_RETRY_SCHEDULE: '0.5, 1,2.5',
        HERALD_RETRY_JITTER: '0',
        HERALD_FAILURE_THRESHOLD: '3',
        HERALD_DELIVERY_MAX_TIMEOUT_MS: '120000',
        HERALD_DELIVERY_TIMEOUT_MS: '2000',
        HERALD_DELIVERY_CONCURRENCY: '16',
        HERALD_CLAIM_BATCH: '10',
        HERALD_POLL_INTERVAL_MS: '50',
      }),
    });
    assert.deepEqual(config.delivery.retrySchedule, [0.5, 1, 2.5]);
    assert.equal(config.delivery.retryJitter, 0);
    assert.equal(config.delivery.failureThreshold, 3);
    assert.equal(config.delivery.maxTimeoutMs, 120_000);
    assert.equal(config.delivery.defaultTimeoutMs, 2_000);
    assert.equal(config.delivery.concurrency, 16);
    assert.equal(config.delivery.perEndpointConcurrency, 16, 'capped by the process-wide limit');
    assert.equal(config.delivery.perProjectConcurrency, 16, 'three quarters, but not below one endpoint');
    assert.equal(config.delivery.claimBatch, 10);
    assert.equal(config.delivery.pollIntervalMs, 50);
    assert.equal(config.delivery.leaseMs, 240_000, 'twice the longest timeout');
  });

  test('HERALD_PROXY_URL: its credentials become Proxy-Authorization, never part of the URL logs show; HERALD_PROXY_BYPASS', () => {
    assert.equal(loadConfig({ env: envWith() }).delivery.proxy, null, 'direct by default');
    const { proxy } = loadConfig({
      env: envWith({ HERALD_PROXY_URL: 'http://herald:p%40ss@proxy.internal:3128' }),
    }).delivery;
    assert.deepEqual(proxy, {
      url: 'http://proxy.internal:3128',
      host: 'proxy.internal',
      port: 3128,
      authorization: `Basic ${Buffer.from('herald:p@ss').toString('base64')}`,
      bypass: { names: [], networks: [] },
    });
    const bare = loadConfig({ env: envWith({ HERALD_PROXY_URL: 'http://[fd00::1]' }) }).delivery.proxy;
    assert.deepEqual(bare, {
      url: 'http://[fd00::1]',
      host: 'fd00::1',
      port: 80,
      authorization: null,
      bypass: { names: [], networks: [] },
    });
    const split = loadConfig({
      env: envWith({
        HERALD_PROXY_URL: 'http://proxy.internal:3128',
        HERALD_PROXY_BYPASS: '.corp.internal, 10.0.0.0/8,10.9.9.9',
      }),
    }).delivery.proxy;
    assert.deepEqual(split?.bypass, { names: ['corp.internal'], networks: ['10.0.0.0/8', '10.9.9.9/32'] });
    assert.throws(
      () => loadConfig({ env: envWith({ HERALD_PROXY_URL: 'https://herald:hunter2@proxy.internal' }) }),
      (error: Error) => !error.message.includes('hunter2'),
      'a refused URL is not echoed with its password',
    );
  });

  test('an unset default timeout follows a maximum below 5 s, and stays 5 s under a larger one', () => {
    const lowered = loadConfig({ env: envWith({ HERALD_DELIVERY_MAX_TIMEOUT_MS: '2000' }) });
    assert.equal(lowered.delivery.maxTimeoutMs, 2_000);
    assert.equal(lowered.delivery.defaultTimeoutMs, 2_000, 'not the built-in 5000 an endpoint could not set');
    const raised = loadConfig({ env: envWith({ HERALD_DELIVERY_MAX_TIMEOUT_MS: '60000' }) });
    assert.equal(raised.delivery.defaultTimeoutMs, 5_000);
    const equal = loadConfig({
      env: envWith({ HERALD_DELIVERY_MAX_TIMEOUT_MS: '2000', HERALD_DELIVERY_TIMEOUT_MS: '2000' }),
    });
    assert.equal(equal.delivery.defaultTimeoutMs, 2_000);
  });

  test('HERALD_PROJECT_CONCURRENCY: three quarters of the process cap, at most 768', () => {
    const at = (concurrency: string, endpoint?: string) =>
      loadConfig({
        env: envWith({
          HERALD_DELIVERY_CONCURRENCY: concurrency,
          ...(endpoint ? { HERALD_ENDPOINT_CONCURRENCY: endpoint } : {}),
        }),
      }).delivery.perProjectConcurrency;
    assert.equal(at('1024'), 768);
    assert.equal(at('4096'), 768, 'capped at 768, not 3072');
    assert.equal(at('400'), 300);
    assert.equal(at('401'), 301, 'rounded up');
    assert.equal(at('100', '90'), 90, 'never below the endpoint cap');
  });

  test('HERALD_PROJECT_CONCURRENCY: between the endpoint cap and the process cap', () => {
    const set = loadConfig({ env: envWith({ HERALD_PROJECT_CONCURRENCY: '200' }) });
    assert.equal(set.delivery.perProjectConcurrency, 200);
    assertConfigError(
      () => loadConfig({ env: envWith({ HERALD_PROJECT_CONCURRENCY: '32' }) }),
      'HERALD_PROJECT_CONCURRENCY',
    );
    assertConfigError(
      () => loadConfig({ env: envWith({ HERALD_PROJECT_CONCURRENCY: '2000' }) }),
      'HERALD_PROJECT_CONCURRENCY',
    );
  });

  test('"none" means a single try', () => {
    const config = loadConfig({ env: envWith({ HERALD_RETRY_SCHEDULE: 'none' }) });
    assert.deepEqual(config.delivery.retrySchedule, []);
  });

  test('allowed networks: bare addresses become single hosts, blanks around items are dropped', () => {
    const config = loadConfig({ env: envWith({ HERALD_ALLOW_NETWORKS: ' 127.0.0.0/8 , ::1,10.2.3.4 ' }) });
    assert.deepEqual(config.delivery.allowNetworks, ['127.0.0.0/8', '::1/128', '10.2.3.4/32']);
  });

  test('allowed networks: a bare IPv4-mapped address is one host, written with /128', () => {
    const config = loadConfig({ env: envWith({ HERALD_ALLOW_NETWORKS: '::ffff:10.2.3.4' }) });
    assert.deepEqual(config.delivery.allowNetworks, ['::ffff:10.2.3.4/128']);
  });

  test('previous encryption keys are a comma-separated list', () => {
    const [a, b, c] = [1, 2, 3].map((n) => Buffer.alloc(32, n).toString('hex'));
    const config = loadConfig({
      env: envWith({ HERALD_ENCRYPTION_KEY: a!, HERALD_ENCRYPTION_KEY_PREVIOUS: `${b}, ${c}` }),
    });
    assert.deepEqual(config.previousEncryptionKeys, [b, c]);
  });

  test('encryption keys in hex, base64 and base64url are accepted', () => {
    const bytes = Buffer.alloc(32, 7);
    for (const key of [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) {
      assert.equal(loadConfig({ env: envWith({ HERALD_ENCRYPTION_KEY: key }) }).encryptionKey, key);
    }
  });

  test('the public URL defaults to a reachable address and drops a trailing slash when given', () => {
    assert.equal(loadConfig({ env: envWith({ HERALD_HOST: '0.0.0.0' }) }).publicUrl, 'http://127.0.0.1:8080');
    assert.equal(
      loadConfig({ env: envWith({ HERALD_HOST: '::', HERALD_PORT: '81' }) }).publicUrl,
      'http://[::1]:81',
    );
    const config = loadConfig({ env: envWith({ HERALD_PUBLIC_URL: 'https://hooks.example.com/' }) });
    assert.equal(config.publicUrl, 'https://hooks.example.com');
  });

  test('the configuration is frozen all the way down', () => {
    const config = loadConfig({ env: envWith() });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.delivery));
    assert.ok(Object.isFrozen(config.delivery.retrySchedule));
    assert.throws(() => {
      (config.delivery.retrySchedule as number[]).push(1);
    }, TypeError);
    assert.ok(
      !Object.isFrozen(DEFAULT_DELIVERY.retrySchedule),
      'the shared defaults were copied, not frozen',
    );
  });
});

describe('admin token', () => {
  test('generated once into the data directory (mode 0600) and reused on the next start', () => {
    const dataDir = tempDataDir();
    const first = loadConfig({ env: { HERALD_DATA_DIR: dataDir } });
    assert.equal(first.adminTokenGenerated, true);
    assert.match(first.adminToken, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    const file = join(dataDir, ADMIN_TOKEN_FILE);
    assert.equal(readFileSync(file, 'utf8').trim(), first.adminToken);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const second = loadConfig({ env: { HERALD_DATA_DIR: dataDir } });
    assert.equal(second.adminToken, first.adminToken);
    assert.equal(second.adminTokenGenerated, false, 'printed only when first created');
  });

  test('a generated token is marked unshown until one start claims the showing; a file written by hand is not shown', () => {
    const dataDir = tempDataDir();
    const first = loadConfig({ env: { HERALD_DATA_DIR: dataDir } });
    assert.equal(first.adminTokenFromFile, true);
    const mark = join(dataDir, UNSHOWN_ADMIN_TOKEN_FILE);
    assert.equal(statSync(mark).mode & 0o777, 0o600);
    assert.ok(
      !readFileSync(mark, 'utf8').includes(first.adminToken),
      'the mark holds a digest, not the token',
    );
    // A start that failed claims nothing: the next one still finds it unshown.
    const second = loadConfig({ env: { HERALD_DATA_DIR: dataDir } });
    assert.equal(second.adminTokenGenerated, false);
    assert.equal(adminTokenUnshown(dataDir, second.adminToken), true);
    assert.equal(claimUnshownAdminToken(dataDir, second.adminToken), true, 'shown by the start that listens');
    assert.equal(claimUnshownAdminToken(dataDir, second.adminToken), false, 'and by no other');
    assert.throws(() => statSync(mark), { code: 'ENOENT' });

    const byHand = tempDataDir();
    loadConfig({ env: { HERALD_DATA_DIR: byHand } });
    writeFileSync(join(byHand, ADMIN_TOKEN_FILE), 'operator-written-token-0123456789\n');
    const config = loadConfig({ env: { HERALD_DATA_DIR: byHand } });
    assert.equal(claimUnshownAdminToken(byHand, config.adminToken), false, 'not the token that was marked');
  });

  test('HERALD_ADMIN_TOKEN wins and writes no file', () => {
    const dataDir = tempDataDir();
    const config = loadConfig({
      env: { HERALD_DATA_DIR: dataDir, HERALD_ADMIN_TOKEN: 'operator-chosen-token-123' },
    });
    assert.equal(config.adminToken, 'operator-chosen-token-123');
    assert.equal(config.adminTokenGenerated, false);
    assert.equal(config.adminTokenFromFile, false);
    assert.throws(() => statSync(join(dataDir, ADMIN_TOKEN_FILE)), { code: 'ENOENT' });
    assert.throws(() => statSync(join(dataDir, UNSHOWN_ADMIN_TOKEN_FILE)), { code: 'ENOENT' });
  });

  test('commands that need no token leave no token file behind', () => {
    const dataDir = tempDataDir();
    const config = loadConfig({ env: { HERALD_DATA_DIR: dataDir }, resolveAdminToken: false });
    assert.equal(config.adminToken, '');
    assert.throws(() => statSync(join(dataDir, ADMIN_TOKEN_FILE)), { code: 'ENOENT' });
  });

  test('a data directory that cannot be created is named, not HERALD_ADMIN_TOKEN (a part of its path is a file)', () => {
    const file = join(tempDataDir(), 'a-file');
    writeFileSync(file, 'not a directory\n');
    const dataDir = join(file, 'herald-data');
    assertConfigError(
      () => loadConfig({ env: { HERALD_DATA_DIR: dataDir } }),
      'HERALD_DATA_DIR',
      new RegExp(`cannot create data directory ${dataDir}, where a generated admin token is kept`),
    );
  });

  test('a damaged token file is reported, not silently replaced', () => {
    const dataDir = tempDataDir();
    writeFileSync(join(dataDir, ADMIN_TOKEN_FILE), '\n');
    assertConfigError(
      () => loadConfig({ env: { HERALD_DATA_DIR: dataDir } }),
      'HERALD_ADMIN_TOKEN',
      /delete it/,
    );
  });

  test('a token file whose token no client could send is reported (not ASCII)', () => {
    const dataDir = tempDataDir();
    writeFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'operator-wrote-pässwort-0123\n');
    assertConfigError(
      () => loadConfig({ env: { HERALD_DATA_DIR: dataDir } }),
      'HERALD_ADMIN_TOKEN',
      /printable ASCII.*delete it/,
    );
  });
});
