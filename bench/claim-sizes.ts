/**
 * `node bench/claim-sizes.ts [--store=sqlite|postgres|both] [--rounds=6] [--claims=30] [--against=DIR]
 * [--endpoints=2]`:
 * CPU per claimed delivery of `claimDueDeliveries`, as the dispatcher claims (256 at a time, its
 * bytes in flight, HERALD_DELIVERY_BYTES_IN_FLIGHT's default, as `maxBytes`), and the same claims
 * without `maxBytes` (no byte cut). A real store in a temp directory (SQLite) or a throwaway
 * PostgreSQL 15 (test/support/postgres.ts): 4 projects of `--endpoints` endpoints, 10,000 ~1 KiB
 * events each to every endpoint of its project (20,000 due deliveries with 2); every claim's `now` is past the last
 * one's lease, so the leases it took run out and are put back before it picks (a claim finds more
 * due than it takes: a part of it goes to endpoints in turn). With `--against=DIR` (another
 * checkout, e.g. a `git worktree` of an older commit, with node_modules), the same claims on DIR's
 * store too, in this process: a store and database each, their blocks of `--claims` claims in an
 * order rotated every round, so the machine's drift does not favour either. Printed per block:
 * this process's CPU (user and system: the machine's other load left out) per claimed delivery,
 * and on PostgreSQL the server's processes' CPU too (/proc, 10 ms ticks); each median, and the
 * median of the rounds' differences to this tree. Seconds (SQLite) to a minute or two
 * (PostgreSQL); temp files only.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_DELIVERY } from '../src/config/config-types.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { endpointInput, eventInput } from '../test/store/helpers.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { median } from './lib/stats.ts';
import { type Cell, formatTable } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    rounds: { type: 'string', default: '6' },
    claims: { type: 'string', default: '30' },
    against: { type: 'string' },
    endpoints: { type: 'string', default: '2' },
  },
});
const ROUNDS = Math.max(1, Number(values.rounds));
const CLAIMS = Math.max(1, Number(values.claims));
const CLAIM = DEFAULT_DELIVERY.claimBatch;
const MAX_BYTES = DEFAULT_DELIVERY.bytesInFlight;
const PROJECTS = 4;
/** Endpoints a project, each taking every event of its project: the deliveries an event has. */
const ENDPOINTS = Math.max(1, Number(values.endpoints));
const EVENTS = 10_000;
const LEASE_MS = 1_000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** CPU microseconds (user and system) of this process since `from`. */
const cpuUs = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return used.user + used.system;
};

/** CPU microseconds of the processes whose parent is `ppid` (PostgreSQL's backends), from /proc. */
function childrenCpuUs(ppid: number): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10_000;
}

async function fill(store: Store, now: number): Promise<void> {
  for (let p = 0; p < PROJECTS; p++) {
    const project = await store.createProject({ name: `p${p}` }, now);
    for (let e = 0; e < ENDPOINTS; e++)
      await store.createEndpoint(endpointInput(project.id, { url: `http://127.0.0.1:9/${e}` }), SECRET, now);
    for (let i = 0; i < EVENTS / PROJECTS; i += 100)
      await store.acceptEvents(
        project.id,
        Array.from({ length: 100 }, (_, k) =>
          eventInput('order.created', { payload: { n: i + k, pad: 'x'.repeat(900) } }),
        ),
        now,
      );
  }
}

interface Subject {
  name: string;
  store: Store;
  now: number;
}

