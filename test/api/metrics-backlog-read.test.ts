/**
 * GET /metrics needs no token and is never rate-limited, and its backlog gauges count the pending
 * deliveries: a walk of an index, ~30-45 ms at 1,000,000 pending on SQLite, on the thread that
 * serves the API. Read per scrape, four clients requesting /metrics in a loop took API requests
 * from 1.1 ms to 42 ms (p50) and from ~700 to 22 a second. Scrapes within a second of a read share
 * it, so however often /metrics is requested the backlog is read at most about once a second.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { startApi, type TestApi } from './helpers.ts';

describe('the backlog read behind /metrics', () => {
  let api: TestApi;
  let metrics: Metrics;
  let reads = 0;
  let clock = Date.now();
  let projectId = '';
  let base = '';

  before(async () => {
    metrics = createMetrics({
      store: {
        backlog: (now) => {
          reads++;
          return api.store.backlog(now);
        },
      },
      processMetrics: false,
      now: () => clock,
    });
    api = await startApi({}, { metrics });
    projectId = (await api.project('p')).id as string;
    const endpoint = await api.call('POST', `/api/v1/projects/${projectId}/endpoints`, {
      url: 'https://example.com/hook',
    });
    assert.equal(endpoint.status, 201);
    // Over HTTP, as a scraper asks: each scrape a request of its own on the event loop.
    base = await api.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => api.close());

  const send = async () => {
    const r = await api.call('POST', `/api/v1/projects/${projectId}/events`, { type: 'a.b', payload: {} });
    assert.equal(r.status, 202);
  };
  const scrape = async () => {
    const r = await fetch(`${base}/metrics`);
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return text;
  };
  const gauge = (text: string, name: string) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    assert.ok(m, `${name} in\n${text}`);
    return Number(m[1]);
  };

  test('scrapes within a second, at once and one after another, read the backlog once', async () => {
    await send();
    clock = Date.now() + 60_000; // the event's delivery has been due a minute
    reads = 0;
    const texts = await Promise.all(Array.from({ length: 10 }, scrape));
    for (let i = 0; i < 10; i++) texts.push(await scrape());
    assert.equal(reads, 1);
    for (const text of texts) assert.equal(gauge(text, 'herald_deliveries_pending'), 1);
  });

  test('the age goes on with the clock meanwhile, and a second after the read the backlog is read again', async () => {
    const before = gauge(await scrape(), 'herald_oldest_pending_age_seconds');
    clock += 500;
    const later = gauge(await scrape(), 'herald_oldest_pending_age_seconds');
    assert.ok(Math.abs(later - before - 0.5) < 0.01, `${before} then ${later}`);
    await send();
    reads = 0;
    clock += 1_000;
    const text = await scrape();
    assert.equal(reads, 1);
    assert.equal(gauge(text, 'herald_deliveries_pending'), 2);
  });
});
