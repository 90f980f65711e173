/** Plain-text tables for the terminal, and cells the Markdown tables share. */
import type { WindowLatency } from './latency.ts';
import type { RetentionResult } from './results.ts';
import { round as roundTo } from './stats.ts';

export type Cell = string | number | null | undefined;

export function formatTable(title: string, headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`\n${title}`, line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join(
    '\n',
  );
}

function cell(value: Cell): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '–';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return value;
}

/** A mean with the phases it was taken over: `5,482 (5,000, 5,963)`. */
export function withPhases(mean: number, phases: readonly number[] | undefined): string {
  const en = (n: number) => n.toLocaleString('en-US');
  return phases?.length ? `${en(mean)} (${phases.map(en).join(', ')})` : en(mean);
}

/** A share as a percentage, with each turn's when there were several: `90 % (88, 91, 92)`. */
export function sharePercent(
  share: number | null,
  shares: readonly (number | null)[] | undefined,
): string | null {
  if (share === null) return null;
  const pct = (x: number | null) => (x === null ? '–' : String(Math.round(x * 100)));
  return shares && shares.length > 1 ? `${pct(share)} % (${shares.map(pct).join(', ')})` : `${pct(share)} %`;
}

/** The retention scenario's headers and rows, the same in the terminal and in Markdown. */
export const RETENTION_HEADERS = [
  'live events sent',
  'events',
  'accept p50 ms',
  'p95',
  'p99',
  'max',
  'accept→arrival p50 ms',
  'p95',
  'p99',
  'max',
  'missing',
];

export function retentionRows(r: RetentionResult): Cell[][] {
  const windows: [string, WindowLatency | null][] = [
    ['before the round', r.before],
    ['during the round', r.during],
    ['after the round', r.after],
  ];
  return windows.map(([name, w]) => [
    name,
    w?.accept.count,
    w?.accept.p50,
    w?.accept.p95,
    w?.accept.p99,
    w?.accept.max,
    w?.acceptToArrival.p50,
    w?.acceptToArrival.p95,
    w?.acceptToArrival.p99,
    w?.acceptToArrival.max,
    w?.missing,
  ]);
}

/** The round in one sentence: when, how long, how much, and what it left on the disk. */
export function retentionSummary(r: RetentionResult): string {
  const en = (n: number | null | undefined) => (n == null ? '–' : n.toLocaleString('en-US'));
  const x = r.round;
  const round = x
    ? `The round started ${en(roundTo(x.startedAfterMs / 1000, 1))} s after Herald and took ` +
      `${en(roundTo(x.durationMs / 1000, 1))} s: ${en(x.events)} events, ${en(x.deliveries)} deliveries ` +
      `and ${en(x.attempts)} attempts in ${en(x.batches)} batches (${en(x.eventsPerSec)} events/s)`
    : 'No round ended in the time allowed';
  const wal = r.walPeakMiB === null ? '' : `WAL peak ${en(r.walPeakMiB)} MiB, `;
  return (
    `${round}; ${wal}Herald RSS peak ${en(r.rssPeakMiB)} MiB; ` +
    `live load sent ${en(r.sentPerSec)}/s, ${en(r.errors)} errors`
  );
}
