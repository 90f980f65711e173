/**
 * `node bench/byte-budget.ts [--rounds=N]`: the CPU the dispatcher's byte budget
 * (src/delivery/byte-budget.ts) takes per call as endpoints wait for room for their bodies, for 10,
 * 1,000, 5,000 and 20,000 waiters, the budget as it is beside the one that scanned every waiter
 * (test/support/byte-budget-reference.ts), in the same run. Pure, in this process: seconds.
 *
 * The waiters are one project's endpoints, held back by its share (1 MiB bodies, the defaults:
 * 256 MiB, a project three quarters of it), as with a large event fanned out to many slow
 * receivers. Per call:
 * - `attempt end`: one of that project's attempts ends (give), the first waiter `next()` names is
 *   taken, and its endpoint waits again at the end of the line (its queue holds more);
 * - `other start`: another project's attempt starts and ends (take, give);
 * - `full`: the claim loop's `budget.full`.
 */
import { parseArgs } from 'node:util';
import { createByteBudget } from '../src/delivery/byte-budget.ts';
import { createScanningByteBudget } from '../test/support/byte-budget-reference.ts';
import { type Cell, formatTable } from './lib/table.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });

const MiB = 1024 * 1024;
const OPTIONS = { limitBytes: 256 * MiB, projectShare: 768 / 1024, smallShare: 64 / 1024 };
const SIZES = [10, 1_000, 5_000, 20_000];

/** What the scenarios call of a budget (the reference's Passed is its own type). */
interface Budget<P> {
  take(key: string | null, projectId: string, bytes: number): boolean | P;
  give(projectId: string, bytes: number, passed?: P): void;
  next(): string | null;
  readonly full: boolean;
  readonly waiting: number;
}

/** Project p1 at its share, `waiters` of its endpoints waiting. */
function loaded<P>(budget: Budget<P>, waiters: number): Budget<P> {
  let i = 0;
  while (budget.take(`out-${i}`, 'p1', MiB) === true) i++;
  // out-i waits first, the others behind it.
  for (let w = 0; w < waiters - 1; w++) budget.take(`ep-${w}`, 'p1', MiB);
  if (budget.waiting !== waiters) throw new Error(`${budget.waiting} waiting, not ${waiters}`);
  return budget;
}

const attemptEnd = <P>(b: Budget<P>) => {
  b.give('p1', MiB);
  const key = b.next();
  if (key === null || b.take(key, 'p1', MiB) !== true) throw new Error('the first waiter did not start');
  if (b.take(key, 'p1', MiB) !== false) throw new Error('it did not wait again');
};
const otherStart = <P>(b: Budget<P>) => {
  if (b.take('other', 'p3', 10_000) !== true) throw new Error('p3 did not fit');
  b.give('p3', 10_000);
};
let sink = 0;
const full = <P>(b: Budget<P>) => {
  if (b.full) sink++;
};

/** CPU µs per call: calls repeated until 100 ms of CPU (at least 20). */
function measure<P>(budget: Budget<P>, call: (b: Budget<P>) => void): number {
  for (let i = 0; i < 5; i++) call(budget);
  const start = process.cpuUsage();
  let calls = 0;
  let spent = 0;
  while (calls < 20 || spent < 100_000) {
    for (let i = 0; i < 10; i++) call(budget);
    calls += 10;
    const used = process.cpuUsage(start);
    spent = used.user + used.system;
  }
  return spent / calls;
}

const CALLS = { 'attempt end': attemptEnd, 'other start': otherStart, full } as const;

for (let round = 1; round <= Number(values.rounds); round++) {
  const rows: Cell[][] = [];
  for (const [name, call] of Object.entries(CALLS)) {
    for (const n of SIZES) {
      const before = measure(loaded(createScanningByteBudget(OPTIONS), n), call);
      const after = measure(loaded(createByteBudget(OPTIONS), n), call);
      rows.push([name, n, before, after, before / after]);
    }
  }
  console.log(
    formatTable(
      `byte budget, CPU µs per call (round ${round})`,
      ['call', 'waiters', 'scanning (before)', 'indexed (now)', '×'],
      rows,
    ),
  );
}
if (sink < 0) console.log(sink);
