/**
 * Every counter series a process can count is served from its start at 0, so that
 * `increase(herald_endpoints_disabled_total[1h]) > 0` (docs/operations.md) sees the first endpoint
 * disabled after a restart: a series born at its first increment has no earlier sample to
 * increase from, and increase() and rate() miss that first one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { startApi, type TestApi } from './helpers.ts';

describe('/metrics of a process that has counted nothing yet', () => {
  let api: TestApi;
  let metrics: Metrics;

  before(async () => {
    // The store is read at scrape time only: reach the one startApi opens.
    metrics = createMetrics({ store: { backlog: (now) => api.store.backlog(now) }, processMetrics: false });
    api = await startApi({}, { metrics });
  });
  after(() => api.close());

  const scrape = async () => {
    const r = await api.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200, r.body);
    return r.body;
  };

  test('herald_endpoints_disabled_total has both reasons at 0', async () => {
    const text = await scrape();
    assert.match(text, /^herald_endpoints_disabled_total\{reason="failures"\} 0$/m);
    assert.match(text, /^herald_endpoints_disabled_total\{reason="gone"\} 0$/m);
  });

  test('herald_deliveries_total has every outcome at 0', async () => {
    const text = await scrape();
    for (const outcome of ['succeeded', 'retrying', 'failed', 'parked']) {
      assert.match(text, new RegExp(`^herald_deliveries_total\\{outcome="${outcome}"\\} 0$`, 'm'), outcome);
    }
  });

  test('the first disable then counts 1 on the series already served', async () => {
    metrics.recordEndpointDisabled('410 Gone');
    const text = await scrape();
    assert.match(text, /^herald_endpoints_disabled_total\{reason="gone"\} 1$/m);
    assert.match(text, /^herald_endpoints_disabled_total\{reason="failures"\} 0$/m);
  });
});
