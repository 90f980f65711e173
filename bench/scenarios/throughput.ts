/**
 * Delivered events/s, end to end, for the three systems taking turns into the same receiver:
 * the raw undici ceiling, Herald (events in through the batch API), and BullMQ + Redis (jobs in
 * through addBulk). Herald and BullMQ run closed loop: the generator keeps at most `bound`
 * deliveries accepted but not yet arrived. Rates are counted at the receiver after a warm-up.
 */
import { startBullmq } from '../baselines/bullmq.ts';
import { startRawSender } from '../baselines/raw-undici.ts';
import type { BenchContext } from '../lib/context.ts';
import { meterHerald } from '../lib/herald-meter.ts';
import { createDatabase, launchHerald, type StoreKind } from '../lib/herald-process.ts';
import { measureRate, type Submit, shortfall, startClosedLoop } from '../lib/load.ts';
import { PAYLOAD_BYTES } from '../lib/payload.ts';
import type { SystemThroughput, ThroughputResult } from '../lib/results.ts';
import { medianRound, type Phase, runRounds } from '../lib/rounds.ts';
import { ratio } from '../lib/stats.ts';

export async function throughput(ctx: BenchContext): Promise<ThroughputResult> {
  const { profile, concurrency } = ctx.options;
  // The systems take turns, round after round, so that a change in the machine's background load
  // falls on all of them; the order rotates each round (see roundOrder); each system's median
  // round is reported.
  const phases: Phase<SystemThroughput>[] = [
    { system: 'raw-undici', run: () => rawCeiling(ctx) },
    ...ctx.options.stores.map((store) => ({
      system: `herald-${store}`,
      run: () => heraldThroughput(ctx, store),
    })),
    { system: 'bullmq-redis', run: () => bullmqThroughput(ctx) },
  ];
  const { bySystem, order, failures } = await runRounds(phases, profile.rounds, (m) =>
    ctx.log(`throughput: ${m}`),
  );
  // A failed round is an error of the run (which exits 1), and the results keep it.
  for (const f of failures)
    ctx.results.errors.push({
      scenario: 'throughput',
      message: `round ${f.round}, ${f.system}: ${f.message}`,
    });
  // Listed in the first round's order (raw, Herald, BullMQ), whatever order later rounds ran in;
  // a system with no round that ran is left out (its failures say why).
  const systems = phases.flatMap(({ system }) => {
    const list = bySystem.get(system);
    if (!list) return [];
    return [{ ...medianRound(list, (s) => s.deliveredPerSec), rounds: list.map((s) => s.deliveredPerSec) }];
  });
  const raw = systems.find((s) => s.system === 'raw-undici')?.deliveredPerSec;
  const bull = systems.find((s) => s.system === 'bullmq-redis')?.deliveredPerSec;
  for (const s of systems) {
    s.ratioToRaw = ratio(s.deliveredPerSec, raw);
    s.ratioToBullmq = ratio(s.deliveredPerSec, bull);
  }
  return {
    concurrency,
    batch: profile.batch,
    bound: profile.bound,
    payloadBytes: PAYLOAD_BYTES,
    rounds: profile.rounds,
    order,
    ...(failures.length ? { failures } : {}),
    systems,
  };
}

async function rawCeiling(ctx: BenchContext): Promise<SystemThroughput> {
  const { profile, concurrency } = ctx.options;
  const key = 'raw';
  ctx.log(`throughput: raw undici Pool, ${concurrency} in flight`);
  const sender = await startRawSender(`${ctx.receiver.url}/t/${key}/hook`, concurrency);
  const rate = await measureRate(ctx.receiver, key, profile.warmupMs, profile.windowMs, {
    pids: { sender: sender.pid },
  });
  const stats = await sender.stop();
  return { ...blank('raw-undici', rate.perSec, stats.sent, stats.errors), cpu: rate.cpu };
}

