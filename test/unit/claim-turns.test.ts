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
  type TurnCursor,
  type TurnEndpoint,
  turnKey,
  turnLimits,
  turnList,
  turnListOf,
  withCallbackTurnList,
  withCallbackTurns,
  withProjectsRead,
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

test('a claim plans its turns over the projects it visits, not over all 100,000 of a kept list', () => {
  // The stores keep the list grouped by project between reads (every 250 ms): planned from the
  // bare list at each claim, every endpoint was grouped again, 25-70 ms of JavaScript per claim.
  const many = Array.from({ length: 100_000 }, (_, i) => ({ projectId: `p${i}`, id: `e${i}` }));
  const list = withCallbackTurnList(turnList(many), ['p7', 'cb']);
  let read = 0;
  const ids = new Proxy(list.ids, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) read++;
      return Reflect.get(target, key, receiver);
    },
  });
  const counted = { ...list, ids };
  const cursor = newTurnCursor();
  for (let claim = 0; claim < 10; claim++) {
    // The first claim that leaves an endpoint out finds each endpoint's project, once per list.
    if (claim === 1) read = 0;
    // Two endpoints left out (saturated), and one project's callbacks (at its cap).
    const plan = planTurns(counted, new Set(['e5', 'e99999', callbacksKey('p7')]), cursor, 256);
    assert.equal(plan.visited.length, 256);
    advanceTurns(cursor, plan, 256);
  }
  // A project looked at has one endpoint (p7 its callbacks too), and the left-out ones are looked at.
  assert.ok(read <= 9 * (256 + 4), `${read} endpoints looked at in 9 claims`);
  assert.equal(cursor.project, 2560);
});

/** planTurns as it was, over the bare list at each claim: the reference the kept list must match. */
function referencePlan(
  endpoints: readonly TurnEndpoint[],
  leftOut: ReadonlySet<string>,
  cursor: TurnCursor,
  max: number,
) {
  // One difference, on purpose: a project whose endpoints were all left out but whose callbacks
  // were due took its place after every project with an endpoint; now it keeps its own.
  const byProject = new Map<string, TurnEndpoint[]>();
  for (const ep of endpoints) {
    if (!byProject.has(ep.projectId)) byProject.set(ep.projectId, []);
    if (!leftOut.has(turnKey(ep))) byProject.get(ep.projectId)!.push(ep);
  }
  const groups = [...byProject.values()].filter((group) => group.length > 0);
  const p = groups.length;
  const visited: TurnEndpoint[] = [];
  const projectOf: number[] = [];
  if (p === 0) return { visited, projectOf, firstRound: 0 };
  const start = cursor.project % p;
  const order = Array.from({ length: p }, (_, i) => groups[(start + i) % p]!);
  let longest = 0;
  for (const group of groups) if (group.length > longest) longest = group.length;
  for (let round = 0; round < longest && visited.length < max; round++) {
    for (let i = 0; i < p && visited.length < max; i++) {
      const group = order[i]!;
      if (round >= group.length) continue;
      const from = cursor.endpoint.get(group[0]!.projectId) ?? 0;
      visited.push(group[(from + round) % group.length]!);
      projectOf.push(i);
    }
  }
  return { visited, projectOf, firstRound: Math.min(p, max) };
}

test('the kept list plans the same turns as the bare list did, endpoints and callbacks left out or not', () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (seed >>> 8) % n;
  };
  for (let run = 0; run < 300; run++) {
    // Projects of 1 to 5 endpoints (some of 40), listed by project as the stores read them.
    const active: TurnEndpoint[] = [];
    const projects = 1 + random(run % 3 === 0 ? 400 : 30);
    for (let p = 0; p < projects; p++) {
      const n = random(10) === 0 ? 40 : 1 + random(5);
      for (let e = 0; e < n; e++) active.push({ projectId: `p${p}`, id: `p${p}e${e}` });
    }
    const callbacks = Array.from({ length: random(4) }, () => `p${random(projects + 3)}`).filter(
      (id, i, all) => all.indexOf(id) === i,
    );
    const turns = withCallbackTurns(active, callbacks);
    const list = withCallbackTurnList(turnList(active), callbacks);
    const cursor = newTurnCursor();
    const reference = newTurnCursor();
    for (let claim = 0; claim < 6; claim++) {
      const leftOut = new Set<string>();
      for (let k = random(6); k > 0; k--) {
        const ep = turns[random(turns.length)]!;
        leftOut.add(turnKey(ep));
      }
      // Sometimes every endpoint of a project, so that it has no turn at all.
      if (random(2) === 0) for (const ep of turns) if (ep.projectId === 'p0') leftOut.add(turnKey(ep));
      const max = [256, 16, 3][random(3)]!;
      const plan = planTurns(list, leftOut, cursor, max);
      assert.deepEqual(plan, referencePlan(turns, leftOut, reference, max), `run ${run}, claim ${claim}`);
      const reached = random(plan.visited.length + 1);
      advanceTurns(cursor, plan, reached);
      advanceTurns(reference, plan, reached);
    }
  }
});

