import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advanceTurns,
  CALLBACKS_ID,
  callbacksKey,
  fairPart,
  leftOutKeys,
  markTurnCursor,
  newTurnCursor,
  planTurns,
  resetTurnCursor,
  turnLimits,
  withCallbackTurns,
} from '../../src/store/claim-turns.ts';

const endpoints = (projectId: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ projectId, id: `${projectId}${i}` }));

test('turns go to projects first: a one-endpoint project is visited in every claim beside a 1,000-endpoint one', () => {
  const all = [...endpoints('a', 1000), ...endpoints('b', 1)];
  const cursor = newTurnCursor();
  const seenOfA = new Set<string>();
  for (let claim = 0; claim < 10; claim++) {
    const plan = planTurns(all, new Set(), cursor, 256);
    assert.equal(plan.visited.length, 256);
    assert.ok(
      plan.visited.slice(0, 2).some((ep) => ep.id === 'b0'),
      `claim ${claim}: b in the first round`,
    );
    const limits = turnLimits(plan, 64);
    const b = plan.visited.findIndex((ep) => ep.id === 'b0');
    assert.equal(limits[b], 32, 'half the turn for the project of one endpoint');
    for (const [i, ep] of plan.visited.entries()) if (ep.projectId === 'a') assert.equal(limits[i], 1);
    // A claim reaches the first round and 32 of a's endpoints (a row each, 64 rows in all).
    advanceTurns(cursor, plan, 33);
    for (const ep of plan.visited.slice(0, 33)) if (ep.projectId === 'a') seenOfA.add(ep.id);
  }
  assert.equal(seenOfA.size, 320, "a's endpoints take their turns in order, none twice in 10 claims");
});

test('turns: endpoints left out are skipped, idle ones get no share, and many projects take turns', () => {
  const all = [...endpoints('a', 3), ...endpoints('b', 2)];
  const plan = planTurns(all, new Set(['a0']), newTurnCursor(), 10);
  assert.deepEqual(
    plan.visited.map((ep) => ep.id),
    ['a1', 'b0', 'a2', 'b1'],
  );
  // Only a1 and b1 have work due: 5 each.
  assert.deepEqual(turnLimits(plan, 10, new Set([0, 3])), [5, 0, 0, 5]);
  // 300 projects of one endpoint, 256 visits a claim: the next claim starts with the 257th.
  const many = Array.from({ length: 300 }, (_, i) => ({ projectId: `p${i}`, id: `e${i}` }));
  const cursor = newTurnCursor();
  const first = planTurns(many, new Set(), cursor, 256);
  advanceTurns(cursor, first, 256);
  assert.equal(planTurns(many, new Set(), cursor, 256).visited[0]!.id, 'e256');
});

test('turns among 200,000 projects: a claim visits its 256, where it threw RangeError past ~125,000 (an argument each)', () => {
  // Every claim that finds more due than it takes plans its turns: a throw here failed them all,
  // every tenant's deliveries with them, on an installation of that many projects with an endpoint.
  const many = Array.from({ length: 200_000 }, (_, i) => ({ projectId: `p${i}`, id: `e${i}` }));
  const plan = planTurns(withCallbackTurns(many, ['p7']), new Set(), newTurnCursor(), 256);
  assert.equal(plan.visited.length, 256);
  assert.deepEqual(
    plan.visited.slice(0, 3).map((ep) => ep.id),
    ['e0', 'e1', 'e2'],
  );
});

test('the cursor forgets projects that no longer have an active endpoint: churn leaves it as large as the projects now', () => {
  const cursor = newTurnCursor();
  // 10,000 projects created, sent to and deleted, 5 alive at a time, beside one that stays.
  const kept = endpoints('kept', 3);
  for (let p = 0; p < 10_000; p++) {
    const alive = [...kept];
    for (let q = Math.max(0, p - 4); q <= p; q++) alive.push(...endpoints(`p${q}-`, 2));
    const plan = planTurns(alive, new Set(), cursor, 256);
    advanceTurns(cursor, plan, plan.visited.length);
  }
  assert.ok(cursor.endpoint.size <= 2 * 6 + 64, `${cursor.endpoint.size} projects in the cursor, 6 active`);
  // A project left out for now (its endpoints saturated) keeps its place.
  const before = cursor.endpoint.get('kept');
  assert.ok(before !== undefined && before > 0);
  const last = planTurns(kept, new Set(kept.map((ep) => ep.id)), cursor, 256);
  assert.equal(last.visited.length, 0);
  assert.equal(cursor.endpoint.get('kept'), before);
});

test('the part in turn: a quarter of a claim of 8 or more, one row for every 4 that smaller claims take', () => {
  const cursor = newTurnCursor();
  assert.deepEqual(
    [256, 32, 8].map((limit) => fairPart(limit, cursor)),
    [64, 8, 2],
  );
  // Claims of 4 (4 MiB of room, 1 MiB events) took strictly the oldest due: none in turn.
  assert.deepEqual(
    [4, 4, 4].map((limit) => fairPart(limit, cursor)),
    [1, 1, 1],
  );
  assert.deepEqual(
    [1, 1, 1, 1, 1, 1, 1, 1].map((limit) => fairPart(limit, cursor)),
    [0, 0, 0, 1, 0, 0, 0, 1],
  );
  const parts = [3, 2, 7, 5, 6].map((limit) => fairPart(limit, cursor));
  assert.equal(
    parts.reduce((a, b) => a + b),
    Math.floor((3 + 2 + 7 + 5 + 6) / 4),
  );
  assert.ok(parts.every((part, i) => part <= [3, 2, 7, 5, 6][i]!));
});