/** Closed loop into `submit`, counted at `/t/<key>`; drains before it returns. */
async function closedLoopRate(ctx: BenchContext, key: string, submit: Submit, pids: Record<string, number>) {
  const { profile } = ctx.options;
  // Earlier rounds counted under the same key: this round has drained when its own have arrived.
  const base = (await ctx.receiver.sample(key)).count;
  const loop = startClosedLoop({
    submit,
    batch: profile.batch,
    parallel: profile.parallel,
    bound: profile.bound,
    arrived: () => ctx.receiver.count(key),
  });
  const rate = await measureRate(ctx.receiver, key, profile.warmupMs, profile.windowMs, {
    pids,
    outstanding: loop.outstanding,
  });
  const stats = await loop.stop();
  const undelivered = await shortfall(ctx.receiver, key, base + stats.accepted, 120_000);
  if (undelivered) ctx.log(`  ${key}: ${undelivered} accepted events had not arrived after 120 s`);
  return { rate, stats, undelivered };
}

/** The round's result keeps accepted events that never arrived (before, only the log said so). */
function undeliveredFields(undelivered: number, note?: string): Partial<SystemThroughput> {
  if (!undelivered) return note ? { note } : {};
  const said = `${undelivered} accepted, not arrived after 120 s`;
  return { undelivered, note: note ? `${note}; ${said}` : said };
}

async function heraldThroughput(ctx: BenchContext, store: StoreKind): Promise<SystemThroughput> {
  const system = `herald-${store}`;
  ctx.log(`throughput: Herald on ${store}`);
  const db = await createDatabase(store);
  // Same in-flight budget towards the receiver as the other systems: its endpoint holds as many
  // connections as HERALD_ENDPOINT_CONCURRENCY allows attempts (64 by default).
  const herald = await launchHerald(db, {
    env: { HERALD_ENDPOINT_CONCURRENCY: String(ctx.options.concurrency) },
  });
  try {
    const projectId = await herald.api.createProject(system);
    await herald.api.createEndpoint(projectId, `${ctx.receiver.url}/t/${system}/hook`);
    const usage = await meterHerald(herald);
    const { rate, stats, undelivered } = await closedLoopRate(
      ctx,
      system,
      (first, count, sentAt) => herald.api.sendBatch(projectId, first, count, sentAt),
      { herald: herald.pid },
    );
    const used = await usage.stop();
    if (rate.count === 0)
      ctx.log(`throughput: Herald delivered nothing; its log ends:\n${herald.outputTail()}`);
    return {
      ...blank(system, rate.perSec, stats.accepted, stats.errors),
      cpu: rate.cpu,
      meanOutstanding: rate.meanOutstanding,
      rssPeakMiB: used.rssPeakMiB,
      claimMeanMs: used.claimMeanMs,
      herald: used,
      ...undeliveredFields(undelivered, stats.firstError ?? undefined),
    };
  } finally {
    await herald.stop();
    db.dispose();
  }
}

async function bullmqThroughput(ctx: BenchContext): Promise<SystemThroughput> {
  const key = 'bullmq-redis';
  ctx.log(`throughput: BullMQ + Redis, worker concurrency ${ctx.options.concurrency}`);
  const bull = await startBullmq({
    receiverOrigin: ctx.receiver.url,
    concurrency: ctx.options.concurrency,
    durable: ctx.options.bullmqDurable,
  });
  try {
    const { rate, stats, undelivered } = await closedLoopRate(
      ctx,
      key,
      (first, count, sentAt) => bull.submit(`/t/${key}/hook`, first, count, sentAt),
      { worker: bull.pid, redis: bull.redis.pid },
    );
    return {
      ...blank(key, rate.perSec, stats.accepted, stats.errors),
      cpu: rate.cpu,
      meanOutstanding: rate.meanOutstanding,
      ...undeliveredFields(undelivered, `redis ${bull.redis.persistence}`),
    };
  } finally {
    await bull.stop();
  }
}

function blank(system: string, deliveredPerSec: number, accepted: number, errors: number): SystemThroughput {
  return { system, deliveredPerSec, accepted, errors, ratioToRaw: null, ratioToBullmq: null };
}
