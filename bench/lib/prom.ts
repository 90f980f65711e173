/** Just enough of the Prometheus text format to read a histogram's sum and count. */
export interface HistogramTotals {
  sum: number;
  count: number;
}

/** Sum and count of an unlabelled histogram (all label sets added), or null when it is absent. */
export function histogramTotals(text: string, name: string): HistogramTotals | null {
  let sum = 0;
  let count = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_sum`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      found = true;
    } else if (line.startsWith(`${name}_count`)) {
      count += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return found ? { sum, count } : null;
}

/** Mean in milliseconds of the observations between two readings (null without any). */
export function meanMsBetween(before: HistogramTotals | null, after: HistogramTotals | null): number | null {
  if (!before || !after || after.count <= before.count) return null;
  return Math.round(((after.sum - before.sum) / (after.count - before.count)) * 1000 * 100) / 100;
}

/** Value of an unlabelled gauge, or null when it is absent. */
export function gaugeValue(text: string, name: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1).split(' ')[0]);
  }
  return null;
}
