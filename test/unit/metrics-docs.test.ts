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
