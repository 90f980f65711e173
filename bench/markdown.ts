/**
 * Prints a results JSON as the Markdown tables of docs/performance.md, so the page shows exactly
 * what a run measured:  node bench/markdown.ts [results.json]   (newest bench/results/*.json by default)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Results } from './lib/results.ts';
import { RETENTION_HEADERS, retentionRows, retentionSummary, sharePercent, withPhases } from './lib/table.ts';

type Cell = string | number | null | undefined;

function table(headers: string[], rows: Cell[][]): string {
  const cell = (v: Cell) =>
    v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))
      ? '–'
      : typeof v === 'number'
        ? v.toLocaleString('en-US', { maximumFractionDigits: 2 })
        : v;
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function resultsMarkdown(r: Results): string {
  const out: string[] = [];
  const t = r.throughput;
  if (t) {
    out.push(
      `### Delivered events/s (closed loop, median of ${t.rounds} rounds)\n`,
      table(
        ['system', 'delivered/s', 'rounds', '× raw', '× BullMQ', 'CPU, % of one core'],
        t.systems.map((s) => [
          `\`${s.system}\``,
          s.deliveredPerSec,
          s.rounds?.map((x) => x.toLocaleString('en-US')).join(' / '),
          s.ratioToRaw,
          s.ratioToBullmq,
          Object.entries(s.cpu ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ]),
      ),
    );
  }
  for (const i of r.ingest ?? []) {
    out.push(
      `\n### Ingest (${i.store}, \`--role api\`)\n`,
      table(
        ['request', 'in flight', 'events/s', 'request p50 ms', 'request p99 ms'],
        i.rows.map((x) => [x.request, x.parallel, x.eventsPerSec, x.requestMs.p50, x.requestMs.p99]),
      ),
    );
  }
  if (r.latency) {
    out.push(
      '\n### Latency at fixed offered loads (open loop)\n',
      table(
        [
          'system',
          'offered/s',
          'delivered/s',
          'accept→arrival p50 ms',
          'p95 ms',
          'p99 ms',
          'send→arrival p99 ms',
        ],
        r.latency.points.map((p) => [
          `\`${p.system}\``,
          `${p.offeredPerSec.toLocaleString('en-US')}${p.share ? ` (${p.share * 100} %)` : ''}`,
          p.deliveredPerSec,
          p.acceptToArrival.p50,
          p.acceptToArrival.p95,
          p.acceptToArrival.p99,
          p.sendToArrival.p99,
        ]),
      ),
    );
  }
  if (r.fanout) {
    out.push(
      '\n### Fan-out: one event to N endpoints (median)\n',
      table(
        ['store', 'endpoints', 'accepted (202) ms', 'all delivered ms', 'deliveries/s'],
        r.fanout.map((f) => [
          f.store,
          f.endpoints,
          f.acceptMsMedian,
          f.allArrivedMsMedian,
          f.deliveriesPerSec,
        ]),
      ),
    );
  }
  for (const b of r.backlog ?? []) {
    const p = b.claimProbe;
    out.push(
      `\n### Backlog (${b.store}): ${b.pending.toLocaleString('en-US')} pending deliveries\n`,
      table(
        ['measure', 'value'],
        [
          ['fill through the batch API (`--role api`), events/s', b.fill.eventsPerSec],
          ['API process RSS, peak', `${b.fill.apiRssPeakMiB} MiB`],
          ['drain (`--role worker`), deliveries/s', b.drain.perSec],
          ['worker process RSS, peak', `${b.drain.rssPeakMiB} MiB`],
          [
            'claim time while draining (mean, `herald_claim_duration_seconds`)',
            msOrDash(b.drain.claimMeanMs),
          ],
          [
            `claim of 256, probe at ${p.small?.backlog.toLocaleString('en-US') ?? '–'} pending (p50)`,
            msOrDash(p.small?.p50Ms),
          ],
          [
            `claim of 256, probe at ${p.full?.backlog.toLocaleString('en-US') ?? '–'} pending (p50)`,
            msOrDash(p.full?.p50Ms),
          ],
        ],
      ),
    );
  }
  if (r.isolation) {
    out.push(
      '\n### Isolation: 9 healthy endpoints, with and without a 10th that hangs\n',
      table(
        [
          'store',
          'hang timeout',
          'healthy/s alone (each phase)',
          'healthy/s with the hanging one (each phase)',
          'share',
        ],
        r.isolation.map((i) => [
          i.store,
          `${i.hangTimeoutMs / 1000} s`,
          withPhases(i.withoutHanging, i.withoutHangingPhases),
          withPhases(i.withHanging, i.withHangingPhases),
          sharePercent(i.share, i.shares),
        ]),
      ),
    );
  }
  for (const x of r.retention ?? []) {
    out.push(
      `\n### Retention (${x.store}): a purge round of ${x.oldEvents.toLocaleString('en-US')} old events under ${x.offeredPerSec} events/s\n`,
      `${retentionSummary(x)}.\n`,
      table(RETENTION_HEADERS, retentionRows(x)),
    );
  }
  out.push(
    '\n### Targets (issue 6)\n',
    table(
      ['target', 'goal', 'measured', 'met'],
      r.targets.map((x) => [x.name, x.goal, x.value, x.pass === null ? '–' : x.pass ? 'yes' : '**no**']),
    ),
  );
  return out.join('\n');
}

function msOrDash(v: number | null | undefined): string {
  return v == null ? '–' : `${v} ms`;
}

if (import.meta.main) {
  const dir = resolve(import.meta.dirname, 'results');
  const file =
    process.argv[2] ??
    join(
      dir,
      readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .at(-1) ?? '',
    );
  console.log(resultsMarkdown(JSON.parse(readFileSync(file, 'utf8')) as Results));
}
