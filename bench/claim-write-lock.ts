/**
 * `node bench/claim-write-lock.ts [--seconds=8] [--events=136] [--kib=1024]`: what the dispatcher
 * thread's claims of large events cost the API thread's accepts on SQLite, and the accepts the
 * claims, two connections to one real file as `herald serve` runs them. A worker thread (the
 * dispatcher's store) claims, claim after claim, `--events` due deliveries of distinct events of
 * `--kib` KiB each (each claim's `now` past the last one's lease, so every claim takes them all
 * again; maxBytes the default HERALD_BYTES_IN_FLIGHT, 256 MiB); this
 * thread (the API's store) accepts one small event at a time for `--seconds`. Printed: the accepts,
 * their latency (p50, p99, max), this thread's event loop delay (max), the claims' wall time, and
 * the claims refused as busy (SQLite's busy timeout run out: how many, how long they waited).
 * Control: the same claims on a copy of the file (another database: no write lock shared).
 * Seconds, no servers; temp files only.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DEFAULT_DELIVERY } from '../src/config/config-types.ts';
import { openStore } from '../src/store/open-store.ts';
import { endpointInput, eventInput } from '../test/store/helpers.ts';
import { type Cell, formatTable } from './lib/table.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const KIB = 1024;

interface ClaimerData {
  file: string;
}

/** What the claiming thread posts back: each claim's wall ms, and each refused claim's wait. */
interface ClaimerResult {
  times: number[];
  claimed: number;
  /** Claims that failed as busy (SQLite's busy timeout ran out): the ms each waited. */
  busy: number[];
  /** Claims that failed otherwise: what each failed with. */
  errors: string[];
}

/** SQLite's busy result, as node:sqlite reports it (errcode; 'database is locked'). */
const SQLITE_BUSY = 5;

/** The dispatcher thread: claims until told to stop, then posts each claim's wall ms. */
async function claimer({ file }: ClaimerData): Promise<void> {
  // As the dispatcher thread opens it: checkpoints in its own commits past 10,000 WAL pages
  // (DISPATCHER_CHECKPOINT_PAGES, src/delivery/dispatcher-thread.ts).
  const store = await openStore(`sqlite:${file}`, { sqliteCheckpointPages: 10_000 });
  let stop = false;
  parentPort!.on('message', () => {
    stop = true;
  });
  const times: number[] = [];
  const busy: number[] = [];
  const errors: string[] = [];
  let claimed = 0;
  let now = Date.now();
  parentPort!.postMessage({ ready: true });
  while (!stop) {
    now += 10; // past the last claim's lease (5 ms): every delivery is due again
    const start = performance.now();
    try {
      const batch = await store.claimDueDeliveries({
        limit: DEFAULT_DELIVERY.claimBatch,
        leaseMs: 5,
        now,
        workerId: 'bench',
        maxBytes: DEFAULT_DELIVERY.bytesInFlight,
      });
      times.push(performance.now() - start);
      claimed += batch.length;
    } catch (error) {
      // As the dispatcher does with a failed claim: counted, and the next one tried.
      const e = error as { errcode?: number; message?: string };
      if (e.errcode === SQLITE_BUSY) busy.push(performance.now() - start);
      else errors.push(e.message ?? String(error));
    }
    // Lets the stop message in.
    await new Promise((r) => setImmediate(r));
  }
  await store.close();
  parentPort!.postMessage({ times, claimed, busy, errors } satisfies ClaimerResult);
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      events: { type: 'string', default: '136' },
      kib: { type: 'string', default: '1024' },
    },
  });
  const seconds = Number(values.seconds);
  const events = Number(values.events);
  const kib = Number(values.kib);
  const dir = mkdtempSync(join(tmpdir(), 'herald-claim-lock-bench-'));
  const file = join(dir, 'herald.db');
  const control = join(dir, 'control.db');
  try {
    const seed = await openStore(`sqlite:${file}`);
    const now = Date.now();
    const project = await seed.createProject({ name: 'p' }, now);
    await seed.createEndpoint(endpointInput(project.id), SECRET, now);
    for (let i = 0; i < events; i++)
      await seed.acceptEvents(
        project.id,
        [eventInput('big', { payload: { i, pad: `${i}`.padEnd(kib * KIB, 'x') } })],
        now,
      );
    await seed.close();
    copyFileSync(file, control);

    const rows: Cell[][] = [];
    for (const [name, claimFile] of [
      ['one file (as herald serve)', file],
      ['claims on another file (control)', control],
    ] as const) {
      const api = await openStore(`sqlite:${file}`);
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { file: claimFile } satisfies ClaimerData,
      });
      await new Promise<void>((resolve) => worker.once('message', () => resolve()));
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      const latencies: number[] = [];
      const end = performance.now() + seconds * 1000;
      let failed = 0;
      const errors = new Set<string>();
      while (performance.now() < end) {
        const start = performance.now();
        try {
          await api.acceptEvents(
            project.id,
            [eventInput('small', { payload: { n: latencies.length } })],
            Date.now(),
          );
          latencies.push(performance.now() - start);
        } catch (error) {
          failed++;
          const e = error as { name?: string; code?: string; message?: string };
          errors.add(`${e.name ?? 'Error'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? ''}`);
        }
      }
      lag.disable();
      const done = new Promise<ClaimerResult>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const claims = await done;
      await worker.terminate();
      await api.close();
      latencies.sort((a, b) => a - b);
      const claimTimes = claims.times.sort((a, b) => a - b);
      for (const e of errors) console.log(`${name}: an accept failed: ${e}`);
      for (const e of new Set(claims.errors)) console.log(`${name}: a claim failed: ${e}`);
      const busy = claims.busy.sort((a, b) => a - b);
      rows.push([
        name,
        latencies.length,
        failed,
        pct(latencies, 50).toFixed(1),
        pct(latencies, 99).toFixed(0),
        (latencies.at(-1) ?? NaN).toFixed(0),
        (lag.max / 1e6).toFixed(0),
        claimTimes.length,
        `${pct(claimTimes, 50).toFixed(0)} / ${(claimTimes.at(-1) ?? NaN).toFixed(0)}`,
        busy.length ? `${busy.length} (${busy[0]!.toFixed(0)}-${busy.at(-1)!.toFixed(0)} ms)` : 0,
      ]);
    }
    console.log(
      formatTable(
        `${events} distinct ${kib} KiB events due, claimed again and again on a worker thread; one small accept at a time for ${seconds} s`,
        [
          'claims on',
          'accepts',
          'failed',
          'accept p50 ms',
          'p99 ms',
          'max ms',
          'loop delay max ms',
          'claims',
          'claim p50 / max ms',
          'claims busy (waited)',
        ],
        rows,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await claimer(workerData as ClaimerData);
