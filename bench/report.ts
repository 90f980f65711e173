/** The tables `npm run bench` prints. */
import type { ClaimProbe, Results } from './lib/results.ts';
import {
  formatTable,
  RETENTION_HEADERS,
  retentionRows,
  retentionSummary,
  sharePercent,
  withPhases,
} from './lib/table.ts';

export function printReport(r: Results): string {
  const parts: string[] = [];
  const m = r.machine;
  parts.push(
    `\nMachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, ` +
      `redis ${m.redis ?? '?'}; commit ${m.commit}; profile ${r.profile.name}`,
  );
  if (r.throughput) {
    const t = r.throughput;
    parts.push(
      formatTable(
        `Delivered events/s, closed loop (${t.payloadBytes} B payload, ${t.concurrency} in flight, batches of ${t.batch}, ≤ ${t.bound} outstanding; median of ${t.rounds} rounds)`,
        [
          'system',
          'delivered/s',
          'rounds',
          'x raw',
          'x BullMQ',
          'CPU % (of one core)',
          'backlog',
          'RSS MiB',
          'claim ms',
          'note',
        ],
        t.systems.map((s) => [
          s.system,
          s.deliveredPerSec,
          s.rounds?.join(' / '),
          s.ratioToRaw,
          s.ratioToBullmq,
          cpuText(s.cpu),
          s.meanOutstanding,
          s.rssPeakMiB,
          s.claimMeanMs,
          s.note,
        ]),
      ),
    );
  }
  for (const i of r.ingest ?? []) {
    parts.push(
      formatTable(
        `Ingest (${i.store}, role api, one endpoint: event + delivery stored before the 202)`,
        ['request', 'in flight', 'events/s', 'p50 ms', 'p99 ms'],
        i.rows.map((x) => [x.request, x.parallel, x.eventsPerSec, x.requestMs.p50, x.requestMs.p99]),
      ),
    );
  }
  if (r.latency) {
    parts.push(
      formatTable(
        'Latency at fixed offered loads (open loop; accept = 202 received; ms)',
        ['system', 'offered/s', 'delivered/s', 'p50', 'p95', 'p99', 'send→arrival p99', 'missing'],
        r.latency.points.map((p) => [
          p.system,
          `${p.offeredPerSec}${p.share ? ` (${p.share * 100}%)` : ''}`,
          p.deliveredPerSec,
          p.acceptToArrival.p50,
          p.acceptToArrival.p95,
          p.acceptToArrival.p99,
          p.sendToArrival.p99,
          p.missing,
        ]),
      ),
    );
  }
  if (r.fanout) {
    parts.push(
      formatTable(
        'Fan-out: one event to N endpoints (median of runs)',
        [
          'store',
          'endpoints',
          'accept ms',
          'all arrived ms',
          'deliveries/s',
          'runs',
          'claims (mean ms)',
          'herald CPU %',
        ],
        r.fanout.map((f) => {
          const last = f.runs.at(-1)?.herald;
          return [
            f.store,
            f.endpoints,
            f.acceptMsMedian,
            f.allArrivedMsMedian,
            f.deliveriesPerSec,
            f.runs.length,
            last?.claims == null ? null : `${last.claims} (${last.claimMeanMs})`,
            last?.cpuPct,
          ];
        }),
      ),
    );
  }
  for (const b of r.backlog ?? []) {
    const p = b.claimProbe;
    parts.push(
      formatTable(
        `Backlog (${b.store}): ${b.pending.toLocaleString('en-US')} pending deliveries`,
        ['measure', 'value'],
        [
          ['fill (batch API, role api) events/s', b.fill.eventsPerSec],
          ['fill: api RSS peak MiB', b.fill.apiRssPeakMiB],
          ['drain (role worker) deliveries/s', b.drain.perSec],
          ['drain: worker RSS peak MiB', b.drain.rssPeakMiB],
          ['claim (metric, while draining) mean ms', b.drain.claimMeanMs],
          [`claim probe at ${p.small?.backlog ?? '–'} pending, p50 ms`, p.small?.p50Ms],
          [`claim probe at ${p.full?.backlog ?? '–'} pending, p50 ms`, p.full?.p50Ms],
          [
            `… leaving its endpoint out, at ${p.small?.backlog ?? '–'}, p50 / max ms (found)`,
            leaving(p.small),
          ],
          [`… leaving its endpoint out, at ${p.full?.backlog ?? '–'}, p50 / max ms (found)`, leaving(p.full)],
          ...(p.error ? [['claim probe error', p.error]] : []),
        ],
      ),
    );
  }
  if (r.isolation) {
    parts.push(
      formatTable(
        'Isolation: 9 healthy endpoints (own origins), with and without a 10th that hangs',
        [
          'store',
          'hang timeout ms',
          'healthy/s alone (each phase)',
          'healthy/s with hang (each phase)',
          'share',
          'hung requests',
          'claim ms alone / with',
          'herald CPU % alone / with',
        ],
        r.isolation.map((i) => [
          i.store,
          i.hangTimeoutMs,
          withPhases(i.withoutHanging, i.withoutHangingPhases),
          withPhases(i.withHanging, i.withHangingPhases),
          sharePercent(i.share, i.shares),
          i.hangingRequests,
          `${i.herald.withoutHanging.claimMeanMs ?? '–'} / ${i.herald.withHanging.claimMeanMs ?? '–'}`,
          `${i.herald.withoutHanging.cpuPct ?? '–'} / ${i.herald.withHanging.cpuPct ?? '–'}`,
        ]),
      ),
    );
  }
  for (const x of r.retention ?? []) {
    parts.push(
      formatTable(
        `Retention (${x.store}): a round purging ${x.oldEvents.toLocaleString('en-US')} events two days old ` +
          `(two deliveries each) while ${x.offeredPerSec} events/s come in (single events, open loop)\n` +
          retentionSummary(x),
        RETENTION_HEADERS,
        retentionRows(x),
      ),
    );
  }
  parts.push(
    formatTable(
      'Targets (issue 6)',
      ['target', 'goal', 'measured', 'met'],
      r.targets.map((t) => [t.name, t.goal, t.value, t.pass === null ? '–' : t.pass ? 'yes' : 'NO']),
    ),
  );
  if (r.errors.length) parts.push(`\nScenarios that failed: ${r.errors.map((e) => e.scenario).join(', ')}`);
  return parts.join('\n');
}

function cpuText(cpu: Record<string, number> | undefined): string | null {
  if (!cpu) return null;
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** A probe's claims that left the backlog's endpoint out: "p50 / max (found)". */
function leaving(p: ClaimProbe | null): string | null {
  const l = p?.leavingOut;
  return l ? `${l.p50Ms} / ${l.maxMs} (${l.claimed} of ${p.rounds * p.limit})` : null;
}
