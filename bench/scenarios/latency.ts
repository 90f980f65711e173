/**
 * Acceptance-to-arrival latency at fixed offered loads (open loop): 1,000 events/s and shares of
 * the capacity measured by the throughput scenario. Events go in through the batch API in small
 * batches every 5 ms; each payload carries its sequence number, the receiver records arrivals.
 * Acceptance is the moment the 202 reached the generator. BullMQ + Redis is measured at the fixed
 * rates too, with acceptance = addBulk resolved.
 */
import { startBullmq } from '../baselines/bullmq.ts';
import type { BenchContext } from '../lib/context.ts';
import { meterCpu } from '../lib/cpu.ts';
import { createDatabase, launchHerald, type RunningHerald, type StoreKind } from '../lib/herald-process.ts';
import { latencyOf } from '../lib/latency.ts';
import { measureRate, runOpenLoop, type Submit, startClosedLoop, waitForAccepted } from '../lib/load.ts';
import type { LatencyPoint, LatencySection } from '../lib/results.ts';

export async function latency(ctx: BenchContext): Promise<LatencySection> {
  const section: LatencySection = { capacity: {}, points: [] };
  for (const store of ctx.options.stores) await heraldLatency(ctx, store, section);
  await bullmqLatency(ctx, section);
  return section;
}

async function heraldLatency(ctx: BenchContext, store: StoreKind, section: LatencySection) {
  const { profile } = ctx.options;
  const system = `herald-${store}`;
  const db = await createDatabase(store);
  const herald = await launchHerald(db, {
    env: { HERALD_ENDPOINT_CONCURRENCY: String(ctx.options.concurrency) },
  });
  try {
    const capacity = await capacityOf(ctx, system, herald);
    section.capacity[system] = capacity;
    const loads: { rate: number; share: number | null }[] = profile.latencyRates.map((rate) => ({
      rate,
      share: null,
    }));
    for (const share of profile.latencyShares) {
      const rate = Math.max(1, Math.round(capacity * share));
      // A share that lands on a fixed rate (25 % of 4,000 is 1,000) is that point, measured once.
      if (!loads.some((l) => Math.abs(l.rate - rate) <= l.rate * 0.02)) loads.push({ rate, share });
    }
    loads.sort((a, b) => a.rate - b.rate);
    const warmKey = `lat-${system}-warm`;
    const warmProject = await herald.api.createProject(warmKey);
    await herald.api.createEndpoint(warmProject, `${ctx.receiver.url}/l/${warmKey}/hook`);
    await warmUp(ctx, warmKey, (first, count, sentAt) =>
      herald.api.sendBatch(warmProject, first, count, sentAt),
    );
    for (const { rate, share } of loads) {
      const key = `lat-${system}-${rate}`;
      ctx.log(`latency: ${system} at ${rate} events/s${share ? ` (${share * 100} % of ${capacity})` : ''}`);
      const projectId = await herald.api.createProject(key);
      await herald.api.createEndpoint(projectId, `${ctx.receiver.url}/l/${key}/hook`);
      const submit: Submit = (first, count, sentAt) => herald.api.sendBatch(projectId, first, count, sentAt);
      section.points.push(await point(ctx, system, key, rate, share, submit, { herald: herald.pid }));
    }
  } finally {
    await herald.stop();
    db.dispose();
  }
}

/** The throughput scenario's number when it ran; a short closed-loop run otherwise. */
async function capacityOf(ctx: BenchContext, system: string, herald: RunningHerald): Promise<number> {
  const measured = ctx.results.throughput?.systems.find((s) => s.system === system)?.deliveredPerSec;
  if (measured) return measured;
  ctx.log(`latency: measuring ${system} capacity first (closed loop)`);
  const { profile } = ctx.options;
  const key = `cap-${system}`;
  const projectId = await herald.api.createProject(key);
  await herald.api.createEndpoint(projectId, `${ctx.receiver.url}/t/${key}/hook`);
  const loop = startClosedLoop({
    submit: (first, count, sentAt) => herald.api.sendBatch(projectId, first, count, sentAt),
    batch: profile.batch,
    parallel: profile.parallel,
    bound: profile.bound,
    arrived: () => ctx.receiver.count(key),
  });
  const rate = await measureRate(ctx.receiver, key, profile.warmupMs, profile.windowMs);
  const stats = await loop.stop();
  await ctx.receiver.waitForCount(key, stats.accepted, 120_000);
  return rate.perSec;
}

async function bullmqLatency(ctx: BenchContext, section: LatencySection) {
  const bull = await startBullmq({
    receiverOrigin: ctx.receiver.url,
    concurrency: ctx.options.concurrency,
    durable: ctx.options.bullmqDurable,
  });
  try {
    const warmKey = 'lat-bullmq-warm';
    await warmUp(ctx, warmKey, (first, count, sentAt) =>
      bull.submit(`/l/${warmKey}/hook`, first, count, sentAt),
    );
    for (const rate of ctx.options.profile.latencyRates) {
      const key = `lat-bullmq-${rate}`;
      ctx.log(`latency: bullmq-redis at ${rate} events/s`);
      const submit: Submit = (first, count, sentAt) => bull.submit(`/l/${key}/hook`, first, count, sentAt);
      const pids = { worker: bull.pid, redis: bull.redis.pid };
      section.points.push(await point(ctx, 'bullmq-redis', key, rate, null, submit, pids));
    }
  } finally {
    await bull.stop();
  }
}

/**
 * A system just started is not measured cold: 1,000 events/s for three warm-up periods first, not
 * counted (the first point of a fresh process had a p99 of up to 27 ms where the next had 6).
 */
async function warmUp(ctx: BenchContext, key: string, submit: Submit): Promise<void> {
  const run = await runOpenLoop({
    ratePerSec: 1_000,
    durationMs: 3 * ctx.options.profile.latencyWarmupMs,
    submit,
  });
  await waitForAccepted(ctx.receiver, key, run, 120_000);
}

async function point(
  ctx: BenchContext,
  system: string,
  key: string,
  rate: number,
  share: number | null,
  submit: Submit,
  pids: Record<string, number>,
): Promise<LatencyPoint> {
  const { profile } = ctx.options;
  const cpu = meterCpu({ receiver: ctx.receiver.pid, generator: process.pid, ...pids });
  const run = await runOpenLoop({
    ratePerSec: rate,
    durationMs: profile.latencyWarmupMs + profile.latencyWindowMs,
    submit,
  });
  const cpuShares = cpu.stop();
  const arrived = await waitForAccepted(ctx.receiver, key, run, 120_000);
  if (!arrived) ctx.log(`  ${key}: not everything arrived within 120 s`);
  const result = latencyOf(run, await ctx.receiver.arrivals(key), profile.latencyWarmupMs);
  return {
    system,
    offeredPerSec: rate,
    share,
    sentPerSec: Math.round(run.sent / ((run.endedAt - run.startedAt) / 1000)),
    skippedTicks: run.skippedTicks,
    errors: run.errors,
    cpu: cpuShares,
    ...result,
  };
}
