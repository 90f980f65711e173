/**
 * What the soak watches while it runs: a sample every few seconds (Herald's and the receiver's
 * memory, fds and CPU, the database's size, the backlog, rates, /healthz latency), /healthz every
 * second, and the longest a due delivery waited, read from the metrics every 5 s and every sample.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { nowMs } from './clock.ts';
import type { HeraldDatabase, RunningHerald } from './herald-process.ts';
import { gaugeValue } from './prom.ts';
import type { SoakApi } from './soak-api.ts';
import type { AcceptedEvents } from './soak-checks.ts';
import type { SoakReceiver } from './soak-receiver-client.ts';
import { fileMiB, loadAverage, type ProcessReading, readProcess, round } from './soak-sample.ts';

export interface Sample {
  atS: number;
  phase: 'load' | 'drain';
  herald: ProcessReading;
  receiver: ProcessReading;
  heraldCpuPercent: number | null;
  dbMiB: number | null;
  walMiB: number | null;
  pending: number | null;
  oldestDueS: number | null;
  acceptedPerSec: number;
  deliveredPerSec: number;
  healthzMeanMs: number | null;
  healthzMaxMs: number | null;
  load1: number | null;
  logBytes: number;
}

export interface SamplerSources {
  api: SoakApi;
  herald: RunningHerald;
  receiver: SoakReceiver;
  db: HeraldDatabase;
  /** Connected when the store is PostgreSQL: the database's size is read through it. */
  pgClient: pg.Client | null;
  accepted: AcceptedEvents;
  /** Seconds since the soak started. */
  elapsedS(): number;
  /** Called with every sample taken. */
  onSample(sample: Sample): void;
}

export interface SoakSampler {
  samples: Sample[];
  /** The longest a due delivery waited so far, seconds (herald_oldest_pending_age_seconds). */
  maxOldestDueS(): number;
  /** Counts a reading of herald_oldest_pending_age_seconds taken elsewhere. */
  noteDueWait(seconds: number | null): void;
  take(phase: Sample['phase']): Promise<Sample>;
  /** Takes no more periodic samples; resolves once the current one is taken. */
  stopSampling(): Promise<void>;
  /** Stops reading /healthz and the due-wait. */
  stop(): void;
}

export function startSoakSampler(sources: SamplerSources, sampleEveryS: number): SoakSampler {
  const { api, herald, receiver, db, pgClient, accepted } = sources;
  const samples: Sample[] = [];
  let maxOldestDueS = 0;
  const noteDueWait = (seconds: number | null) => {
    if (seconds !== null) maxOldestDueS = Math.max(maxOldestDueS, seconds);
  };

  // /healthz every second: the event loop's health as a client sees it.
  let healthz: number[] = [];
  const healthTimer = setInterval(async () => {
    const t0 = nowMs();
    try {
      await api.request('GET', '/healthz');
      healthz.push(nowMs() - t0);
    } catch {
      healthz.push(Number.POSITIVE_INFINITY);
    }
  }, 1_000);

  let lastCpu: { at: number; ticks: number | null } = {
    at: nowMs(),
    ticks: readProcess(herald.pid).cpuTicks,
  };
  let lastCounts = { at: nowMs(), accepted: 0, delivered: 0 };
  const delivered = async () => {
    const counts = await receiver.counts();
    return Object.entries(counts)
      .filter(([k]) => k.endsWith(':ok'))
      .reduce((s, [, n]) => s + n, 0);
  };
  const databaseSize = async (): Promise<{ dbMiB: number | null; walMiB: number | null }> => {
    if (pgClient) {
      const r = await pgClient.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
      return { dbMiB: round(Number(r.rows[0]!.size) / 1024 / 1024), walMiB: null };
    }
    return {
      dbMiB: fileMiB(join(db.dataDir, 'herald.db')),
      walMiB: fileMiB(join(db.dataDir, 'herald.db-wal')),
    };
  };
  const take = async (phase: Sample['phase']): Promise<Sample> => {
    const now = nowMs();
    const h = readProcess(herald.pid);
    const text = await api.metrics();
    const pending = gaugeValue(text, 'herald_deliveries_pending');
    const oldestDueS = gaugeValue(text, 'herald_oldest_pending_age_seconds');
    noteDueWait(oldestDueS);
    const arrivedNow = await delivered();
    const seconds = (now - lastCounts.at) / 1000;
    const windowHealth = healthz;
    healthz = [];
    const sample: Sample = {
      atS: round(sources.elapsedS()),
      phase,
      herald: h,
      receiver: readProcess(receiver.pid),
      heraldCpuPercent:
        h.cpuTicks !== null && lastCpu.ticks !== null
          ? round((h.cpuTicks - lastCpu.ticks) / ((now - lastCpu.at) / 1000))
          : null,
      ...(await databaseSize()),
      pending,
      oldestDueS,
      acceptedPerSec: round((accepted.ids.length - lastCounts.accepted) / seconds),
      deliveredPerSec: round((arrivedNow - lastCounts.delivered) / seconds),
      healthzMeanMs: windowHealth.length
        ? round(windowHealth.reduce((s, x) => s + x, 0) / windowHealth.length, 2)
        : null,
      healthzMaxMs: windowHealth.length ? round(Math.max(...windowHealth), 1) : null,
      load1: loadAverage(),
      logBytes: herald.process.output().length,
    };
    lastCpu = { at: now, ticks: h.cpuTicks };
    lastCounts = { at: now, accepted: accepted.ids.length, delivered: arrivedNow };
    samples.push(sample);
    sources.onSample(sample);
    return sample;
  };

  // Between samples too (the purger's first round comes at 30 s), a long due-wait is caught.
  const dueWaitTimer = setInterval(async () => {
    noteDueWait(gaugeValue(await api.metrics(), 'herald_oldest_pending_age_seconds'));
  }, 5_000);

  let sampling = Promise.resolve();
  const sampleTimer = setInterval(() => {
    sampling = sampling
      .then(() => take('load').then(() => undefined))
      .catch((e: Error) => {
        api.unexpected.push(`sample: ${e.message}`);
      });
  }, sampleEveryS * 1_000);

  return {
    samples,
    maxOldestDueS: () => maxOldestDueS,
    noteDueWait,
    take,
    stopSampling: async () => {
      clearInterval(sampleTimer);
      await sampling;
    },
    stop: () => {
      clearInterval(healthTimer);
      clearInterval(dueWaitTimer);
    },
  };
}
