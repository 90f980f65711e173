/**
 * domain/schema-size.ts counts the keywords Ajv would compile for a schema, before it is compiled:
 * a `$ref` to a subschema without `$ref`s counts that subschema at each `$ref` (Ajv copies its code
 * in), one to a subschema with `$ref`s once (Ajv compiles it as a function of its own), a cycle once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCHEMA_MAX_KEYWORDS, schemaKeywordCount, schemaSizeProblem } from '../../src/domain/schema-size.ts';

test('keywords of every subschema count; annotations and unused $defs do not', () => {
  assert.equal(schemaKeywordCount(true), 1);
  assert.equal(schemaKeywordCount({}), 0);
  const purchase = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'purchase',
    type: 'object',
    required: ['amount'],
    properties: { amount: { type: 'number', description: 'in cents', minimum: 0 } },
    $defs: { unused: { type: 'string', minLength: 1 } },
  };
  assert.equal(schemaKeywordCount(purchase), 3 + 2);
  assert.equal(schemaKeywordCount({ allOf: [{ minimum: 1 }, false], items: [{ type: 'string' }] }), 5);
});

test('a $ref to a subschema without $refs counts it at each $ref; one with $refs once; a cycle once', () => {
  const leaf = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } };
  const copies = { $defs: { leaf }, allOf: Array.from({ length: 10 }, () => ({ $ref: '#/$defs/leaf' })) };
  assert.equal(schemaKeywordCount(copies), 1 + 10 * (1 + 4));
  // Each level names the next twice: 2^40 copies if counted at each $ref, 40 functions for Ajv.
  const $defs = Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [
      `a${i}`,
      { allOf: [{ $ref: `#/$defs/a${i + 1}` }, { $ref: `#/$defs/a${i + 1}` }] },
    ]),
  );
  assert.ok(schemaKeywordCount({ $defs, $ref: '#/$defs/a0' }) < 300);
  const tree = { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } };
  assert.equal(schemaKeywordCount(tree), 2 + 2 + 1);
  assert.equal(
    schemaKeywordCount({ $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } } }),
    3,
  );
});

test('a $ref by $id, $anchor or a pointer into another resource counts what it names; one elsewhere adds nothing', () => {
  const named = { $id: 'https://schemas.test/x.json', $anchor: 'here', type: 'string', minLength: 1 };
  const by = (ref: string) => schemaKeywordCount({ $defs: { named }, allOf: [{ $ref: ref }, { $ref: ref }] });
  assert.equal(by('https://schemas.test/x.json'), 1 + 2 * (1 + 2));
  assert.equal(by('https://schemas.test/x.json#here'), 1 + 2 * (1 + 2));
  assert.equal(by('#/$defs/named/minLength'), 1 + 2 * (1 + 1));
  assert.equal(by('https://elsewhere.test/y.json'), 1 + 2);
});

test('past SCHEMA_MAX_KEYWORDS the problem says how many and why; a flat object of 2,000 properties is within', () => {
  const flat = (n: number) => ({
    type: 'object',
    properties: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`f${i}`, { type: 'string', maxLength: 9 }]),
    ),
  });
  assert.equal(schemaSizeProblem(flat(2000)), null);
  assert.equal(
    schemaSizeProblem(flat(2250)),
    `the schema has 4502 keywords (its $refs counted as what they name): more than ${SCHEMA_MAX_KEYWORDS} are too large to check; send one of fewer keywords (fewer properties or subschemas, or $refs to smaller ones)`,
  );
});

test('a $ref whose fragment is no percent-encoding names nothing in the schema: it adds nothing, and the count does not throw', () => {
  // Ajv refuses such a $ref; the count, before it, threw URIError (a 500 for PUT).
  for (const ref of ['#/%', '#/%zz', '#%E0%A4']) {
    assert.equal(schemaKeywordCount({ type: 'object', allOf: [{ $ref: ref }] }), 3, ref);
  }
});

test('a chain of $refs deeper than the stack goes is counted, link by link', () => {
  const $defs: Record<string, unknown> = { a20000: { type: 'string' } };
  for (let i = 0; i < 20_000; i++) $defs[`a${i}`] = { $ref: `#/$defs/a${i + 1}` };
  assert.equal(schemaKeywordCount({ $defs, $ref: '#/$defs/a0' }), 1 + 20_000 + 1);
});

test('an allOf of 300,000 subschemas (the 1 MiB body holds 200,000 trues) is counted, not a stack overflow', () => {
  // Each was passed to push as an argument: past ~120,000 the count threw RangeError, which ended
  // the check's child ("ended the schema check process (exit code 1)"), and before it a 500.
  assert.equal(schemaKeywordCount({ allOf: Array.from({ length: 300_000 }, () => true) }), 300_001);
  assert.equal(schemaKeywordCount({ anyOf: Array.from({ length: 300_000 }, () => ({})) }), 1);
});
