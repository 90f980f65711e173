/**
 * Checking many event-type schemas keeps memory bounded: Ajv keeps every schema it compiled in its
 * instance's code scope (removeSchema does not take it out), so event-type-schema.ts makes its
 * instances anew past a budget of schema text. Before, 5,000 checks of 5 KB schemas held ~460 MB,
 * in the API's check thread (a child process since) while PUTs kept it up and in `herald event-types import`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventTypeSchemaProblem } from '../../src/domain/event-type-schema.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** A distinct ~5 KB object schema of 50 properties, and an example that matches it. */
function entry(i: number) {
  const properties: Record<string, unknown> = {};
  const example: Record<string, string> = {};
  for (let j = 0; j < 50; j++) {
    properties[`field_${j}`] = { type: 'string', description: `field ${j} of type ${i}`, maxLength: 100 };
    example[`field_${j}`] = `v${j}`;
  }
  return { schema: { type: 'object', required: ['field_0'], properties }, example };
}

test('1,500 checks of distinct 5 KB schemas leave the heap about where it was', () => {
  const check = (i: number) => {
    const { schema, example } = entry(i);
    assert.equal(eventTypeSchemaProblem(schema, example), null);
  };
  for (let i = 0; i < 100; i++) check(i); // Ajv's meta-schemas and code warm
  const before = heapMiB();
  for (let i = 100; i < 1_600; i++) check(i);
  const grown = heapMiB() - before;
  // Kept, they were ~85 MB per 1,000 (~125 MB here); made anew, a few MB.
  assert.ok(grown < 40, `the heap grew ${grown.toFixed(1)} MiB over 1,500 checks`);
  // Still checking after its instances were made anew.
  assert.equal(eventTypeSchemaProblem(entry(0).schema, { field_0: 7 })?.field, 'example');
});
