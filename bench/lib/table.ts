/** Plain-text tables for the terminal. */
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
