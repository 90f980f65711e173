/**
 * Load generators. Closed loop: keep the system busy with at most `bound` deliveries accepted but
 * not yet arrived. Open loop: offer a fixed rate whatever happens, in small batches every few ms.
 */
import { nowMs, sleep } from './clock.ts';
import { meterCpu } from './cpu.ts';
import type { Receiver } from './receiver-client.ts';
import { roundRate } from './stats.ts';

/** Hands `count` events numbered from `firstSeq` to a system; resolves when it accepted them. */
export type Submit = (firstSeq: number, count: number, sentAt: number) => Promise<void>;

export interface ClosedLoopOptions {
  submit: Submit;
  /** Events per submission. */
  batch: number;
  /** Submissions in flight at once. */
  parallel: number;
  /** Most deliveries submitted but not yet arrived. */
  bound: number;
  /** Deliveries counted at the receiver so far. */
  arrived: () => number;
  /** Deliveries the receiver counts per event (fan-out to several counted endpoints). */
  deliveriesPerEvent?: number;
  /** First sequence number (so two loops of one run do not reuse payloads). */
  firstSeq?: number;
}

export interface LoopStats {
  /** Events accepted by the system. */
  accepted: number;
  errors: number;
  firstError: string | null;
}

export function startClosedLoop(o: ClosedLoopOptions): {
  outstanding(): number;
  stop(): Promise<LoopStats>;
} {
  const perEvent = o.deliveriesPerEvent ?? 1;
  const base = o.arrived();
  let submitted = 0;
  let accepted = 0;
  let errors = 0;
  let firstError: string | null = null;
  let running = true;
  let seq = o.firstSeq ?? 0;
  const worker = async () => {
    while (running) {
      const outstanding = submitted * perEvent - (o.arrived() - base);
      if (outstanding + o.batch * perEvent > o.bound) {
        await sleep(1);
        continue;
      }
      submitted += o.batch;
      const first = seq;
      seq += o.batch;
      try {
        await o.submit(first, o.batch, nowMs());
        accepted += o.batch;
      } catch (error) {
        submitted -= o.batch;
        errors++;
        firstError ??= (error as Error).message;
        await sleep(50);
      }
    }
  };
  const workers = Array.from({ length: o.parallel }, worker);
  return {
    outstanding: () => submitted * perEvent - (o.arrived() - base),
    async stop() {
      running = false;
      await Promise.all(workers);
      return { accepted, errors, firstError };
    },
  };
}

export interface Rate {
  perSec: number;
  count: number;
  seconds: number;
  /** CPU of the processes given, % of one core, over the window. */
  cpu: Record<string, number>;
  /** Mean of `outstanding()` over the window (closed loop: how full the bounded backlog was). */
  meanOutstanding: number | null;
}

export interface WindowOptions {
  pids?: Record<string, number>;
  outstanding?: () => number;
}

/** How long a system may take to deliver its first request before the warm-up counts. */
const FIRST_ARRIVAL_WAIT_MS = 15_000;
/**
 * How much longer a window that counted no arrival is kept open, until one comes: on a machine busy
 * with other work (CI runs the smoke beside other test files) a system stalled through a whole
 * 0.7 s window once (BullMQ, with the raw sender at 605/s), and the run read it as delivering
 * nothing. The rate is still arrivals over the time the window was open.
 */
const EMPTY_WINDOW_EXTRA_MS = 30_000;

/**
 * Arrivals per second at the receiver for `key` over `windowMs`, after the first arrival since the
 * call and `warmupMs`. The warm-up counts from the first arrival: a system slow to start (a worker
 * connecting to Redis on a busy machine, in the seconds-long smoke run) is measured once it sends,
 * not read as zero.
 */
export async function measureRate(
  receiver: Receiver,
  key: string,
  warmupMs: number,
  windowMs: number,
  options: WindowOptions = {},
): Promise<Rate> {
  // Arrivals counted under `key` before this call (an earlier round's, posting to the same path)
  // are not this phase's first: the exact count, not the pushed one, which may lag by 10 ms.
  const before = (await receiver.sample(key)).count;
  const firstBy = nowMs() + FIRST_ARRIVAL_WAIT_MS;
  while (receiver.count(key) <= before && nowMs() < firstBy) await sleep(10);
  await sleep(warmupMs);
  const cpu = meterCpu({ receiver: receiver.pid, generator: process.pid, ...options.pids });
  let samples = 0;
  let total = 0;
  const sampler = options.outstanding
    ? setInterval(() => {
        samples++;
        total += options.outstanding!();
      }, 20)
    : null;
  const a = await receiver.sample(key);
  await sleep(windowMs);
  let b = await receiver.sample(key);
  const extendUntil = nowMs() + EMPTY_WINDOW_EXTRA_MS;
  while (b.count === a.count && nowMs() < extendUntil) {
    await sleep(100);
    b = await receiver.sample(key);
  }
  if (sampler) clearInterval(sampler);
  const seconds = (b.at - a.at) / 1000;
  return {
    perSec: roundRate((b.count - a.count) / seconds),
    count: b.count - a.count,
    seconds,
    cpu: cpu.stop(),
    meanOutstanding: samples ? Math.round(total / samples) : null,
  };
}

