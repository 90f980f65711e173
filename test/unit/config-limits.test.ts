/**
 * HERALD_API_RATE_LIMIT, HERALD_PROJECT_BACKLOG_LIMIT, HERALD_MAX_DELIVERIES_PER_REQUEST, HERALD_RETENTION_DAYS,
 * HERALD_RETENTION_START_DELAY_MS, HERALD_OPERATOR_WEBHOOK_URL / _SECRET (src/config/parse-limits.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-config-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const load = (env: Record<string, string>) =>
  loadConfig({ env: { HERALD_ADMIN_TOKEN: 'a-test-admin-token-0123456789', HERALD_DATA_DIR: dir, ...env } });
const refused = (env: Record<string, string>, setting: string, pattern?: RegExp) =>
  assert.throws(
    () => load(env),
    (e: unknown) =>
      e instanceof ConfigError && e.setting === setting && (!pattern || pattern.test(e.message)),
  );

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

test('defaults: 600,000 requests a minute per credential, 10,000,000 pending per project, 30 days of history, no operator webhook', () => {
  const c = load({});
  assert.deepEqual(c.apiRateLimit, { max: 600_000, windowMs: 60_000 });
  assert.equal(c.projectBacklogLimit, 10_000_000);
  assert.equal(c.retentionDays, 30);
  assert.equal(c.operatorWebhook, null);
});

test('HERALD_API_RATE_LIMIT: per minute, or with a unit; 0 turns it off', () => {
  assert.deepEqual(load({ HERALD_API_RATE_LIMIT: '600' }).apiRateLimit, { max: 600, windowMs: 60_000 });
  assert.deepEqual(load({ HERALD_API_RATE_LIMIT: '50/s' }).apiRateLimit, { max: 50, windowMs: 1_000 });
  assert.deepEqual(load({ HERALD_API_RATE_LIMIT: '100 / min' }).apiRateLimit, { max: 100, windowMs: 60_000 });
  assert.deepEqual(load({ HERALD_API_RATE_LIMIT: '9000/h' }).apiRateLimit, {
    max: 9000,
    windowMs: 3_600_000,
  });
  assert.equal(load({ HERALD_API_RATE_LIMIT: '0' }).apiRateLimit, null);
  refused({ HERALD_API_RATE_LIMIT: 'lots' }, 'HERALD_API_RATE_LIMIT', /requests per minute/);
  refused({ HERALD_API_RATE_LIMIT: '10/day' }, 'HERALD_API_RATE_LIMIT');
  refused({ HERALD_API_RATE_LIMIT: '-1' }, 'HERALD_API_RATE_LIMIT');
});

test('HERALD_PROJECT_BACKLOG_LIMIT: a whole number of deliveries, 0 turns it off', () => {
  assert.equal(load({ HERALD_PROJECT_BACKLOG_LIMIT: '50000' }).projectBacklogLimit, 50_000);
  assert.equal(load({ HERALD_PROJECT_BACKLOG_LIMIT: '0' }).projectBacklogLimit, null);
  refused({ HERALD_PROJECT_BACKLOG_LIMIT: '1e6' }, 'HERALD_PROJECT_BACKLOG_LIMIT', /whole number/);
  refused({ HERALD_PROJECT_BACKLOG_LIMIT: '-1' }, 'HERALD_PROJECT_BACKLOG_LIMIT');
});

test('HERALD_MAX_DELIVERIES_PER_REQUEST: 100,000 by default, 1 to 10,000,000, 0 refused (no "no limit")', () => {
  assert.equal(load({}).maxDeliveriesPerRequest, 100_000);
  assert.equal(load({ HERALD_MAX_DELIVERIES_PER_REQUEST: '1' }).maxDeliveriesPerRequest, 1);
  assert.equal(load({ HERALD_MAX_DELIVERIES_PER_REQUEST: '10000000' }).maxDeliveriesPerRequest, 10_000_000);
  refused(
    { HERALD_MAX_DELIVERIES_PER_REQUEST: '0' },
    'HERALD_MAX_DELIVERIES_PER_REQUEST',
    /between 1 and 10000000/,
  );
  refused(
    { HERALD_MAX_DELIVERIES_PER_REQUEST: '10000001' },
    'HERALD_MAX_DELIVERIES_PER_REQUEST',
    /between 1 and/,
  );
  refused({ HERALD_MAX_DELIVERIES_PER_REQUEST: '1e5' }, 'HERALD_MAX_DELIVERIES_PER_REQUEST', /whole number/);
  refused({ HERALD_MAX_DELIVERIES_PER_REQUEST: '-1' }, 'HERALD_MAX_DELIVERIES_PER_REQUEST');
});

test('HERALD_RETENTION_DAYS: whole days, 0 keeps everything', () => {
  assert.equal(load({ HERALD_RETENTION_DAYS: '7' }).retentionDays, 7);
  assert.equal(load({ HERALD_RETENTION_DAYS: '0' }).retentionDays, 0);
  refused({ HERALD_RETENTION_DAYS: '1.5' }, 'HERALD_RETENTION_DAYS');
  refused({ HERALD_RETENTION_DAYS: '-3' }, 'HERALD_RETENTION_DAYS');
});

test('HERALD_RETENTION_START_DELAY_MS: the first round 30 s after the start unless set, 0 to 1 h', () => {
  assert.equal(load({}).retentionStartDelayMs, 30_000);
  assert.equal(load({ HERALD_RETENTION_START_DELAY_MS: '0' }).retentionStartDelayMs, 0);
  assert.equal(load({ HERALD_RETENTION_START_DELAY_MS: '3600000' }).retentionStartDelayMs, 3_600_000);
  refused({ HERALD_RETENTION_START_DELAY_MS: '3600001' }, 'HERALD_RETENTION_START_DELAY_MS');
  refused({ HERALD_RETENTION_START_DELAY_MS: '-1' }, 'HERALD_RETENTION_START_DELAY_MS');
  refused({ HERALD_RETENTION_START_DELAY_MS: '2s' }, 'HERALD_RETENTION_START_DELAY_MS');
});

test('HERALD_OPERATOR_WEBHOOK_URL and _SECRET', () => {
  assert.deepEqual(load({ HERALD_OPERATOR_WEBHOOK_URL: 'https://ops.example.com/herald' }).operatorWebhook, {
    url: 'https://ops.example.com/herald',
    secret: null,
  });
  assert.deepEqual(
    load({
      HERALD_OPERATOR_WEBHOOK_URL: 'http://127.0.0.1:9000/h',
      HERALD_OPERATOR_WEBHOOK_SECRET: SECRET,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
    }).operatorWebhook,
    { url: 'http://127.0.0.1:9000/h', secret: SECRET },
  );
  // An address deliveries may not reach would fail every operational event: refused at start.
  refused(
    { HERALD_OPERATOR_WEBHOOK_URL: 'http://127.0.0.1:9000/h' },
    'HERALD_OPERATOR_WEBHOOK_URL',
    /127\.0\.0\.1 is a loopback address, .*HERALD_ALLOW_NETWORKS/,
  );
  refused({ HERALD_OPERATOR_WEBHOOK_URL: 'http://[fd00::1]/h' }, 'HERALD_OPERATOR_WEBHOOK_URL', /private/);
  refused({ HERALD_OPERATOR_WEBHOOK_URL: 'ftp://x/y' }, 'HERALD_OPERATOR_WEBHOOK_URL');
  refused({ HERALD_OPERATOR_WEBHOOK_URL: 'not a url' }, 'HERALD_OPERATOR_WEBHOOK_URL');
  // The checks endpoint URLs get: no host written (the parser would take `x` for it), port 0.
  refused({ HERALD_OPERATOR_WEBHOOK_URL: 'http:///x' }, 'HERALD_OPERATOR_WEBHOOK_URL', /host after/);
  refused(
    { HERALD_OPERATOR_WEBHOOK_URL: 'https:/ops.example.com/h' },
    'HERALD_OPERATOR_WEBHOOK_URL',
    /host after/,
  );
  refused(
    { HERALD_OPERATOR_WEBHOOK_URL: 'https://ops.example.com:0/h' },
    'HERALD_OPERATOR_WEBHOOK_URL',
    /port 0/,
  );
  refused({ HERALD_OPERATOR_WEBHOOK_SECRET: SECRET }, 'HERALD_OPERATOR_WEBHOOK_SECRET', /URL is not/);
  refused(
    {
      HERALD_OPERATOR_WEBHOOK_URL: 'https://ops.example.com',
      HERALD_OPERATOR_WEBHOOK_SECRET: 'hunter2-hunter2',
    },
    'HERALD_OPERATOR_WEBHOOK_SECRET',
    /whsec_/,
  );
  // The message never repeats the secret.
  assert.throws(
    () =>
      load({
        HERALD_OPERATOR_WEBHOOK_URL: 'https://ops.example.com',
        HERALD_OPERATOR_WEBHOOK_SECRET: 'whsec_c2hvcnQ=',
      }),
    (e: unknown) => e instanceof ConfigError && !e.message.includes('c2hvcnQ'),
  );
});

test('a refused HERALD_OPERATOR_WEBHOOK_URL is quoted without its path and query, its credential', () => {
  // A chat or automation service's webhook URL holds its token in the path or the query: the log
  // lines give only its origin (url-origin.ts), and so does a start refused for it, on stderr.
  const path = 'services/T0/c2VjcmV0UGF0aA';
  const query = 'token=c2VjcmV0UXVlcnk';
  const cases: [string, RegExp][] = [
    [`https://ops:pw@ops.example.com/${path}?${query}`, /"https:\/\/\*\*\*@ops\.example\.com\/…"/],
    [`https://ops.example.com:0/${path}?${query}`, /port 0, got "https:\/\/ops\.example\.com:0\/…"/],
    [`ftp://ops.example.com/${path}?${query}`, /"ftp:\/\/ops\.example\.com\/…"/],
    [`https:/ops.example.com/${path}?${query}`, /host after.*"https:\/ops\.example\.com\/…"/],
    [`ftp://ops.example.com?${query}`, /"ftp:\/\/ops\.example\.com…"/],
    [`https://ops:pw@ops.example.com:0?${query}`, /"https:\/\/\*\*\*@ops\.example\.com:0…"/],
    [`not a url/${path}`, /"not a url\/…"/],
    // An `@` past where the host ends (a `/`, `\\`, `?` or `#`): a path or query holding one, or a
    // password holding one of those; the text cannot tell which, so the host is left out too.
    [`https://ops:c2VjcmV0/pw@ops.example.com/${path}`, /got "https:\/\/…"/],
    [`https://ops:p#c2VjcmV0@ops.example.com:0/${path}`, /got "https:\/\/…"/],
    [`https://ops:p?c2VjcmV0@ops.example.com/${path}`, /got "https:\/\/…"/],
    [`https://ops.example.com:0/hooks/team@c2VjcmV0`, /got "https:\/\/…"/],
    [`https://ops.example.com:0\\hooks@c2VjcmV0`, /got "https:\/\/…"/],
    [`ftp://ops.example.com/a@c2VjcmV0/b`, /got "ftp:\/\/…"/],
    [`https://[::1]:0/${path}?${query}`, /got "https:\/\/\[::1\]:0\/…"/],
  ];
  for (const [value, quoted] of cases) {
    assert.throws(
      () => load({ HERALD_OPERATOR_WEBHOOK_URL: value }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError && e.setting === 'HERALD_OPERATOR_WEBHOOK_URL', String(e));
        assert.ok(!/c2VjcmV0/.test(e.message), `${value}: ${e.message}`);
        assert.match(e.message, quoted);
        return true;
      },
    );
  }
});

test('a refused URL setting is quoted without the password it holds', () => {
  const password = 'pw-c2VjcmV0-x';
  // Refused for holding credentials, and for other reasons while holding them; a URL the parser
  // cannot read is masked too (its text up to the last @).
  const cases: [string, string][] = [
    ['HERALD_OPERATOR_WEBHOOK_URL', `https://ops:${password}@ops.example.com/h`],
    ['HERALD_OPERATOR_WEBHOOK_URL', `ftp://ops:${password}@ops.example.com/h`],
    ['HERALD_OPERATOR_WEBHOOK_URL', `https://ops:${password}@ops.example.com:0/h`],
    ['HERALD_OPERATOR_WEBHOOK_URL', `https://ops:${password}@[ops.example.com/h`],
    ['HERALD_OPERATOR_WEBHOOK_URL', `https://ops:${password}@with@at@[bad/h`],
    ['HERALD_PUBLIC_URL', `https://admin:${password}@hooks.example.com`],
    ['HERALD_PUBLIC_URL', `https://admin:${password}@hooks.example.com/herald/`],
  ];
  for (const [setting, value] of cases) {
    assert.throws(
      () => load({ [setting]: value }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError && e.setting === setting, String(e));
        assert.ok(!e.message.includes('c2VjcmV0'), `${setting}=${value}: ${e.message}`);
        assert.match(e.message, /\*\*\*@/, e.message);
        return true;
      },
    );
  }
});
