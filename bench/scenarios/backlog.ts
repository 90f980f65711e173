/**
 * A large backlog: fill N pending deliveries through the batch API with `--role api` (nothing is
 * delivered), then start `--role worker` on the same database and measure the drain rate, the
 * worker's resident memory, and the claim time. Claim time is read two ways: directly on the store
 * between the processes (at a small and at the full backlog), and from the worker's
 * `herald_claim_duration_seconds` histogram while it drains (when Herald exports it).
 */
import { probeClaims } from '../lib/claim-probe.ts';
import { nowMs, sleep } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import type { HeraldApi } from '../lib/herald-api.ts';
import { meterHerald } from '../lib/herald-meter.ts';
import { createDatabase, type HeraldDatabase, launchHerald, type StoreKind } from '../lib/herald-process.ts';
import { measureRate } from '../lib/load.ts';
import { sampleRss } from '../lib/proc.ts';
import type { BacklogResult, ClaimProbe } from '../lib/results.ts';
import { round } from '../lib/stats.ts';

/** Batches of 500 ~1 KiB events stay under the default 1 MiB body limit. */
const FILL_BATCH = 500;
const FILL_PARALLEL = 2;

export async function backlog(ctx: BenchContext): Promise<BacklogResult[]> {
  const out: BacklogResult[] = [];
  for (const store of ctx.options.stores) out.push(await backlogOn(ctx, store));
  return out;
}

async function backlogOn(ctx: BenchContext, store: StoreKind): Promise<BacklogResult> {
  const { backlog: pending, backlogSmall, backlogWindowMs, warmupMs } = ctx.options.profile;
  const key = `backlog-${store}`;
  const db = await createDatabase(store);
  const probes: BacklogResult['claimProbe'] = { small: null, full: null };
  try {
    let api = await launchHerald(db, { role: 'api' });
    const projectId = await api.api.createProject(key);
    const endpointId = await api.api.createEndpoint(projectId, `${ctx.receiver.url}/t/${key}/hook`);
    let filled = 0;
    if (backlogSmall && backlogSmall < pending) {
      ctx.log(`backlog: filling ${backlogSmall} on ${store} (role api)`);
      await fill(ctx, api.api, projectId, 0, backlogSmall);
      filled = backlogSmall;
      await api.stop();
      probes.small = await probe(db, backlogSmall, probes, endpointId);
      api = await launchHerald(db, { role: 'api' });
    }
    ctx.log(`backlog: filling to ${pending} on ${store} (role api)`);
    const apiRss = sampleRss(api.pid);
    const fillStart = nowMs();
    await fill(ctx, api.api, projectId, filled, pending - filled);
    const fillSeconds = (nowMs() - fillStart) / 1000;
    const apiMemory = apiRss.stop();
    await api.stop();
    probes.full = await probe(db, pending, probes, endpointId);

    ctx.log(`backlog: draining with role worker on ${store}`);
    const worker = await launchHerald(db, { role: 'worker' });
    try {
      const rss = sampleRss(worker.pid);
      await sleep(warmupMs);
      const usage = await meterHerald(worker);
      const rate = await measureRate(ctx.receiver, key, 0, backlogWindowMs);
      const used = await usage.stop();
      const memory = rss.stop();
      if (rate.count === 0)
        ctx.log(`backlog: the worker delivered nothing; its log ends:\n${worker.outputTail()}`);
      return {
        store,
        pending,
        fill: {
          eventsPerSec: Math.round((pending - filled) / fillSeconds),
          seconds: round(fillSeconds, 1),
          apiRssPeakMiB: apiMemory.peakMiB,
        },
        drain: {
          perSec: rate.perSec,
          rssPeakMiB: memory.peakMiB,
          rssLastMiB: memory.lastMiB,
          claimMeanMs: used.claimMeanMs,
          worker: used,
        },
        claimProbe: probes,
      };
    } finally {
      await worker.stop();
    }
  } finally {
    db.dispose();
  }
}

async function fill(ctx: BenchContext, api: HeraldApi, projectId: string, firstSeq: number, count: number) {
  let next = 0;
  let reported = 0;
  await Promise.all(
    Array.from({ length: FILL_PARALLEL }, async () => {
      while (next < count) {
        const n = Math.min(FILL_BATCH, count - next);
        const first = firstSeq + next;
        next += n;
        await api.sendBatch(projectId, first, n);
        if (next - reported >= 100_000) {
          reported = next;
          ctx.log(`  ${firstSeq + next} accepted`);
        }
      }
    }),
  );
}

/**
 * A failed probe (the store's internals moved) is noted, not fatal. `leaveOut`: the backlog's
 * endpoint, which the probe's second series of claims leaves out, as the dispatcher does once it
 * is saturated: with nothing else due they find nothing, and they time the path a saturated
 * endpoint's backlog sends every claim down (the window of the oldest due rows, the check for more
 * beyond it, the probes of the others) at that backlog. No other endpoint's work is added for them
 * to find: the drain after it is measured on the database as the fill left it (a second project's
 * 1,000 events, tried first, came with a lower drain in 4 of 4 pairs, on a machine too busy to say
 * whether they were the cause).
 */
async function probe(
  db: HeraldDatabase,
  backlog: number,
  probes: BacklogResult['claimProbe'],
  leaveOut: string,
): Promise<ClaimProbe | null> {
  try {
    return await probeClaims(db.url, db.dataDir, backlog, leaveOut);
  } catch (error) {
    probes.error = (error as Error).message;
    return null;
  }
}
