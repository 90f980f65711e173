/** The goals of issue 6, checked against a run's results (null when the run did not measure it). */
import type { Results, Target } from './lib/results.ts';

export function evaluateTargets(r: Results): Target[] {
  const targets: Target[] = [];
  const add = (
    name: string,
    goal: string,
    value: number | null | undefined,
    pass: (v: number) => boolean,
    unit = '',
  ) =>
    targets.push({
      name,
      goal,
      value: value == null ? 'not measured' : `${value}${unit}`,
      pass: value == null ? null : pass(value),
    });

  const herald = r.throughput?.systems.find((s) => s.system === 'herald-sqlite');
  add('delivered/s vs BullMQ', '≥ 2x', herald?.ratioToBullmq, (v) => v >= 2, 'x');
  add('delivered/s vs raw ceiling', '≥ 0.6x', herald?.ratioToRaw, (v) => v >= 0.6, 'x');

  const at1000 = r.latency?.points.find((p) => p.system === 'herald-sqlite' && p.offeredPerSec === 1000);
  add('p99 accept→arrival at 1,000/s', '≤ 25 ms', at1000?.acceptToArrival.p99, (v) => v <= 25, ' ms');

  const fan = r.fanout?.find((f) => f.store === 'sqlite' && f.endpoints === 10_000);
  add('10,000-endpoint fan-out accepted', '≤ 250 ms', fan?.acceptMsMedian, (v) => v <= 250, ' ms');

  const backlog = r.backlog?.find((b) => b.store === 'sqlite' && b.pending >= 1_000_000);
  const rss = backlog ? Math.max(backlog.drain.rssPeakMiB, backlog.fill.apiRssPeakMiB) : null;
  // The "256 MB", read strictly as 256,000,000 bytes (244.1 MiB); results are in MiB.
  add('RSS with 1,000,000 pending', '≤ 256 MB (244.1 MiB)', rss, (v) => v * 2 ** 20 <= 256e6, ' MiB');
  const probe = backlog?.claimProbe;
  const growth =
    probe?.small && probe.full ? Math.round((probe.full.p50Ms / probe.small.p50Ms) * 100) / 100 : null;
  add('claim time, 1,000,000 vs 10,000 pending', '≤ 2x (flat)', growth, (v) => v <= 2, 'x');

  const iso = r.isolation?.find((i) => i.store === 'sqlite');
  add(
    'healthy throughput while one hangs',
    '≥ 90 %',
    iso?.share == null ? null : Math.round(iso.share * 100),
    (v) => v >= 90,
    ' %',
  );
  return targets;
}
