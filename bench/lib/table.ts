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
