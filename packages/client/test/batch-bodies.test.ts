/** How sendEvents cuts events into batch request bodies: by count, by UTF-8 bytes, in order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchBodies } from '../src/batch-bodies.ts';
import { HeraldEventTooLargeError } from '../src/errors.ts';

const events = (n: number, payload: (i: number) => unknown = (i) => i) =>
  Array.from({ length: n }, (_, i) => ({ type: 't', payload: payload(i) }));

/** The events back out of the bodies, to check nothing is lost, repeated or reordered. */
const unpack = (bodies: ReturnType<typeof batchBodies>) =>
  bodies.flatMap((b) => (JSON.parse(b.json) as { events: unknown[] }).events);

test('no events, no bodies', () => {
  assert.deepEqual(batchBodies([], 10, 1000), []);
});

test('by count when the bytes allow: full batches, then the rest', () => {
  const input = events(25);
  const bodies = batchBodies(input, 10, 1024 * 1024);
  assert.deepEqual(
    bodies.map((b) => [b.first, b.count]),
    [
      [0, 10],
      [10, 10],
      [20, 5],
    ],
  );
  assert.deepEqual(unpack(bodies), input);
});

test('by bytes: every body within the limit, counting UTF-8 bytes, as full as it can be', () => {
  const input = events(100, (i) => ({ i, text: 'é'.repeat(50 + (i % 7) * 30) }));
  const limit = 2_000;
  const bodies = batchBodies(input, 1000, limit);
  for (const [k, b] of bodies.entries()) {
    const bytes = Buffer.byteLength(b.json);
    assert.ok(bytes <= limit, `body ${k} is ${bytes} bytes`);
    const next = input[b.first + b.count];
    // The next event would not have fitted (else the body was cut too early).
    if (next) assert.ok(bytes + 1 + Buffer.byteLength(JSON.stringify(next)) > limit, `body ${k} cut early`);
  }
  assert.ok(bodies.length > 1);
  assert.deepEqual(unpack(bodies), input);
});

test('an event larger than the limit on its own throws, naming its index, before any body is made', () => {
  const input = [
    { type: 'a', payload: 1 },
    { type: 'big', payload: 'x'.repeat(500) },
    { type: 'c', payload: 3 },
  ];
  assert.throws(
    () => batchBodies(input, 10, 200),
    (e: unknown) => e instanceof HeraldEventTooLargeError && e.index === 1 && e.maxBodyBytes === 200,
  );
  // One that fills the body exactly still goes, alone.
  const exact = { type: 'big', payload: '' };
  exact.payload = 'x'.repeat(200 - '{"events":[]}'.length - JSON.stringify(exact).length);
  const bodies = batchBodies([input[0], exact, input[2]], 10, 200);
  assert.deepEqual(
    bodies.map((b) => b.count),
    [1, 1, 1],
  );
  assert.equal(Buffer.byteLength(bodies[1]!.json), 200);
});
