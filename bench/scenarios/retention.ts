/**
 * What a retention round costs the live traffic. Fills a database through the API with old events
 * (two endpoints each, all delivered), moves that history two days back in the stopped database
 * (lib/age-history.ts: no API makes old events), then starts Herald on it with
 * HERALD_RETENTION_DAYS=1 and offers single events at a fixed rate (open loop) until a little after
 * the first purge round (30 s after the start; 3 s in the smoke run) has logged its end. Accept latency and
 * acceptance-to-arrival before, during and after the round, the round's duration and rate, and the
 * peak of SQLite's WAL.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ageHistory } from '../lib/age-history.ts';
import { nowMs, sleep } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import type { HeraldApi } from '../lib/herald-api.ts';
import { createDatabase, launchHerald, type StoreKind } from '../lib/herald-process.ts';
import { firstArrivals, latencyBetween } from '../lib/latency.ts';
import { runOpenLoop, waitForAccepted } from '../lib/load.ts';
import { sampleRss, toMiB } from '../lib/proc.ts';
import type { RetentionResult, RetentionRound } from '../lib/results.ts';
import { type RoundEnd, retentionFailure, retentionRoundEnd } from '../lib/retention-log.ts';
import { roundRate, round as roundTo } from '../lib/stats.ts';

const DAY_MS = 86_400_000;
/** Batches of 500 ~1 KiB events stay under the default 1 MiB body limit. */
const FILL_BATCH = 500;
const FILL_PARALLEL = 2;
/** The fill keeps at most this many events accepted and not delivered: history delivered as it came. */
const FILL_AHEAD = 20_000;

export async function retention(ctx: BenchContext): Promise<RetentionResult[]> {
  const out: RetentionResult[] = [];
  for (const store of ctx.options.stores) out.push(await retentionOn(ctx, store));
  return out;
}

async function retentionOn(ctx: BenchContext, store: StoreKind): Promise<RetentionResult> {
  const p = ctx.options.profile;
  const key = `retention-${store}`;
  const db = await createDatabase(store);
  try {
    ctx.log(`retention: filling ${p.retentionEvents} events to 2 endpoints on ${store}`);
    const filler = await launchHerald(db, { env: { HERALD_RETENTION_DAYS: '0' } });
    const history = await fillHistory(ctx, filler.api, key, p.retentionEvents).finally(() => filler.stop());
    await ageHistory(db, 2 * DAY_MS);

    ctx.log(`retention: ${p.retentionRate} events/s on ${store} until the first purge round has ended`);
    const startDelay = p.retentionStartDelayMs;
    const herald = await launchHerald(db, {
      env: {
        HERALD_RETENTION_DAYS: '1',
        ...(startDelay === null ? {} : { HERALD_RETENTION_START_DELAY_MS: String(startDelay) }),
      },
    });
    const launchedAt = nowMs();
    try {
      const { projectId } = history;
      // The second endpoint now records arrivals: the live events' latency (not the fill's).
      const path = `/api/v1/projects/${projectId}/endpoints/${history.timedEndpointId}`;
      await herald.api.call('PATCH', path, { url: `${ctx.receiver.url}/l/${key}/hook` });
      const rss = sampleRss(herald.pid);
      const wal = store === 'sqlite' ? samplePeakSize(join(db.dataDir, 'herald.db-wal')) : null;
      const stop = new AbortController();
      let end: RoundEnd | null = null;
      let failure: string | null = null;
      let stopAt = Number.POSITIVE_INFINITY;
      const watch = setInterval(() => {
        const lines = herald.process.logLines();
        failure ??= retentionFailure(lines);
        end ??= retentionRoundEnd(lines);
        if (end && stopAt === Number.POSITIVE_INFINITY) stopAt = nowMs() + p.retentionTailMs;
        if (failure || nowMs() >= stopAt) stop.abort();
      }, 200);
      const run = await runOpenLoop({
        ratePerSec: p.retentionRate,
        durationMs: p.retentionMaxMs,
        submit: (seq, _count, sentAt) => herald.api.sendOne(projectId, seq, sentAt).then(() => undefined),
        maxBatch: 1,
        // Open loop: a stalled Herald is offered its events all the same (a minute's worth).
        maxInFlight: p.retentionRate * 60,
        stop: stop.signal,
      }).finally(() => clearInterval(watch));
      const rssPeak = rss.stop().peakMiB;
      const walPeak = wal?.stop() ?? null;
      if (failure) throw new Error(`retention: the round failed: ${failure}`);
      if (!end) ctx.log(`retention: no round ended on ${store} within ${p.retentionMaxMs / 1000} s`);
      if (!(await waitForAccepted(ctx.receiver, key, run, 120_000)))
        ctx.log(`retention: not every live event arrived within 120 s (${store})`);
      const { first } = firstArrivals(run, await ctx.receiver.arrivals(key));
      const round = end ? roundOf(end, launchedAt) : null;
      const from = run.startedAt + p.retentionWarmupMs;
      const roundStart = round ? launchedAt + round.startedAfterMs : Number.POSITIVE_INFINITY;
      const roundEnd = round ? roundStart + round.durationMs : Number.POSITIVE_INFINITY;
      return {
        store,
        oldEvents: p.retentionEvents,
        fill: { eventsPerSec: history.eventsPerSec, seconds: history.seconds },
        offeredPerSec: p.retentionRate,
        sentPerSec: roundRate(run.sent / ((run.endedAt - run.startedAt) / 1000)),
        errors: run.errors,
        firstError: run.firstError,
        round,
        before: latencyBetween(run, first, from, roundStart),
        during: round ? latencyBetween(run, first, roundStart, roundEnd) : null,
        after: round ? latencyBetween(run, first, roundEnd, Number.POSITIVE_INFINITY) : null,
        walPeakMiB: walPeak,
        rssPeakMiB: rssPeak,
      };
    } finally {
      await herald.stop();
    }
  } finally {
    db.dispose();
  }
}

