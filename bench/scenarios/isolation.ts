/**
 * Isolation: a project whose events fan out to 10 endpoints, each on an origin of its own (a
 * customer each), one of which never answers, so every attempt to it lasts until its timeout.
 * Healthy throughput with the hanging endpoint, as a share of the same run without it. Herald runs
 * with its default concurrency limits; the failure threshold is raised so the hanging endpoint
 * stays enabled (and keeps costing) for the whole run instead of being disabled after 10 failures.
 *
 * Phases without it and with it alternate, starting and ending without it (the hanging endpoint
 * disabled after its phase), `isolationTurns` phases with it in all. Each is taken against the mean
 * of the phases on either side of it, and the share is the mean of those: this machine's speed
 * drifts by 10-20 % within minutes, a single before/after pair put the share anywhere from 74 to
 * 138 %, and single runs of one build still ranged 87-100 % (session 31), so the full profile takes
 * three turns.
 */

import { sleep } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import { type HeraldUsage, meterHerald } from '../lib/herald-meter.ts';
import { createDatabase, launchHerald, type RunningHerald, type StoreKind } from '../lib/herald-process.ts';
import { measureRate, startClosedLoop } from '../lib/load.ts';
import type { IsolationResult } from '../lib/results.ts';
import { ratio, round, roundRate } from '../lib/stats.ts';

const HEALTHY = 9;

export async function isolation(ctx: BenchContext): Promise<IsolationResult[]> {
  const out: IsolationResult[] = [];
  for (const store of ctx.options.stores) out.push(await isolationOn(ctx, store));
  return out;
}

async function isolationOn(ctx: BenchContext, store: StoreKind): Promise<IsolationResult> {
  const { profile } = ctx.options;
  const db = await createDatabase(store);
  const herald = await launchHerald(db, { env: { HERALD_FAILURE_THRESHOLD: '1000000' } });
  try {
    const origins = await ctx.receiver.extraOrigins(HEALTHY + 1);
    const turns = profile.isolationTurns;
    ctx.log(`isolation: ${HEALTHY} healthy endpoints on ${store}`);
    const alone = [await phase(ctx, herald, `iso-ok0-${store}`, origins, null, profile.warmupMs)];
    const mixed: Phase[] = [];
    let hangingRequests = 0;
    for (let turn = 1; turn <= turns; turn++) {
      ctx.log(
        `isolation: ${HEALTHY} healthy + 1 hanging (timeout ${profile.isolationTimeoutMs} ms) on ${store}, turn ${turn} of ${turns}`,
      );
      const hangKey = `iso-bad${turn}-${store}`;
      mixed.push(
        await phase(ctx, herald, `iso-mixed${turn}-${store}`, origins, hangKey, profile.isolationWarmupMs),
      );
      hangingRequests += ctx.receiver.count(`hang:${hangKey}`);
      ctx.log(`isolation: ${HEALTHY} healthy endpoints again, the hanging one disabled, on ${store}`);
      await sleep(profile.isolationTimeoutMs); // its attempts still in flight end at their timeout
      alone.push(await phase(ctx, herald, `iso-ok${turn}-${store}`, origins, null, profile.warmupMs));
    }
    // Each phase with it against the mean of its neighbours without it; null when one counted nothing.
    const shares = mixed.map((m, i) => ratio(m.perSec, (alone[i]!.perSec + alone[i + 1]!.perSec) / 2));
    const exact = mixed.map((m, i) => (2 * m.perSec) / (alone[i]!.perSec + alone[i + 1]!.perSec));
    return {
      store,
      healthyEndpoints: HEALTHY,
      hangTimeoutMs: profile.isolationTimeoutMs,
      withoutHanging: roundRate(mean(alone.map((p) => p.perSec))),
      withoutHangingPhases: alone.map((p) => p.perSec),
      withHanging: roundRate(mean(mixed.map((p) => p.perSec))),
      withHangingPhases: mixed.map((p) => p.perSec),
      shares,
      share: shares.includes(null) ? null : round(mean(exact), 2),
      herald: { withoutHanging: alone[0]!.usage, withHanging: mixed[0]!.usage },
      hangingRequests,
    };
  } finally {
    await herald.stop();
    db.dispose();
  }
}

interface Phase {
  perSec: number;
  usage: HeraldUsage;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Healthy deliveries per second, closed loop, with or without the hanging endpoint. */
async function phase(
  ctx: BenchContext,
  herald: RunningHerald,
  key: string,
  origins: string[],
  hangKey: string | null,
  warmupMs: number,
): Promise<Phase> {
  const { profile } = ctx.options;
  const api = herald.api;
  const projectId = await api.createProject(key);
  for (let i = 0; i < HEALTHY; i++) await api.createEndpoint(projectId, `${origins[i]}/t/${key}/${i}`);
  const hanging = hangKey
    ? await api.createEndpoint(projectId, `${origins[HEALTHY]}/h/${hangKey}/`, {
        timeoutMs: profile.isolationTimeoutMs,
      })
    : null;
  const loop = startClosedLoop({
    submit: (first, count, sentAt) => api.sendBatch(projectId, first, count, sentAt),
    batch: Math.max(1, Math.round(profile.batch / HEALTHY)),
    parallel: profile.parallel,
    bound: profile.bound,
    arrived: () => ctx.receiver.count(key),
    deliveriesPerEvent: HEALTHY,
  });
  await sleep(warmupMs);
  // The window opens once deliveries flow: on a machine busy with other work (CI runs the smoke
  // beside other tests) the first arrival has come more than the smoke's warm-up after the start.
  await ctx.receiver.waitForCount(key, 1, 60_000);
  const usage = await meterHerald(herald);
  const rate = await measureRate(ctx.receiver, key, 0, profile.isolationWindowMs);
  const used = await usage.stop();
  if (rate.count === 0) ctx.log(`isolation: Herald delivered nothing; its log ends:\n${herald.outputTail()}`);
  const stats = await loop.stop();
  await ctx.receiver.waitForCount(key, stats.accepted * HEALTHY, 120_000);
  // Parks its backlog, so the phase measured after this one runs without it.
  if (hanging) await disable(herald, projectId, hanging);
  return { perSec: rate.perSec, usage: used };
}

/** Disables an endpoint: a 503 (database busy) is tried again; any other failure shows Herald's log. */
async function disable(herald: RunningHerald, projectId: string, endpointId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await herald.api.call('PATCH', `/api/v1/projects/${projectId}/endpoints/${endpointId}`, {
        active: false,
      });
      return;
    } catch (error) {
      const message = (error as Error).message;
      if (/: 503 /.test(message) && attempt < 5) {
        await sleep(1_000);
        continue;
      }
      throw new Error(`${message}\n--- Herald's log ends ---\n${herald.outputTail(40)}`);
    }
  }
}
