import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attemptCountProblems,
  CALLBACK_DELIVERY,
  counterSum,
  fanoutProblems,
  listingProblems,
  missingArrivals,
} from '../../bench/lib/soak-checks.ts';
import { EVENT_MIX, SOAK_ENDPOINTS, scaledEndpoints, typeOf } from '../../bench/lib/soak-plan.ts';
import { trend } from '../../bench/lib/soak-sample.ts';

const endpoint = (key: string) => SOAK_ENDPOINTS.find((e) => e.key === key)!;
const typeIndex = (type: string) => EVENT_MIX.findIndex((m) => m.type === type);

test('fan-out: a missing filtered-in endpoint and an unexpected filtered-out one are named; the failing one may be absent', () => {
  const all = ['a', 'b', 'paid', 'flaky', 'slow'];
  assert.deepEqual(fanoutProblems('order.paid', all, SOAK_ENDPOINTS), { missing: [], unexpected: [] });
  assert.deepEqual(fanoutProblems('order.paid', ['a', 'b', 'flaky', 'slow'], SOAK_ENDPOINTS), {
    missing: ['paid'],
    unexpected: [],
  });
  assert.deepEqual(fanoutProblems('order.created', [...all], SOAK_ENDPOINTS), {
    missing: [],
    unexpected: ['paid', 'slow'],
  });
  // Disabled now and then by its failures: its deliveries come and go.
  assert.deepEqual(fanoutProblems('order.refunded', ['a', 'b', 'flaky'], SOAK_ENDPOINTS).missing, []);
  assert.deepEqual(
    fanoutProblems('order.refunded', ['a', 'b', 'flaky', 'failing'], SOAK_ENDPOINTS).missing,
    [],
  );
});

test('fan-out: an event with a callbackUrl has exactly one delivery without an endpoint; one without has none', () => {
  const all = ['a', 'b', 'paid', 'flaky', 'slow'];
  assert.deepEqual(fanoutProblems('order.paid', [...all, CALLBACK_DELIVERY], SOAK_ENDPOINTS, true), {
    missing: [],
    unexpected: [],
  });
  assert.deepEqual(fanoutProblems('order.paid', all, SOAK_ENDPOINTS, true), {
    missing: [CALLBACK_DELIVERY],
    unexpected: [],
  });
  assert.deepEqual(fanoutProblems('order.paid', [...all, CALLBACK_DELIVERY], SOAK_ENDPOINTS), {
    missing: [],
    unexpected: [CALLBACK_DELIVERY],
  });
  assert.deepEqual(
    fanoutProblems('order.paid', [...all, CALLBACK_DELIVERY, CALLBACK_DELIVERY], SOAK_ENDPOINTS, true),
    { missing: [], unexpected: [CALLBACK_DELIVERY] },
  );
});

test('arrivals: only the events an endpoint takes are expected at it', () => {
  const accepted = {
    ids: ['evt_1', 'evt_2', 'evt_3'],
    types: [typeIndex('order.created'), typeIndex('order.paid'), typeIndex('order.paid')],
  };
  assert.deepEqual(missingArrivals(accepted, endpoint('paid'), new Set(['evt_2'])), ['evt_3']);
  assert.deepEqual(missingArrivals(accepted, endpoint('a'), new Set(['evt_2'])), ['evt_1', 'evt_3']);
  assert.deepEqual(missingArrivals(accepted, endpoint('a'), new Set(['evt_1', 'evt_2', 'evt_3'])), []);
});

test('listing: unlisted events, another deliveryCount and events nobody sent are told apart; test sends are expected', () => {
  const accepted = new Map([
    ['evt_1', 4],
    ['evt_2', 6],
    ['evt_3', 4],
  ]);
  const listed = new Map<string, number | null>([
    ['evt_1', 4],
    ['evt_2', 5],
    ['evt_t', 1],
    ['evt_x', 1],
  ]);
  assert.deepEqual(listingProblems(accepted, listed, new Set(['evt_t'])), {
    unlisted: ['evt_3'],
    countDiffers: ['evt_2'],
    unknown: ['evt_x'],
  });
});

test('attempt counts: a delivery counting more or fewer attempts than are listed', () => {
  const deliveries = [
    { id: 'dlv_1', attempts: 2 },
    { id: 'dlv_2', attempts: 0 },
    { id: 'dlv_3', attempts: 1 },
  ];
  const attempts = [{ deliveryId: 'dlv_1' }, { deliveryId: 'dlv_1' }, { deliveryId: 'dlv_2' }];
  assert.deepEqual(attemptCountProblems(deliveries, attempts), [
    { deliveryId: 'dlv_2', says: 0, listed: 1 },
    { deliveryId: 'dlv_3', says: 1, listed: 0 },
  ]);
});

test('counterSum adds the samples whose labels match', () => {
  const text = [
    '# HELP herald_http_requests_total x',
    'herald_http_requests_total{method="GET",route="/healthz",status_code="200"} 12',
    'herald_http_requests_total{method="POST",route="/x",status_code="503"} 2',
    'herald_http_requests_total{method="POST",route="/y",status_code="500"} 1',
    'herald_http_requests_total_other{status_code="500"} 9',
  ].join('\n');
  assert.equal(counterSum(text, 'herald_http_requests_total', /status_code="5\d\d"/), 3);
  assert.equal(counterSum(text, 'herald_http_requests_total'), 15);
});

test('trend: from the first sample after the warm-up, with its slope per minute', () => {
  const samples = [
    { atS: 30, value: 500 },
    { atS: 60, value: 100 },
    { atS: 90, value: 110 },
    { atS: 120, value: null },
    { atS: 150, value: 130 },
  ];
  const t = trend(samples, 60);
  assert.equal(t.first, 100);
  assert.equal(t.last, 130);
  assert.equal(t.max, 130);
  assert.equal(t.min, 100);
  assert.equal(t.perMinute, 20);
  assert.equal(trend([{ atS: 1, value: 5 }], 60).first, 5, 'all samples when none is after the warm-up');
});

test('the type mix follows its shares, and --smoke scales the retry delays', () => {
  const seen = EVENT_MIX.map(() => 0);
  for (let n = 0; n < 10_000; n++) seen[typeOf(n)]!++;
  for (const [i, m] of EVENT_MIX.entries()) {
    assert.ok(Math.abs(seen[i]! / 10_000 - m.share) < 0.01, `${m.type}: ${seen[i]}`);
  }
  assert.deepEqual(scaledEndpoints(0.1).find((e) => e.key === 'failing')!.retrySchedule, [0.1, 0.2]);
  assert.deepEqual(endpoint('failing').retrySchedule, [1, 2]);
});
