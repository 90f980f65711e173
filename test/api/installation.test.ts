/**
 * GET /api/v1/installation: the delivery settings of this installation, as HERALD_DELIVERY_TIMEOUT_MS,
 * HERALD_DELIVERY_MAX_TIMEOUT_MS, HERALD_RETRY_SCHEDULE and HERALD_RETRY_JITTER set them, and the
 * largest request body (HERALD_MAX_BODY_BYTES), for any valid token (the dashboard's endpoint form,
 * portal included, validates and explains with them; a sender sizes its requests with the last).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { ADMIN, assertError, startApi, type TestApi } from './helpers.ts';

const ENV = {
  HERALD_ADMIN_TOKEN: ADMIN,
  HERALD_DATA_DIR: '/tmp/unused',
  HERALD_DELIVERY_MAX_TIMEOUT_MS: '60000',
  HERALD_DELIVERY_TIMEOUT_MS: '2000',
  HERALD_RETRY_SCHEDULE: '10,20',
  HERALD_RETRY_JITTER: '0.1',
  HERALD_MAX_BODY_BYTES: '2048',
};

describe('GET /api/v1/installation', () => {
  let api: TestApi;
  let tuned: TestApi;

  before(async () => {
    api = await startApi();
    const config = loadConfig({ env: ENV });
    tuned = await startApi({ delivery: config.delivery, maxBodyBytes: config.maxBodyBytes });
  });
  after(async () => {
    await api?.close();
    await tuned?.close();
  });

  test('says the built-in defaults when nothing is set', async () => {
    const r = await api.call('GET', '/api/v1/installation');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, {
      delivery: {
        defaultTimeoutMs: 5000,
        maxTimeoutMs: 30000,
        retrySchedule: [5, 300, 1800, 7200, 18000, 36000, 36000],
        retryJitter: 0.2,
      },
      requests: { maxBodyBytes: 1048576 },
    });
  });

  test('says the settings of the environment, which the endpoint routes apply', async () => {
    const r = await tuned.call('GET', '/api/v1/installation');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, {
      delivery: { defaultTimeoutMs: 2000, maxTimeoutMs: 60000, retrySchedule: [10, 20], retryJitter: 0.1 },
      requests: { maxBodyBytes: 2048 },
    });
    // What it says is what the API does: 45 s is accepted, the default is 2 s, above 60 s is refused.
    const project = await tuned.project('Tuned');
    const base = `/api/v1/projects/${project.id}/endpoints`;
    const long = await tuned.call('POST', base, { url: 'https://receiver.example/a', timeoutMs: 45000 });
    assert.equal(long.status, 201, JSON.stringify(long.body));
    assert.equal(long.body.timeoutMs, 45000);
    const plain = await tuned.call('POST', base, { url: 'https://receiver.example/b' });
    assert.equal(plain.body.timeoutMs, 2000);
    assertError(
      await tuned.call('POST', base, { url: 'https://receiver.example/c', timeoutMs: 60001 }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.timeoutMs',
    );
    // A body of exactly maxBodyBytes is taken, one byte more is refused 413 with that limit.
    const event = (size: number) => {
      const bare = JSON.stringify({ type: 'order.paid', payload: { s: '' } });
      return JSON.stringify({ type: 'order.paid', payload: { s: 'x'.repeat(size - bare.length) } });
    };
    const events = `/api/v1/projects/${project.id}/events`;
    const fits = await tuned.call('POST', events, undefined, { raw: event(2048) });
    assert.equal(fits.status, 202, JSON.stringify(fits.body));
    const over = await tuned.call('POST', events, undefined, { raw: event(2049) });
    assertError(over, 413, 'HERALD_ERR_BODY_TOO_LARGE', 'body');
    assert.equal(assertError(over, 413).details.limitBytes, r.body.requests.maxBodyBytes);
  });

  test('any valid token may read it, a portal token included; no token is 401', async () => {
    const project = await tuned.project('Readers');
    const key = await tuned.apiKey(project.id);
    const link = await tuned.call('POST', `/api/v1/projects/${project.id}/portal-links`, { expiresIn: 600 });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const expected = (await tuned.call('GET', '/api/v1/installation')).body;
    for (const token of [key, link.body.token]) {
      const r = await tuned.call('GET', '/api/v1/installation', undefined, { token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, expected);
    }
    assertError(await tuned.call('GET', '/api/v1/installation', undefined, { token: null }), 401);
    assertError(await tuned.call('GET', '/api/v1/installation', undefined, { token: 'hk_wrong' }), 401);
  });
});
