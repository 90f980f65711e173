/**
 * The byte budget's index of its waiters (src/delivery/byte-budget.ts) decides as the budget that
 * scanned every waiter in arrival order did (test/support/byte-budget-reference.ts): random
 * sequences of take, fits, give, forget, next and full over a few projects, every answer compared.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createByteBudget } from '../../src/delivery/byte-budget.ts';
import { createScanningByteBudget } from '../support/byte-budget-reference.ts';

type Op =
  | { op: 'take' | 'fits'; key: number | null; project: number; bytes: number }
  | { op: 'give'; which: number; drain: boolean }
  | { op: 'forget'; key: number }
  | { op: 'forgetAll' }
  | { op: 'next' }
  | { op: 'startNext'; bytes: number | null }
  | { op: 'full' };

const KEYS = 10;
const PROJECTS = 4;
/** Around the shares of a budget of 100 (a project 75, the reserve's small share 10), and past it. */
const bytesArb = fc.oneof(
  fc.constantFrom(1, 2, 5, 5, 9, 10, 10, 15, 20, 25, 30, 40, 50, 70, 75, 80, 101),
  fc.integer({ min: 1, max: 120 }),
);
const projectArb = fc.integer({ min: 0, max: PROJECTS - 1 });
const keyArb = fc.integer({ min: 0, max: KEYS - 1 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('take' as const),
      key: fc.option(keyArb, { freq: 6 }),
      project: projectArb,
      bytes: bytesArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('fits' as const),
      key: fc.option(keyArb, { freq: 6 }),
      project: projectArb,
      bytes: bytesArb,
    }),
  },
  {
    weight: 9,
    arbitrary: fc.record({ op: fc.constant('give' as const), which: fc.nat(), drain: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('forget' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'forgetAll' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'next' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('startNext' as const), bytes: fc.option(bytesArb, { freq: 3 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'full' as const }) },
);

interface Out<P> {
  projectId: string;
  bytes: number;
  passed: P | undefined;
}

/** How often the runs came to the cases that matter (they must, or the comparison says little). */
const seen = { passed: 0, started: 0, refused: 0 };

function run(ops: readonly Op[], options: { limitBytes: number; projectShare: number; smallShare: number }) {
  const old = createScanningByteBudget(options);
  const now = createByteBudget(options);
  type OldPassed = Exclude<ReturnType<typeof old.take>, boolean>;
  type NowPassed = Exclude<ReturnType<typeof now.take>, boolean>;
  const outOld: Out<OldPassed>[] = [];
  const outNow: Out<NowPassed>[] = [];
  /** What each waiting key last asked for (startNext asks for it again). */
  const asked = new Map<string, { projectId: string; bytes: number }>();
  const check = (step: number) => {
    assert.equal(now.used, old.used, `used after step ${step}`);
    assert.equal(now.waiting, old.waiting, `waiting after step ${step}`);
    for (let k = 0; k < KEYS; k++)
      assert.equal(now.waits(`k${k}`), old.waits(`k${k}`), `waits k${k} after ${step}`);
  };
  const take = (step: number, key: string | null, projectId: string, bytes: number) => {
    const a = old.take(key, projectId, bytes);
    const b = now.take(key, projectId, bytes);
    const shape = (x: boolean | { waiters: readonly unknown[] }) =>
      typeof x === 'boolean' ? x : `passed ${x.waiters.length}`;
    assert.equal(shape(b), shape(a), `step ${step}: take(${key}, ${projectId}, ${bytes})`);
    if (a === false) seen.refused++;
    else if (a !== true) seen.passed++;
    if (a !== false && b !== false) {
      outOld.push({ projectId, bytes, passed: a === true ? undefined : a });
      outNow.push({ projectId, bytes, passed: b === true ? undefined : b });
    } else if (key !== null) asked.set(key, { projectId, bytes });
  };
  /** Takes for the key next() names, with what it last asked for or `bytes`: whether one was named. */
  const startNext = (step: number, bytes: number | null): boolean => {
    const key = old.next();
    assert.equal(now.next(), key, `step ${step}: next`);
    if (key === null) return false;
    seen.started++;
    const w = asked.get(key)!;
    take(step, key, w.projectId, bytes ?? w.bytes);
    return true;
  };
  ops.forEach((o, step) => {
    switch (o.op) {
      case 'take':
      case 'fits': {
        const key = o.key === null ? null : `k${o.key}`;
        const projectId = `p${o.project}`;
        if (o.op === 'take') take(step, key, projectId, o.bytes);
        else {
          assert.equal(
            now.fits(key, projectId, o.bytes),
            old.fits(key, projectId, o.bytes),
            `step ${step}: fits`,
          );
          if (key !== null && old.waits(key)) asked.set(key, { projectId, bytes: o.bytes });
        }
        break;
      }
      case 'give': {
        if (outOld.length === 0) break;
        const i = o.which % outOld.length;
        const [a] = outOld.splice(i, 1);
        const [b] = outNow.splice(i, 1);
        old.give(a!.projectId, a!.bytes, a!.passed);
        now.give(b!.projectId, b!.bytes, b!.passed);
        // As the dispatcher does as an attempt ends: starts the waiters next() names, in order.
        for (let n = 0; o.drain && n < KEYS; n++) if (!startNext(step, null)) break;
        break;
      }
      case 'forget':
        old.forget(`k${o.key}`);
        now.forget(`k${o.key}`);
        break;
      case 'forgetAll':
        old.forgetAll();
        now.forgetAll();
        break;
      case 'next':
        assert.equal(now.next(), old.next(), `step ${step}: next`);
        break;
      case 'startNext':
        startNext(step, o.bytes);
        break;
      case 'full':
        assert.equal(now.full, old.full, `step ${step}: full`);
        break;
    }
    check(step);
  });
}

/** Each key bound to one of `projects` projects, as an endpoint is. */
const bound = (ops: readonly Op[], projects: number): Op[] =>
  ops.map((o) =>
    o.op === 'take' || o.op === 'fits' ? { ...o, project: (o.key ?? o.project) % projects } : o,
  );

const budgets = fc.constantFrom(
  { limitBytes: 100, projectShare: 0.75, smallShare: 0.1 },
  { limitBytes: 100, projectShare: 0.5, smallShare: 0.25 },
  { limitBytes: 100, projectShare: 1, smallShare: 1 / 16 },
  // Shares that hold projects back long before the budget does: waiters passed by their project.
  { limitBytes: 100, projectShare: 0.3, smallShare: 0.05 },
  { limitBytes: 200, projectShare: 0.25, smallShare: 0.1 },
);

test('the index decides as the scan did: which waiter goes, who passes whom, what is owed', () => {
  fc.assert(
    fc.property(
      budgets,
      fc.integer({ min: 1, max: PROJECTS }),
      fc.array(opArb, { minLength: 20, maxLength: 300, size: 'max' }),
      (options, projects, ops) => run(bound(ops, projects), options),
    ),
    { numRuns: 1000 },
  );
  assert.ok(seen.passed > 100 && seen.started > 100 && seen.refused > 100, JSON.stringify(seen));
});

test('the same when a waiting key asks for another project (it keeps its place and what passed it)', () => {
  fc.assert(
    fc.property(budgets, fc.array(opArb, { minLength: 20, maxLength: 300, size: 'max' }), (options, ops) =>
      run(ops, options),
    ),
    { numRuns: 400 },
  );
});
