/**
 * /metrics counts the requests a server answered (by method, route pattern and status, never the raw
 * path: ids would make a series per resource) and times them, and counts the events the events API
 * stored and the deliveries their fan-out created, over real HTTP (listen(0) on loopback).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp } from '../../src/api/worker-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';
import { rawRequest } from '../support/raw-http.ts';
import { ADMIN, type Body, listenForFetch, startApi, type TestApi } from './helpers.ts';

/** The value of one sample of a Prometheus text, its labels in any order; 0 when it has none yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (have.size === wanted.length && wanted.every(([k, v]) => have.get(k) === v)) return Number(match[3]);
  }
  return 0;
}

/** A server listening on loopback, called with fetch. */
async function listening(app: FastifyInstance) {
  const { call, port } = await listenForFetch(app);
  const scrape = async () => {
    const r = await call('GET', '/metrics');
    assert.equal(r.status, 200, r.text);
    return r.text;
  };
  return { call, scrape, port };
}

describe('HTTP metrics of the API', () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listening>>;
  let p: Body;

  before(async () => {
    // The store is read at scrape time only: reach the one startApi opens.
    const metrics = createMetrics({
      store: { backlog: (now) => api.store.backlog(now) },
      processMetrics: false,
    });
    api = await startApi({}, { metrics });
    http = await listening(api.app);
    p = await api.project('http-metrics');
  });
  after(() => api.close());

  test('a 2xx, a 4xx of a route, a 404 of no route and a URL the router cannot read are counted by route pattern, never by raw path', async () => {
    const requests = (text: string, method: string, route: string, status: string) =>
      sample(text, 'herald_http_requests_total', { method, route, status_code: status });
    const before = await http.scrape();

    assert.equal((await http.call('GET', `/api/v1/projects/${p.id}`)).status, 200);
    assert.equal((await http.call('GET', `/api/v1/projects/${p.id}`)).status, 200);
    assert.equal((await http.call('GET', '/api/v1/projects/prj_nosuchproject42')).status, 404);
    assert.equal((await http.call('POST', '/api/v1/projects', { name: '' })).status, 400);
    assert.equal((await http.call('GET', '/no/such/path/xyz123')).status, 404);
    assert.equal((await http.call('DELETE', '/healthz')).status, 404);
    // Refused before the router (Fastify's frameworkErrors), where no hook runs.
    assert.equal((await http.call('GET', '/api/v1/projects/%E0%A4')).status, 400);

    const text = await http.scrape();
    const route = '/api/v1/projects/:project';
    assert.equal(requests(text, 'GET', route, '200') - requests(before, 'GET', route, '200'), 2, text);
    assert.equal(requests(text, 'GET', route, '404') - requests(before, 'GET', route, '404'), 1, text);
    assert.equal(
      requests(text, 'POST', '/api/v1/projects', '400') - requests(before, 'POST', '/api/v1/projects', '400'),
      1,
    );
    assert.equal(requests(text, 'GET', 'unmatched', '404') - requests(before, 'GET', 'unmatched', '404'), 1);
    assert.equal(requests(text, 'DELETE', 'unmatched', '404'), 1);
    assert.equal(requests(text, 'GET', 'unmatched', '400'), 1);
    // The scrape before this one was answered, and counted, before this one rendered.
    assert.ok(requests(text, 'GET', '/metrics', '200') >= 1, text);
    for (const raw of [p.id, 'prj_nosuchproject42', 'xyz123']) assert.ok(!text.includes(raw), raw);

    const duration = (name: string) =>
      sample(text, `herald_http_request_duration_seconds_${name}`, { method: 'GET', route });
    assert.equal(
      duration('count') -
        sample(before, 'herald_http_request_duration_seconds_count', { method: 'GET', route }),
      3,
    );
    assert.ok(duration('sum') > 0, text);
    const bucket = (le: string) =>
      sample(text, 'herald_http_request_duration_seconds_bucket', { method: 'GET', route, le });
    assert.ok(bucket('0.001') <= bucket('10'));
    assert.equal(bucket('+Inf'), duration('count'));
    assert.match(text, /^# TYPE herald_http_request_duration_seconds histogram$/m);
  });

  test('what Node refuses before a request exists (malformed HTTP, headers too large) is counted as method unknown, route unmatched', async () => {
    const refused = (text: string, status: string) =>
      sample(text, 'herald_http_requests_total', {
        method: 'unknown',
        route: 'unmatched',
        status_code: status,
      });
    const before = await http.scrape();
    assert.match(await rawRequest(http.port, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 /);
    const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    assert.match(await rawRequest(http.port, big), /^HTTP\/1\.1 431 /);
    const text = await http.scrape();
    assert.equal(refused(text, '400') - refused(before, '400'), 1, text);
    assert.equal(refused(text, '431') - refused(before, '431'), 1, text);
    assert.ok(!text.includes('NOT HTTP'), 'nothing of the request reaches a label');
  });

  test('events and deliveries are counted once stored; a repeated idempotency key, a refused event, not again', async () => {
    for (const n of [1, 2]) {
      const r = await http.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
        url: `https://hooks.example/${n}`,
      });
      assert.equal(r.status, 201, r.text);
    }
    const EV = `/api/v1/projects/${p.id}/events`;
    const counts = async () => {
      const text = await http.scrape();
      return {
        events: sample(text, 'herald_events_accepted_total'),
        deliveries: sample(text, 'herald_deliveries_created_total'),
        posts: sample(text, 'herald_http_requests_total', {
          method: 'POST',
          route: '/api/v1/projects/:project/events',
          status_code: '202',
        }),
      };
    };
    // Served at 0 before the first, so that increase() counts the first one after a restart.
    const zero = await http.scrape();
    assert.match(zero, /^herald_events_accepted_total 0$/m);
    assert.match(zero, /^herald_deliveries_created_total 0$/m);
    assert.deepEqual(await counts(), { events: 0, deliveries: 0, posts: 0 });

    const first = await http.call('POST', EV, { type: 'order.created', payload: {}, idempotencyKey: 'k-1' });
    assert.equal(first.status, 202, first.text);
    assert.equal(first.body.deliveries.length, 2);
    assert.deepEqual(await counts(), { events: 1, deliveries: 2, posts: 1 });

    const repeat = await http.call('POST', EV, { type: 'order.created', payload: {}, idempotencyKey: 'k-1' });
    assert.equal(repeat.status, 202, repeat.text);
    assert.equal(repeat.body.id, first.body.id);
    assert.deepEqual(await counts(), { events: 1, deliveries: 2, posts: 2 }, 'answered, not stored again');

    assert.equal((await http.call('POST', EV, { payload: {} })).status, 400);
    const batch = await http.call('POST', `${EV}/batch`, {
      events: [
        { type: 'order.paid', payload: {} },
        { type: 'order.created', payload: {}, idempotencyKey: 'k-1' },
        { type: 'order.shipped', payload: {} },
      ],
    });
    assert.equal(batch.status, 202, batch.text);
    assert.deepEqual(await counts(), { events: 3, deliveries: 6, posts: 2 }, 'the batch: two new events');
  });
});

