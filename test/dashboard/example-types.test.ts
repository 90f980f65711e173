/**
 * The Example tab's event types: it opens on the first type still in use, deprecated ones listed
 * after the others (it opened on a deprecated type when the catalog or the endpoint named one first).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventType } from '../../src/dashboard/app/api/types.ts';
import { exampleTypes } from '../../src/dashboard/app/example-types.ts';

const type = (name: string, deprecated = false): EventType =>
  ({ name, description: '', schema: null, example: { name }, deprecated }) as EventType;
const CATALOG = [type('a.legacy', true), type('b.paid'), type('c.old', true), type('d.shipped')];
const names = (types: EventType[]) => types.map((t) => t.name);

test('every type of the catalog: those in use first, then the deprecated, each in the catalog order', () => {
  assert.deepEqual(names(exampleTypes(CATALOG, [])), ['b.paid', 'd.shipped', 'a.legacy', 'c.old']);
});

test("the endpoint's types: in its order, the deprecated after; one the catalog lacks counts as in use", () => {
  const types = exampleTypes(CATALOG, ['c.old', 'unknown.type', 'd.shipped', 'a.legacy']);
  assert.deepEqual(names(types), ['unknown.type', 'd.shipped', 'c.old', 'a.legacy']);
  assert.deepEqual(types[0], {
    name: 'unknown.type',
    description: '',
    schema: null,
    example: null,
    deprecated: false,
  });
});

test('only deprecated types: all of them, in their order', () => {
  assert.deepEqual(names(exampleTypes(CATALOG, ['c.old', 'a.legacy'])), ['c.old', 'a.legacy']);
});