test('a claim rolled back puts the cursor back where it started, its places and its project', () => {
  const all = [...endpoints('a', 5), ...endpoints('b', 1), ...endpoints('c', 2)];
  const cursor = newTurnCursor();
  advanceTurns(cursor, planTurns(all, new Set(), cursor, 4), 4);
  const before = { project: cursor.project, places: [...cursor.endpoint].sort(), owed: cursor.owed };
  const mark = markTurnCursor(cursor);
  fairPart(1, cursor);
  advanceTurns(cursor, planTurns(all, new Set(), cursor, 8), 8);
  advanceTurns(cursor, planTurns(all, new Set(), cursor, 8), 8);
  assert.notDeepEqual([...cursor.endpoint].sort(), before.places);
  resetTurnCursor(cursor, mark);
  assert.deepEqual(
    { project: cursor.project, places: [...cursor.endpoint].sort(), owed: cursor.owed },
    before,
  );
});

test("a list with some projects' endpoints read again is the list a read of them all makes, whatever changed", () => {
  // A change to one project's endpoints read every active endpoint again: 63-82 ms at 100,000.
  const sorted = (pairs: [string, string][]) =>
    pairs.sort(([p1, e1], [p2, e2]) => (p1 < p2 ? -1 : p1 > p2 ? 1 : e1 < e2 ? -1 : e1 > e2 ? 1 : 0));
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    // Up to 12 projects of up to 4 endpoints, active or not, before and after a change to some.
    const before = new Map<string, string[]>();
    for (let p = 0; p < 12; p++)
      before.set(
        `prj_${p.toString().padStart(2, '0')}`,
        endpoints('ep', random(5)).map((ep) => ep.id),
      );
    const after = new Map(before);
    const changed = new Set<string>();
    for (let i = random(4); i >= 0; i--) {
      const projectId = `prj_${random(12).toString().padStart(2, '0')}`;
      changed.add(projectId);
      after.set(
        projectId,
        endpoints('ep', 5)
          .filter(() => random(2) === 1)
          .map((ep) => ep.id),
      );
    }
    const pairs = (m: Map<string, string[]>, only?: Set<string>) =>
      sorted(
        [...m]
          .filter(([p]) => !only || only.has(p))
          .flatMap(([p, ids]) => ids.map((id): [string, string] => [p, id])),
      );
    const kept = turnListOf(pairs(before), true);
    const { projectIds, ids, starts } = withProjectsRead(kept, changed, pairs(after, changed))!;
    assert.deepEqual({ projectIds, ids, starts }, turnListOf(pairs(after), true), `round ${round}`);
  }
  // Out of the code units' order (a database collation of its own): no place to put a project in.
  const unordered = turnListOf([
    ['prj_b', 'ep_1'],
    ['prj_a', 'ep_1'],
  ]);
  assert.equal(withProjectsRead(unordered, new Set(['prj_c']), [['prj_c', 'ep_1']]), undefined);
  const kept = turnListOf([['prj_a', 'ep_1']], true);
  assert.equal(
    withProjectsRead(kept, new Set(['prj_b']), [
      ['prj_b', 'ep_2'],
      ['prj_b', 'ep_1'],
    ]),
    undefined,
  );
  assert.equal(withProjectsRead(kept, new Set(['prj_b']), [['prj_c', 'ep_1']]), undefined, 'not one it read');
});