/** Medians of each subject and way, and the median of each round's difference to the first subject. */
async function measure(label: string, subjects: Subject[], serverCpu?: () => number): Promise<Cell[][]> {
  const ways = [MAX_BYTES, undefined];
  const runs = subjects.map(() => ways.map(() => ({ us: [] as number[], server: [] as number[] })));
  const block = async (s: Subject, maxBytes: number | undefined) => {
    let claimed = 0;
    const server = serverCpu?.() ?? 0;
    const cpu = process.cpuUsage();
    for (let i = 0; i < CLAIMS; i++) {
      s.now += LEASE_MS + 1;
      const got = await s.store.claimDueDeliveries({
        limit: CLAIM,
        leaseMs: LEASE_MS,
        now: s.now,
        workerId: 'w',
        maxBytes,
      });
      if (got.length !== CLAIM) throw new Error(`claimed ${got.length}, not ${CLAIM}`);
      claimed += got.length;
    }
    return { us: cpuUs(cpu) / claimed, server: serverCpu ? (serverCpu() - server) / claimed : 0 };
  };
  // Every block of the round in an order rotated by one each round: none always runs first.
  const order = subjects.flatMap((_, si) => ways.map((_, wi) => [si, wi] as const));
  for (const [si, wi] of order) await block(subjects[si]!, ways[wi]); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < order.length; k++) {
      const [si, wi] = order[(k + r) % order.length]!;
      const got = await block(subjects[si]!, ways[wi]);
      runs[si]![wi]!.us.push(got.us);
      runs[si]![wi]!.server.push(got.server);
    }
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
  const med = (xs: number[]) => Number(median(xs).toFixed(2));
  const rows: Cell[][] = [];
  const parts: ['us' | 'server', string][] = [['us', 'this process']];
  if (serverCpu) parts.push(['server', 'the server']);
  for (const [part, what] of parts) {
    for (const [si, s] of subjects.entries()) {
      for (const [wi, w] of ways.entries()) {
        const xs = runs[si]![wi]![part];
        const diff = si === 0 ? null : med(xs.map((x, r) => x - runs[0]![wi]![part][r]!));
        rows.push([`${label} ${s.name}, ${w ? 'maxBytes' : 'no maxBytes'}: ${what}`, fmt(xs), med(xs), diff]);
      }
    }
  }
  return rows;
}

/** The stores to compare: this tree's, and with `--against=DIR` the tree in DIR's (its src/). */
async function openStores(urls: string[]): Promise<Subject[]> {
  const trees: [string, typeof openStore][] = [['this tree', openStore]];
  if (values.against) {
    const other = (await import(resolve(values.against, 'src/store/open-store.ts'))) as {
      openStore: typeof openStore;
    };
    trees.push([values.against, other.openStore]);
  }
  const out: Subject[] = [];
  for (const [i, [name, open]] of trees.entries()) {
    const store = await open(urls[i]!);
    await fill(store, Date.now());
    out.push({ name, store, now: Date.now() });
  }
  return out;
}

const rows: Cell[][] = [];
const load = [loadavg()[0]!];
const count = values.against ? 2 : 1;
if (values.store !== 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'herald-claim-sizes-'));
  const subjects = await openStores(
    Array.from({ length: count }, (_, i) => `sqlite:${join(dir, `herald${i}.db`)}`),
  );
  try {
    rows.push(...(await measure('SQLite', subjects)));
  } finally {
    for (const s of subjects) await s.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  load.push(loadavg()[0]!);
}
if (values.store !== 'sqlite') {
  const server = await startPostgres({ onDisk: true });
  try {
    const urls: string[] = [];
    for (let i = 0; i < count; i++) urls.push(await server.createDatabase());
    const probe = new pg.Client({ connectionString: urls[0] });
    await probe.connect();
    const backend = Number((await probe.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    await probe.end();
    const subjects = await openStores(urls);
    try {
      rows.push(...(await measure('PostgreSQL', subjects, () => childrenCpuUs(postmaster))));
    } finally {
      for (const s of subjects) await s.store.close();
    }
  } finally {
    await server.stop();
  }
  load.push(loadavg()[0]!);
}
console.log(
  formatTable(
    `CPU µs per claimed delivery, claims of ${CLAIM}, ${ROUNDS} rounds of ${CLAIMS} claims each way (load ${load.map((l) => l.toFixed(1)).join(' → ')})`,
    ['claims', 'rounds', 'median', "median of the rounds' difference to this tree"],
    rows,
  ),
);
