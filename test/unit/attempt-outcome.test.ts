/**
 * The record of one finished try (attempt-outcome.ts) takes its outcome and error from
 * classifyResult, the classification the sender's tests check on real answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptRecord } from '../../src/delivery/attempt-outcome.ts';
import type { Delivery, HeraldEvent } from '../../src/domain/types.ts';

const now = Date.UTC(2030, 0, 1);
const delivery = {
  id: 'dlv_1',
  projectId: 'prj_1',
  eventId: 'evt_1',
  endpointId: 'ep_1',
  url: 'https://a.example/',
  attempts: 0,
} as Delivery;
const event = { id: 'evt_1', projectId: 'prj_1', type: 'player.paid', payload: {} } as unknown as HeraldEvent;

const record = (result: {
  response: { status: number; headers: Record<string, string>; body: string } | null;
  error: { kind: 'timeout'; message: string } | null;
}) =>
  attemptRecord({
    delivery,
    event,
    request: { method: 'POST', url: delivery.url, headers: {}, body: '{}' },
    result: { startedAt: now, durationMs: 5, ...result } as Parameters<typeof attemptRecord>[0]['result'],
    schedule: [1], // seconds
    jitter: 0,
    random: () => 0.5,
    countsForEndpoint: true,
    workerId: 'w1',
    now,
  });

test('attemptRecord: 2xx succeeds without an error; 500 fails with http_status; 410 fails for good; a timeout keeps its kind', () => {
  const ok = record({ response: { status: 204, headers: {}, body: '' }, error: null });
  assert.equal(ok.attempt.outcome, 'succeeded');
  assert.equal(ok.attempt.error, null);
  assert.deepEqual(ok.next, { status: 'succeeded', nextAttemptAt: null });
  const failed = record({ response: { status: 500, headers: {}, body: '' }, error: null });
  assert.deepEqual(failed.attempt.error, { kind: 'http_status', message: 'HTTP 500' });
  assert.deepEqual(failed.next, { status: 'pending', nextAttemptAt: now + 1_000 });
  const gone = record({ response: { status: 410, headers: {}, body: '' }, error: null });
  assert.equal(gone.endpointEffect, 'gone');
  assert.deepEqual(gone.next, { status: 'failed', nextAttemptAt: null });
  const timeout = record({ response: null, error: { kind: 'timeout', message: 'no answer' } });
  assert.deepEqual(timeout.attempt.error, { kind: 'timeout', message: 'no answer' });
});

test('attemptRecord: neither a response nor an error is an internal failure, not "HTTP null"', () => {
  const neither = record({ response: null, error: null });
  assert.equal(neither.attempt.outcome, 'failed');
  assert.deepEqual(neither.attempt.error, { kind: 'internal', message: 'no response and no error' });
});
