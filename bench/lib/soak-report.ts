/** What the soak prints (a line per sample, the summary) and the JSON result it writes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunningHerald } from './herald-process.ts';
import { describeMachine } from './machine.ts';
import type { Drain } from './soak-drain.ts';
import type { Arrival, Invariant } from './soak-invariants.ts';
import type { SoakOptions } from './soak-options.ts';
import type { SoakEndpoint } from './soak-plan.ts';
import { round, type Trend, trend } from './soak-sample.ts';
import type { Sample } from './soak-sampler.ts';

/** `m:ss` */
export function clockLabel(s: number): string {
  return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export function formatSample(s: Sample, store: SoakOptions['store']): string {
  const mib = (v: number | null) => (v === null ? '-' : `${v}`);
  return [
    `[${clockLabel(s.atS).padStart(5)}]`,
    `rss ${mib(s.herald.rssMiB)} MiB`,
    `fds ${s.herald.fds ?? '-'}`,
    `cpu ${s.heraldCpuPercent ?? '-'} %`,
    s.walMiB === null && store === 'postgres'
      ? `pg ${mib(s.dbMiB)} MiB`
      : `db ${mib(s.dbMiB)} wal ${mib(s.walMiB)} MiB`,
    `pending ${s.pending ?? '-'}`,
    `due-wait ${s.oldestDueS === null ? '-' : round(s.oldestDueS)} s`,
    `accepted ${s.acceptedPerSec}/s`,
    `delivered ${s.deliveredPerSec}/s`,
    `healthz ${s.healthzMeanMs ?? '-'}/${s.healthzMaxMs ?? '-'} ms`,
    `receiver ${mib(s.receiver.rssMiB)} MiB`,
    `load ${s.load1 ?? '-'}`,
  ].join('  ');
}

/** The values whose trends over the samples under load the summary reports, in its order. */
const TRENDED = {
  heraldRssMiB: (s: Sample) => s.herald.rssMiB,
  heraldFds: (s: Sample) => s.herald.fds,
  receiverRssMiB: (s: Sample) => s.receiver.rssMiB,
  dbMiB: (s: Sample) => s.dbMiB,
  walMiB: (s: Sample) => s.walMiB,
  pending: (s: Sample) => s.pending,
  healthzMaxMs: (s: Sample) => s.healthzMaxMs,
  load1: (s: Sample) => s.load1,
  heraldCpuPercent: (s: Sample) => s.heraldCpuPercent,
} satisfies Record<string, (s: Sample) => number | null>;

export type SoakTrends = Record<keyof typeof TRENDED, Trend>;

export interface SoakRun {
  options: SoakOptions;
  endpoints: readonly SoakEndpoint[];
  herald: RunningHerald;
  samples: Sample[];
  eventsAccepted: number;
  skippedTicks: number;
  testEvents: number;
  drain: Drain;
  maxOldestDueS: number;
  arrivals: Record<string, Arrival>;
  receiverCounts: Record<string, number>;
  management: Record<string, number>;
  enables: Record<string, number>;
  invariants: Invariant[];
}

/** Prints the summary, writes the JSON result and says where; returns how many invariants failed. */
export function reportSoak(run: SoakRun, root: string, log: (line: string) => void): number {
  const { options, receiverCounts: counts } = run;
  const logLines = run.herald.process.logLines();
  const errorLines = logLines.filter((l) => Number(l.level) >= 50);
  const warnLines = logLines.filter((l) => Number(l.level) === 40);
  const loadSamples = run.samples.filter((s) => s.phase === 'load');
  const trends = Object.fromEntries(
    Object.entries(TRENDED).map(([name, pick]) => [
      name,
      trend(
        loadSamples.map((s) => ({ atS: s.atS, value: pick(s) })),
        options.warmup,
      ),
    ]),
  ) as SoakTrends;
  const mean = (pick: (s: Sample) => number | null) => {
    const v = loadSamples.map(pick).filter((x): x is number => x !== null);
    return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length) : null;
  };

  log('');
  log('summary:');
  const t = (name: string, tr: Trend, unit: string) =>
    log(
      `  ${name.padEnd(16)} first ${tr.first}${unit}  last ${tr.last}${unit}  max ${tr.max}${unit}  min ${tr.min}${unit}  slope ${tr.perMinute ?? '-'}${unit}/min`,
    );
  t('herald RSS', trends.heraldRssMiB, ' MiB');
  t('herald fds', trends.heraldFds, '');
  t('receiver RSS', trends.receiverRssMiB, ' MiB');
  t(options.store === 'sqlite' ? 'herald.db' : 'pg database', trends.dbMiB, ' MiB');
  if (options.store === 'sqlite') t('herald.db-wal', trends.walMiB, ' MiB');
  t('pending', trends.pending, '');
  t('healthz max', trends.healthzMaxMs, ' ms');
  t('herald CPU', trends.heraldCpuPercent, ' %');
  t('load (1 min)', trends.load1, '');
  log(
    `  rates (mean of samples under load): accepted ${mean((s) => s.acceptedPerSec)}/s, delivered ${mean((s) => s.deliveredPerSec)}/s at the receiver; ticks skipped (8 batches in flight): ${run.skippedTicks}`,
  );
  log(`  receiver requests: ${JSON.stringify(counts)}`);
  const lateAnswered = counts['slow:late-answered'] ?? 0;
  if (lateAnswered) {
    log(
      `  slow: ${lateAnswered} of ${counts['slow:late'] ?? 0} requests held past the 1 s timeout were still open at 1.5 s (Herald's deadline acted ≥ 0.5 s late)`,
    );
  }
  log(
    `  management calls: ${JSON.stringify(run.management)}; endpoints re-enabled: ${JSON.stringify(run.enables)}`,
  );
  log(`  herald log: ${logLines.length} lines, ${warnLines.length} warn, ${errorLines.length} error`);
  for (const line of [...errorLines, ...warnLines].slice(0, 5))
    log(`    ${JSON.stringify(line).slice(0, 300)}`);
  const failed = run.invariants.filter((i) => !i.ok);
  log(
    failed.length
      ? `${failed.length} invariant(s) FAILED: ${failed.map((f) => f.name).join(', ')}`
      : 'every invariant held',
  );

  const result = {
    kind: 'soak',
    startedAt: new Date(performance.timeOrigin).toISOString(),
    machine: describeMachine(root, '/usr/bin/redis-server'),
    options,
    endpoints: run.endpoints,
    eventsAccepted: run.eventsAccepted,
    testEvents: run.testEvents,
    drain: {
      drained: run.drain.drained,
      seconds: round(run.drain.seconds),
      pendingAtEnd: run.drain.pendingAtEnd,
    },
    maxOldestDueS: run.maxOldestDueS,
    trends,
    samples: run.samples,
    arrivals: run.arrivals,
    receiverCounts: counts,
    management: run.management,
    enables: run.enables,
    herald: {
      pid: run.herald.pid,
      logLines: logLines.length,
      warn: warnLines.length,
      error: errorLines.length,
      firstProblems: [...errorLines, ...warnLines].slice(0, 20),
    },
    invariants: run.invariants,
  };
  const out =
    options.out ??
    join(root, 'bench/results', `soak-${result.startedAt.replaceAll(':', '-').replace('.', '-')}.json`);
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`results: ${out}`);
  return failed.length;
}
