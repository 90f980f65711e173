import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { nestsDeeperThan } from '../../src/api/body-parsers.ts';

/** The plain character-by-character scan the fast one must agree with. */
function reference(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > max) return true;
    } else if (c === '}' || c === ']') depth--;
  }
  return false;
}

test('nesting is counted outside strings only, escapes included', () => {
  assert.equal(nestsDeeperThan('[[[1]]]', 2), true);
  assert.equal(nestsDeeperThan('[[[1]]]', 3), false);
  assert.equal(nestsDeeperThan('["[[[[[[", 1]', 1), false);
  assert.equal(nestsDeeperThan('["\\"[[[[", [[1]]]', 2), true);
  assert.equal(nestsDeeperThan('["\\\\", [[1]]]', 2), true, 'an escaped backslash does not escape the quote');
  assert.equal(nestsDeeperThan('["\\\\\\"[[[[[[", 1]', 1), false);
  assert.equal(nestsDeeperThan(`{"a":"${'x'.repeat(10_000)}","b":[[[]]]}`, 3), true);
});

test('agrees with a plain character scan on any text', () => {
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ',', ':'), maxLength: 60 }),
    fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(text, fc.integer({ min: 0, max: 6 }), (t, max) => {
      // Texts shorter than 2 * (max + 1) are answered false without a scan; the reference agrees
      // on every text that could nest that deep.
      if (t.length < 2 * (max + 1)) return;
      assert.equal(nestsDeeperThan(t, max), reference(t, max), JSON.stringify(t));
    }),
    { numRuns: 5_000 },
  );
});

// Each escape in a string searched again for the string's closing quote from where it stood: a
// 2 MiB body of one string of `\u0000` took 29 s (4 MiB: 198 s, 16 MiB: over 5 minutes), all on the
// thread that serves the API, before any 413 or 202. Now one pass: a few ms.
test('a long string of escapes is scanned in one pass', () => {
  const text = `{"type":"a","payload":"${'\\u0000'.repeat(350_000)}","b":[[[1]]]}`;
  const started = performance.now();
  assert.equal(nestsDeeperThan(text, 3), true);
  assert.equal(nestsDeeperThan(text, 4), false);
  const ms = performance.now() - started;
  assert.ok(ms < 1_000, `${ms.toFixed(0)} ms for ${text.length} characters`);
});
