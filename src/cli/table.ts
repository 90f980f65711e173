import { displayWidth, padEndColumns } from './display-width.ts';

/**
 * Columns for the terminal: a header line, then one line per row, each column as wide as its widest
 * cell in terminal columns (displayWidth: a CJK character takes two, a combining mark none), so an
 * event type or a name in any script keeps the columns after it in line.
 */
export function alignedTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((title, i) =>
    Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[i]!))),
  );
  // The last column is not padded: a line ends with its text, not with spaces.
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : padEndColumns(cell, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)];
}