test("every route's 500 and 503 series are served at 0 from the start, under the label its requests get; HEAD routes and the histogram wait for a request", async () => {
  // So that increase() sees a route's first 5xx after a restart (the API-errors alert, operations.md).
  const metrics = createMetrics({
    store: { backlog: (now) => api.store.backlog(now) },
    processMetrics: false,
  });
  const api = await startApi({}, { metrics });
  try {
    const http = await listening(api.app);
    const first = await http.scrape();
    const requests = (text: string, method: string, route: string, status: string) =>
      sample(text, 'herald_http_requests_total', { method, route, status_code: status });
    const five = [...first.matchAll(/^herald_http_requests_total\{(.*status_code="5\d\d".*)\} (\S+)$/gm)];
    for (const route of ['/api/v1/projects/:project/events', '/api/v1/projects/:project/events/batch']) {
      for (const status of ['500', '503']) {
        assert.match(
          first,
          new RegExp(
            `^herald_http_requests_total\\{method="POST",route="${route}",status_code="${status}"\\} 0$`,
            'm',
          ),
        );
      }
    }
    assert.match(first, /^herald_http_requests_total\{method="GET",route="\/readyz",status_code="503"\} 0$/m);
    assert.match(
      first,
      /^herald_http_requests_total\{method="DELETE",route="\/api\/v1\/projects\/:project\/endpoints\/:endpoint",status_code="500"\} 0$/m,
    );
    assert.ok(five.length >= 80, `a pair for each route and method: ${five.length}`);
    assert.ok(
      five.every((m) => m[2] === '0' && !m[1]!.includes('method="HEAD"')),
      first,
    );
    assert.doesNotMatch(first, /herald_http_request_duration_seconds_count\{method="POST"/);

    // A request's series sits beside them: the route pattern is the same label.
    const p = (await http.call('POST', '/api/v1/projects', { name: 'labels' })).body;
    assert.equal((await http.call('GET', `/api/v1/projects/${p.id}`)).status, 200);
    const text = await http.scrape();
    const lines = text
      .split('\n')
      .filter(
        (l) =>
          l.includes('route="/api/v1/projects/:project",') &&
          l.startsWith('herald_http_requests_total{method="GET"'),
      );
    assert.deepEqual(
      lines.map((l) => /status_code="(\d+)"/.exec(l)?.[1]).sort(),
      ['200', '500', '503'],
      text,
    );
    assert.equal(requests(text, 'GET', '/api/v1/projects/:project', '200'), 1);
  } finally {
    await api.close();
  }
});

test("a worker's server counts its probes and scrapes, and its 404s as unmatched", async () => {
  const store = await openStore('sqlite::memory:');
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
  const metrics = createMetrics({ store, processMetrics: false });
  const app = buildWorkerApp(config, store, createLogger({ level: 'silent' }), metrics);
  try {
    const http = await listening(app);
    assert.equal((await http.call('GET', '/healthz')).status, 200);
    assert.equal((await http.call('GET', `/api/v1/projects/prj_abc/events`)).status, 404);
    const text = await http.scrape();
    assert.equal(
      sample(text, 'herald_http_requests_total', { method: 'GET', route: '/healthz', status_code: '200' }),
      1,
      text,
    );
    assert.equal(
      sample(text, 'herald_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }),
      1,
      text,
    );
    assert.ok(!text.includes('prj_abc'));
    // Its routes' 5xx series are there before one is answered.
    assert.equal(
      sample(text, 'herald_http_requests_total', { method: 'GET', route: '/readyz', status_code: '503' }),
      0,
    );
    assert.match(text, /^herald_http_requests_total\{method="GET",route="\/readyz",status_code="503"\} 0$/m);
  } finally {
    closeAnsweredConnections(app.server);
    await app.close();
    await store.close();
  }
});
