/**
 * Fan-out: one event to a project with 1,000 and with 10,000 endpoints (distinct paths on the
 * receiver). Time to accept = the single-event POST until its 202 (every delivery stored);
 * time to deliver = until the last of them arrived at the receiver.
 */

import { nowMs } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import { meterHerald } from '../lib/herald-meter.ts';
import { createDatabase, launchHerald, type RunningHerald, type StoreKind } from '../lib/herald-process.ts';
import type { FanoutResult, FanoutRun } from '../lib/results.ts';
import { median, round } from '../lib/stats.ts';

/** Endpoint creations in flight while setting up. */
const CREATE_PARALLEL = 32;

export async function fanout(ctx: BenchContext): Promise<FanoutResult[]> {
  const out: FanoutResult[] = [];
  for (const store of ctx.options.stores) {
    const db = await createDatabase(store);
    const herald = await launchHerald(db);
    try {
      for (const size of ctx.options.profile.fanoutSizes) out.push(await fanoutTo(ctx, herald, store, size));
    } finally {
      await herald.stop();
      db.dispose();
    }
  }
  return out;
}

async function fanoutTo(
  ctx: BenchContext,
  herald: RunningHerald,
  store: StoreKind,
  size: number,
): Promise<FanoutResult> {
  const key = `fan-${store}-${size}`;
  const api = herald.api;
  ctx.log(`fanout: creating ${size} endpoints on ${store}`);
  const projectId = await api.createProject(key);
  const createStart = nowMs();
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_PARALLEL }, async () => {
      while (next < size) {
        const i = next++;
        await api.createEndpoint(projectId, `${ctx.receiver.url}/l/${key}/${i}`);
      }
    }),
  );
  const createPerSec = Math.round(size / ((nowMs() - createStart) / 1000));
  const runs: FanoutRun[] = [];
  for (let r = 0; r < ctx.options.profile.fanoutRepeats; r++) {
    ctx.log(`fanout: one event to ${size} endpoints (${r + 1}/${ctx.options.profile.fanoutRepeats})`);
    const usage = await meterHerald(herald);
    const start = nowMs();
    await api.sendOne(projectId, r, start);
    const acceptMs = nowMs() - start;
    if (!(await ctx.receiver.waitForCount(key, size * (r + 1), 300_000))) {
      throw new Error(`fan-out to ${size}: only ${ctx.receiver.count(key) - size * r} arrived in 300 s`);
    }
    const { at } = await ctx.receiver.arrivals(key);
    const used = await usage.stop();
    runs.push({
      herald: used,
      acceptMs: round(acceptMs, 1),
      firstArrivalMs: round(Math.min(...at) - start, 1),
      allArrivedMs: round(Math.max(...at) - start, 1),
    });
  }
  const allArrivedMsMedian = median(runs.map((r) => r.allArrivedMs));
  return {
    store,
    endpoints: size,
    createPerSec,
    runs,
    acceptMsMedian: median(runs.map((r) => r.acceptMs)),
    allArrivedMsMedian,
    deliveriesPerSec: Math.round(size / (allArrivedMsMedian / 1000)),
  };
}
