/**
 * How many queued accepts one PostgreSQL group transaction writes (accept-batch.ts acceptsWithin):
 * the first always, then each that keeps the group's new deliveries within its bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AcceptJob, acceptsWithin } from '../../src/store/postgres/accept-batch.ts';

const endpoint = (id: string, eventTypes: string[] = []) => ({
  id,
  url: `http://127.0.0.1/${id}`,
  status: 'active' as const,
  dev: false,
  eventTypes,
});
const job = (projectId: string, events: number, type = 'a'): AcceptJob => ({
  projectId,
  now: 0,
  events: Array.from({ length: events }, () => ({
    type,
    payload: null,
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
  })),
});

test('accepts are taken while their deliveries fit the bound; the first whatever its size', () => {
  const endpoints = new Map([
    ['p1', Array.from({ length: 60 }, (_, i) => endpoint(`ep${i}`))],
    ['p2', [endpoint('only-b', ['b'])]],
  ]);
  // 1,000 events to 60 endpoints: 60,000 deliveries each.
  assert.equal(acceptsWithin([job('p1', 1_000), job('p1', 1_000), job('p1', 1_000)], endpoints, 100_000), 1);
  assert.equal(acceptsWithin([job('p1', 1_000), job('p1', 1_000)], endpoints, 120_000), 2);
  assert.equal(acceptsWithin([job('p1', 3_000), job('p1', 1)], endpoints, 100_000), 1);
  // Counted on the filters: p2's endpoint takes no 'a' events, so 5,000 of them create nothing.
  assert.equal(acceptsWithin([job('p1', 1_000), job('p2', 5_000), job('p1', 600)], endpoints, 100_000), 3);
  assert.equal(acceptsWithin([job('p1', 1_000), job('p2', 5_000, 'b')], endpoints, 60_000), 1);
});
