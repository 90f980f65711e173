/** What a Herald process did over a span of time: claims (from /metrics), CPU and memory. */
import { meterCpu } from './cpu.ts';
import type { RunningHerald } from './herald-process.ts';
import { sampleRss, toMiB } from './proc.ts';
import { gaugeValue, histogramTotals, meanMsBetween } from './prom.ts';

/** The dispatcher's claim histogram (absent from older Herald builds: then claim fields are null). */
export const CLAIM_METRIC = 'herald_claim_duration_seconds';

export interface HeraldUsage {
  /** Mean claim time over the span, and how many claims there were. */
  claimMeanMs: number | null;
  claims: number | null;
  /** CPU of the Herald process, % of one core. */
  cpuPct: number | null;
  rssPeakMiB: number;
  /** At the end of the span, from prom-client's process metrics (main thread's V8 heap). */
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  externalMiB: number | null;
}

export async function meterHerald(herald: RunningHerald) {
  const before = histogramTotals(await herald.api.metrics(), CLAIM_METRIC);
  const cpu = meterCpu({ herald: herald.pid });
  const rss = sampleRss(herald.pid);
  return {
    async stop(): Promise<HeraldUsage> {
      const cpuPct = cpu.stop().herald ?? null;
      const memory = rss.stop();
      const text = await herald.api.metrics();
      const after = histogramTotals(text, CLAIM_METRIC);
      const mib = (name: string) => {
        const v = gaugeValue(text, name);
        return v === null ? null : toMiB(v);
      };
      return {
        claimMeanMs: meanMsBetween(before, after),
        claims: before && after ? after.count - before.count : null,
        cpuPct,
        rssPeakMiB: memory.peakMiB,
        heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
        heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
        externalMiB: mib('nodejs_external_memory_bytes'),
      };
    },
  };
}
