/**
 * Every series Herald registers is in docs/api.md's metrics table, so a new metric cannot ship
 * undocumented; and every metric and label the docs name is one Herald registers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { addClockOffsetGauge, addSchemaGauge, createMetrics } from '../../src/metrics.ts';

const API_MD = readFileSync(join(resolve(import.meta.dirname, '../..'), 'docs/api.md'), 'utf8');

/** Every metric a process may register: the delivering ones, the PostgreSQL clock gauge, the schema's. */
function allMetrics() {
  const metrics = createMetrics({
    store: { backlog: async () => ({ pending: 0, oldestDueAt: null }) },
    processMetrics: false,
    threadHeap: async () => null, // registers the dispatcher thread's gauges too
    deliveryBytesInFlight: () => null, // a process that delivers
    dispatcherLoad: () => null,
    dispatcherHeldMs: () => null,
  });
  addClockOffsetGauge(metrics.registry, { offsetMs: () => 0 }); // PostgreSQL processes add it
  addSchemaGauge(metrics.registry, { unknownCount: () => 0 }); // every process adds it (main.ts)
  return metrics;
}

test("docs/api.md's metrics table names every herald_ metric", async () => {
  const metrics = allMetrics();
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

/**
 * The other way: every `herald_…` metric the docs name (tables, alerts, runbooks) is one Herald
 * registers, under that name (a histogram's `_bucket`, `_sum` and `_count` included), and every
 * label a doc selects on (`herald_store_failures_total{reason="resources"}`) is one of its labels.
 * A renamed metric or label would otherwise leave the alerts operators copy from the docs silent.
 */
test('every herald_ metric and label the docs name is one Herald registers', async () => {
  const metrics = allMetrics();
  const registered = new Map<string, string[]>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    // biome-ignore lint/suspicious/noExplicitAny: prom-client keeps labelNames on the metric object
    const labels: string[] = (metrics.registry.getSingleMetric(m.name) as any)?.labelNames ?? [];
    registered.set(m.name, labels);
    if (String(m.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) registered.set(m.name + suffix, [...labels, 'le']);
    }
  }
  const root = resolve(import.meta.dirname, '../..');
  // postgres-notes.md names the NOTIFY channel herald_due, not a metric.
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).map((n) => `docs/${n}`)].filter(
    (f) => f.endsWith('.md') && !/performance|postgres-notes/.test(f),
  );
  // PostgreSQL objects, not metrics: the NOTIFY channels and the endpoints' trigger function
  // (migration 0020), which delivery.md and deployment.md name.
  const databaseObjects = new Set(['herald_due', 'herald_endpoints', 'herald_endpoints_changed']);
  const wrong: string[] = [];
  let named = 0;
  for (const file of docs) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, name, selector] of text.matchAll(/\b(herald_[a-z0-9_]+)(\{[^}`\n]*\})?/g)) {
      if (databaseObjects.has(name!)) continue;
      named++;
      const labels = registered.get(name!);
      if (!labels) {
        wrong.push(`${file}: ${name}`);
        continue;
      }
      const selected = [...(selector ?? '').matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=)/g)].map((m) => m[1]!);
      // `{outcome}` in a table names the label alone.
      const bare =
        /^\{([a-z_,\s]+)\}$/
          .exec(selector ?? '')?.[1]
          ?.split(',')
          .map((l) => l.trim()) ?? [];
      for (const label of [...selected, ...bare]) {
        if (!labels.includes(label)) wrong.push(`${file}: ${name} has no label ${label}`);
      }
    }
  }
  assert.ok(named > 50, `found the docs' metric names: ${named}`);
  assert.deepEqual(wrong, []);
});