test("a project's callbacks take their turns as one more of its endpoints, so one project's backlog of them takes only its part", () => {
  const active = [
    { projectId: 'a', id: 'a1' },
    { projectId: 'b', id: 'b1' },
  ];
  // Project a sends callbacks only; b has an endpoint and callbacks; c callbacks only.
  const turns = withCallbackTurns(active, ['a', 'b', 'c']);
  const plan = planTurns(turns, new Set(), newTurnCursor(), 256);
  assert.deepEqual(
    plan.visited.map((ep) => `${ep.projectId}/${ep.id === CALLBACKS_ID ? 'callbacks' : ep.id}`),
    ['a/a1', 'b/b1', 'c/callbacks', 'a/callbacks', 'b/callbacks'],
  );
  // Each project a third of 60, split between its endpoint and its callbacks where it has both.
  assert.deepEqual(turnLimits(plan, 60), [10, 10, 20, 10, 10]);
  assert.equal(withCallbackTurns(active, []), active, 'none due: the endpoints as they are');
  // A project at its cap has its callbacks left out (their key among the endpoints left out).
  const keys = leftOutKeys({ excludeEndpointIds: ['b1'], excludeCallbackProjectIds: ['a'] });
  assert.deepEqual(keys, ['b1', callbacksKey('a')]);
  const without = planTurns(turns, new Set(keys), newTurnCursor(), 256);
  assert.deepEqual(
    without.visited.map((ep) => `${ep.projectId}/${ep.id === CALLBACKS_ID ? 'callbacks' : ep.id}`),
    ['a/a1', 'b/callbacks', 'c/callbacks'],
  );
  const plain = ['b1'];
  assert.equal(leftOutKeys({ excludeEndpointIds: plain }), plain, 'no callbacks left out: the list as it is');
});

/** A cursor's places, counting the entries read by walking them (a copy walks them all). */
class CountingPlaces extends Map<string, number> {
  read = 0;
  override *[Symbol.iterator](): MapIterator<[string, number]> {
    for (const entry of super.entries()) {
      this.read++;
      yield entry;
    }
  }
  override entries(): MapIterator<[string, number]> {
    return this[Symbol.iterator]();
  }
  override *keys(): MapIterator<string> {
    for (const [key] of this) yield key;
  }
  override *values(): MapIterator<number> {
    for (const [, value] of this) yield value;
  }
  override forEach(fn: (value: number, key: string, map: Map<string, number>) => void): void {
    for (const [key, value] of this) fn(value, key, this);
  }
}

test("a claim that may roll back puts back only the places it moved: its start reads none of the others' (it copied the whole cursor, at every claim)", () => {
  const cursor = newTurnCursor();
  const places = new CountingPlaces();
  for (let i = 0; i < 100_000; i++) places.set(`p${i}`, i % 3);
  cursor.endpoint = places;
  cursor.pruneAt = Number.POSITIVE_INFINITY; // no look for gone projects in this test
  const eps = [...endpoints('p1', 2), ...endpoints('p2', 3), ...endpoints('new', 2)];
  const claim = () => {
    fairPart(5, cursor);
    const plan = planTurns(eps, new Set(), cursor, 256);
    advanceTurns(cursor, plan, plan.visited.length);
  };
  const before = { project: cursor.project, owed: cursor.owed };

  // A claim that rolls back: the cursor is where it was, 'new' not added.
  places.read = 0;
  let start = markTurnCursor(cursor);
  claim();
  resetTurnCursor(cursor, start);
  assert.ok(places.read < 100, `a claim of 3 projects read ${places.read} of the cursor's 100,000 places`);
  assert.deepEqual({ project: cursor.project, owed: cursor.owed }, before);
  assert.equal(cursor.endpoint.size, 100_000);
  assert.equal(cursor.endpoint.get('p1'), 1);
  assert.equal(cursor.endpoint.get('p2'), 2);
  assert.equal(cursor.endpoint.has('new'), false);

  // One that commits moves it; the next that rolls back puts back only its own moves.
  start = markTurnCursor(cursor);
  claim();
  const moved = new Map(cursor.endpoint);
  const after = { project: cursor.project, owed: cursor.owed };
  places.read = 0;
  start = markTurnCursor(cursor);
  claim();
  resetTurnCursor(cursor, start);
  assert.ok(places.read < 100, `a claim of 3 projects read ${places.read} of the cursor's 100,000 places`);
  assert.deepEqual({ project: cursor.project, owed: cursor.owed }, after);
  assert.deepEqual(new Map(cursor.endpoint), moved);
  assert.equal(cursor.endpoint.get('new'), 2, "the committed claim's place for a new project stays");
});

test('a claim that looked for gone projects and rolled back gives the cursor back their places too', () => {
  const cursor = newTurnCursor();
  for (let i = 0; i < 100; i++) cursor.endpoint.set(`p${i}`, i);
  const start = markTurnCursor(cursor);
  // Only two projects have active endpoints now: the look (100 places, past 64) drops the others.
  const plan = planTurns([...endpoints('p1', 2), ...endpoints('p2', 2)], new Set(), cursor, 256);
  advanceTurns(cursor, plan, plan.visited.length);
  assert.equal(cursor.endpoint.size, 2);
  resetTurnCursor(cursor, start);
  assert.equal(cursor.endpoint.size, 100);
  for (let i = 0; i < 100; i++) assert.equal(cursor.endpoint.get(`p${i}`), i);
  assert.equal(cursor.pruneAt, 64);
});