interface History {
  projectId: string;
  /** The endpoint whose arrivals the live phase times. */
  timedEndpointId: string;
  eventsPerSec: number;
  seconds: number;
}

/** `count` events, each to two counting endpoints, all delivered. */
async function fillHistory(ctx: BenchContext, api: HeraldApi, key: string, count: number): Promise<History> {
  const projectId = await api.createProject(key);
  const [a, b] = [`${key}-a`, `${key}-b`];
  await api.createEndpoint(projectId, `${ctx.receiver.url}/t/${a}/hook`);
  const timedEndpointId = await api.createEndpoint(projectId, `${ctx.receiver.url}/t/${b}/hook`);
  const start = nowMs();
  let next = 0;
  let reported = 0;
  await Promise.all(
    Array.from({ length: FILL_PARALLEL }, async () => {
      while (next < count) {
        if (next - ctx.receiver.count(a) > FILL_AHEAD) {
          await sleep(20);
          continue;
        }
        const n = Math.min(FILL_BATCH, count - next);
        const first = next;
        next += n;
        await api.sendBatch(projectId, first, n);
        if (next - reported >= 50_000) {
          reported = next;
          ctx.log(`  ${next} accepted`);
        }
      }
    }),
  );
  for (const k of [a, b]) {
    if (!(await ctx.receiver.waitForCount(k, count, 900_000)))
      throw new Error(`retention: the fill's ${count} deliveries to ${k} did not all arrive`);
  }
  const seconds = (nowMs() - start) / 1000;
  return {
    projectId,
    timedEndpointId,
    eventsPerSec: Math.round(count / seconds),
    seconds: roundTo(seconds, 1),
  };
}

/**
 * The round on this process's clock. Herald's `time` is its Date.now(); the load's times are
 * performance.timeOrigin + performance.now(), which drift apart slowly: map through Date.now() here.
 */
function roundOf(end: RoundEnd, launchedAt: number): RetentionRound {
  const endedAt = end.at - (Date.now() - nowMs());
  return {
    startedAfterMs: Math.round(endedAt - end.ms - launchedAt),
    durationMs: end.ms,
    events: end.events,
    deliveries: end.deliveries,
    attempts: end.attempts,
    batches: end.batches,
    eventsPerSec: end.ms > 0 ? roundRate(end.events / (end.ms / 1000)) : null,
  };
}

/** The largest size a file reached, read every 200 ms (a missing file is size 0). */
function samplePeakSize(file: string): { stop(): number } {
  let peak = 0;
  const take = () => {
    try {
      peak = Math.max(peak, statSync(file).size);
    } catch {
      // Not there (yet, or any more): nothing to count.
    }
  };
  take();
  const timer = setInterval(take, 200);
  return {
    stop() {
      take();
      clearInterval(timer);
      return toMiB(peak);
    },
  };
}
