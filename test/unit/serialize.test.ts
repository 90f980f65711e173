/** Wire shapes: times are ISO-8601, formatted once per distinct time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { iso } from '../../src/api/serialize.ts';

test('iso formats every time like Date#toISOString, whatever came before (repeats, nulls)', () => {
  const time = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 4_102_444_800_000 }));
  fc.assert(
    fc.property(fc.array(fc.oneof(time, fc.constant(1_764_600_000_000)), { maxLength: 50 }), (times) => {
      for (const ms of times) assert.equal(iso(ms), ms === null ? null : new Date(ms).toISOString());
    }),
  );
});
