/** Geometry of the latency chart's lines (pure, tested in node). */

/** The plot area inside the SVG, in viewBox units. */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface LinePoint {
  x: number;
  y: number;
}

export interface LineShape {
  /** SVG path data: one subpath per run of buckets that have a value. */
  path: string;
  /**
   * Points with no neighbour that has a value. A one-point subpath ("M x,y") draws nothing, and a
   * zero-length segment with round caps vanishes under the p95 line's dash pattern, so the chart
   * marks these with a circle instead: a p95 from one busy minute between idle ones must show.
   */
  isolated: LinePoint[];
}

/**
 * The line through one value per bucket (null = no attempts: a gap), bucket i centred in its slot,
 * values above max clamped to the top of the plot.
 */
export function lineShape(values: (number | null)[], max: number, plot: PlotArea): LineShape {
  const slot = plot.width / Math.max(1, values.length);
  const point = (index: number, value: number): LinePoint => ({
    x: plot.left + (index + 0.5) * slot,
    y: plot.top + plot.height * (1 - Math.min(value, max) / max),
  });
  const parts: string[] = [];
  const isolated: LinePoint[] = [];
  values.forEach((value, index) => {
    if (value === null) return;
    const { x, y } = point(index, value);
    const joined = index > 0 && values[index - 1] !== null;
    parts.push(`${joined ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`);
    const next = values[index + 1];
    if (!joined && (next === undefined || next === null)) isolated.push({ x, y });
  });
  return { path: parts.join(' '), isolated };
}