/** Runs `parallel` loops of `once` for `durationMs`; `once` returns how many units it did. */
export async function runFor(
  durationMs: number,
  parallel: number,
  once: () => Promise<number>,
): Promise<{ perSec: number; units: number; requestMs: number[] }> {
  const start = nowMs();
  const end = start + durationMs;
  let units = 0;
  const requestMs: number[] = [];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (nowMs() < end) {
        const t = nowMs();
        const done = await once();
        units += done;
        requestMs.push(nowMs() - t);
      }
    }),
  );
  return { perSec: roundRate(units / ((nowMs() - start) / 1000)), units, requestMs };
}

export interface OpenLoopOptions {
  ratePerSec: number;
  durationMs: number;
  submit: Submit;
  tickMs?: number;
  /** Largest submission; a tick with more due sends several. */
  maxBatch?: number;
  /** Submissions in flight at once beyond which a tick sends nothing (the generator cannot keep up). */
  maxInFlight?: number;
  /** Ends the run before `durationMs`, which is then the longest it may take. */
  stop?: AbortSignal;
}

export interface OpenLoopResult {
  startedAt: number;
  endedAt: number;
  sent: number;
  /** When each seq was handed over (also in its payload) and when its submission was accepted. */
  sentAt: Float64Array;
  acceptedAt: Float64Array;
  errors: number;
  firstError: string | null;
  /** Ticks that sent nothing because too many submissions were in flight. */
  skippedTicks: number;
}

/**
 * How many of `expected` arrivals under `key` had not come within `timeoutMs` (0: all came): a
 * closed-loop round whose accepted events did not all arrive is reported with the shortfall.
 */
export async function shortfall(
  receiver: Receiver,
  key: string,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  if (await receiver.waitForCount(key, expected, timeoutMs)) return 0;
  return Math.max(0, expected - (await receiver.sample(key)).count);
}

/**
 * Waits (at most `timeoutMs`) until the receiver counted under `key` every event of `run` whose
 * submission was accepted. A failed submission's events never come: waiting for all that were sent
 * held a run with one failed submission for the whole timeout (120 s) before it went on.
 */
export function waitForAccepted(
  receiver: Receiver,
  key: string,
  run: OpenLoopResult,
  timeoutMs: number,
): Promise<boolean> {
  let accepted = 0;
  for (let s = 0; s < run.sent; s++) if (!Number.isNaN(run.acceptedAt[s]!)) accepted++;
  return receiver.waitForCount(key, accepted, timeoutMs);
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const tickMs = o.tickMs ?? 5;
  const maxBatch = o.maxBatch ?? 500;
  const maxInFlight = o.maxInFlight ?? 64;
  const capacity = Math.ceil((o.ratePerSec * o.durationMs) / 1000) + maxBatch;
  const sentAt = new Float64Array(capacity).fill(Number.NaN);
  const acceptedAt = new Float64Array(capacity).fill(Number.NaN);
  let sent = 0;
  let inFlight = 0;
  let errors = 0;
  let skippedTicks = 0;
  let firstError: string | null = null;
  const submissions = new Set<Promise<void>>();
  const startedAt = nowMs();
  const endAt = startedAt + o.durationMs;
  while (nowMs() < endAt && !o.stop?.aborted) {
    const due = Math.floor((o.ratePerSec * (nowMs() - startedAt)) / 1000) - sent;
    if (inFlight >= maxInFlight) skippedTicks++;
    else {
      for (let left = due; left > 0; ) {
        const n = Math.min(left, maxBatch);
        const first = sent;
        const at = nowMs();
        for (let i = 0; i < n; i++) sentAt[first + i] = at;
        sent += n;
        left -= n;
        inFlight++;
        const p: Promise<void> = o
          .submit(first, n, at)
          .then(() => {
            const done = nowMs();
            for (let i = 0; i < n; i++) acceptedAt[first + i] = done;
          })
          .catch((error: unknown) => {
            errors++;
            firstError ??= (error as Error).message;
          })
          .finally(() => {
            inFlight--;
            submissions.delete(p);
          });
        submissions.add(p);
      }
    }
    await sleep(tickMs);
  }
  const endedAt = nowMs();
  await Promise.all([...submissions]);
  return { startedAt, endedAt, sent, sentAt, acceptedAt, errors, firstError, skippedTicks };
}
