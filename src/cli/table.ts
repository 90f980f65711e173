/** Columns for the terminal: a header line, then one line per row, each column as wide as its widest cell. */
export function alignedTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  // The last column is not padded: a line ends with its text, not with spaces.
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)];
}
