/**
 * Every series Herald registers is in docs/api.md's metrics table, so a new metric cannot ship
 * undocumented.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { addClockOffsetGauge, createMetrics } from '../../src/metrics.ts';

const API_MD = readFileSync(join(resolve(import.meta.dirname, '../..'), 'docs/api.md'), 'utf8');

test("docs/api.md's metrics table names every herald_ metric", async () => {
  const metrics = createMetrics({
    store: { backlog: async () => ({ pending: 0, oldestDueAt: null }) },
    processMetrics: false,
    threadHeap: async () => null, // registers the dispatcher thread's gauges too
    deliveryBytesInFlight: () => null, // a process that delivers
    dispatcherLoad: () => null,
  });
  addClockOffsetGauge(metrics.registry, { offsetMs: () => 0 }); // PostgreSQL processes add it
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(names.length > 10, names.join(', '));
  const table = API_MD.slice(API_MD.indexOf('### Metrics'));
  assert.deepEqual(
    names.filter((name) => !new RegExp(`\`${name}[\`{]`).test(table)),
    [],
  );
});

/**
 * The PromQL of docs/operations.md, for several processes on one PostgreSQL (each is a Prometheus
 * target): every process serves the same database-wide backlog gauges, so a query reads them
 * through max() or min() (one answer, not one alert per process, and never a sum that counts the
 * backlog once per process); counters are per process, so a rate or increase of one is summed.
 * Histograms are left out: a quantile per process (its own claims) is what the claims alert wants.
 */
test("docs/operations.md's PromQL aggregates across processes", () => {
  const ops = readFileSync(join(resolve(import.meta.dirname, '../..'), 'docs/operations.md'), 'utf8');
  const queries = [...ops.matchAll(/`([^`\n]*herald_[^`\n]*)`/g)]
    .map((m) => m[1] ?? '')
    .filter((q) => /[([]/.test(q) || /[<>=]=?\s*\d/.test(q));
  assert.ok(queries.length > 10, queries.join('\n'));
  const DATABASE_WIDE = /\bherald_(deliveries_pending|oldest_pending_age_seconds|store_up)\b/;
  const COUNTER_RATE = /\b(rate|increase)\(herald_\w+_total\b/;
  const wrong = queries.filter(
    (q) => (DATABASE_WIDE.test(q) && !/^(max|min)\(/.test(q)) || (COUNTER_RATE.test(q) && !/\bsum\b/.test(q)),
  );
  assert.deepEqual(wrong, []);
});
