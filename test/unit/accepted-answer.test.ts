/** The 202 answer sent in pieces: the same text JSON.stringify writes for the whole answer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerPieces, repeatJson } from '../../src/api/accepted-answer.ts';
import { eventJson } from '../../src/api/serialize.ts';
import { newDelivery, newEvent } from '../../src/domain/fan-out.ts';
import { parseJsonExact } from '../../src/domain/json-text.ts';
import type { AcceptedEvent } from '../../src/store/store.ts';

const now = 1_764_600_000_000;
const accepted = (deliveries: number, i: number, extra: Record<string, unknown> = {}): AcceptedEvent => {
  const event = newEvent(
    `evt_${i}`,
    'prj_1',
    {
      type: 'order.created',
      // Numbers kept as their digits (JSON.rawJSON), and text that JSON escapes.
      payload: parseJsonExact(`{"id": 18446744073709551615, "n": ${i}, "s": "é \\" \\n \\u2028"}`) as never,
      test: false,
      idempotencyKey: null,
      callbackUrl: null,
      ...extra,
    },
    now + i,
  );
  const list = Array.from({ length: deliveries }, (_, j) =>
    newDelivery('prj_1', event.id, `ep_${j}`, `https://hooks.example/${j}`, now + i),
  );
  return { event, deliveries: list, duplicate: false };
};
/** The time leases are judged at (none of these deliveries is leased: every inFlight is false). */
const leaseNow = () => now;
const whole = (a: AcceptedEvent[], batch: boolean) => {
  const events = a.map((e) => eventJson(e.event, { deliveries: e.deliveries, leaseNow: now }));
  return JSON.stringify(batch ? { data: events } : events[0]);
};

test('pieces join to the text of the whole answer: batches, single events, small and split fan-outs', () => {
  const cases: [AcceptedEvent[], boolean][] = [
    [[accepted(0, 0)], true],
    [[accepted(0, 0)], false],
    [[accepted(1, 0)], false],
    [[accepted(100, 0)], false],
    [[accepted(101, 0)], false],
    [[accepted(250, 0, { callbackUrl: 'https://cb.example/x', callbackEnvelope: 'raw' })], false],
    [Array.from({ length: 30 }, (_, i) => accepted(i * 7, i)), true],
    [[accepted(300, 0), accepted(0, 1), accepted(100, 2), accepted(201, 3)], true],
  ];
  for (const [a, batch] of cases)
    assert.equal([...answerPieces(a, batch, false, leaseNow)].join(''), whole(a, batch));
});

test('no piece is large: an event of 1,000 deliveries goes out in groups', () => {
  const pieces = [...answerPieces([accepted(1000, 0), accepted(100, 1)], true, false, leaseNow)];
  assert.ok(Math.max(...pieces.map((p) => p.length)) < 64 * 1024, 'each piece well under 128 KiB');
});

test('a repeat withheld from a send-only key is one small piece, its deliveries and payload left out', () => {
  const repeat = { ...accepted(1000, 0), duplicate: true };
  const fresh = accepted(3, 1);
  const text = [...answerPieces([repeat, fresh], true, true, leaseNow)].join('');
  assert.equal(
    text,
    JSON.stringify({
      data: [
        repeatJson(repeat.event),
        eventJson(fresh.event, { deliveries: fresh.deliveries, leaseNow: now }),
      ],
    }),
  );
  assert.ok(!text.includes('hooks.example/999'), 'none of the repeat’s deliveries');
  assert.equal(JSON.parse(text).data[0].payload, undefined);
});
