/** Two small SVG chart panels (bars, and lines with markers), enough for bench/chart.ts. */

export interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Bar {
  label: string;
  value: number;
  color: string;
  note: string;
}

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  /** A guide line (no markers). */
  reference?: boolean;
  points: [number, number][];
}

const INK = '#111827';
const GRID = '#e5e7eb';
const PLOT_LEFT = 62;

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function label(x: number, y: number, s: string, size = 11, anchor = 'middle', extra = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" text-anchor="${anchor}" fill="${INK}" ${extra}>${esc(s)}</text>`;
}

/** About five round ticks from 0 to at least `max`. */
export function niceTicks(max: number): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / 5;
  const step = [1, 2, 2.5, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 0.999; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}

/** 1-2-5 ticks covering [min, max] for a log axis. */
export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= min / 2 && t <= max * 2) ticks.push(Math.round(t * 1000) / 1000);
    }
  }
  return ticks;
}

function short(n: number): string {
  if (n >= 1000) return `${Math.round((n / 1000) * 10) / 10}k`;
  return String(Math.round(n * 100) / 100);
}

export function barsPanel(f: Frame, title: string, bars: Bar[]): string {
  const out: string[] = [label(f.x + f.w / 2, f.y - 12, title, 14, 'middle', 'font-weight="bold"')];
  const plot = { x: f.x + PLOT_LEFT, y: f.y, w: f.w - PLOT_LEFT, h: f.h };
  // Headroom above the tallest bar for its two labels (value, note), which sit over the bar.
  const ticks = niceTicks(Math.max(1, ...bars.map((b) => b.value)) * 1.15);
  const top = ticks.at(-1)!;
  const yOf = (v: number) => plot.y + plot.h - (v / top) * plot.h;
  for (const t of ticks) {
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${yOf(t)}" y2="${yOf(t)}" stroke="${GRID}"/>`,
      label(plot.x - 6, yOf(t) + 4, short(t), 11, 'end'),
    );
  }
  const slot = plot.w / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const x = plot.x + i * slot + slot * 0.2;
    const w = slot * 0.6;
    out.push(
      `<rect x="${x}" y="${yOf(b.value)}" width="${w}" height="${plot.y + plot.h - yOf(b.value)}" fill="${b.color}"/>`,
      label(
        x + w / 2,
        yOf(b.value) - 20,
        b.value.toLocaleString('en-US'),
        12,
        'middle',
        'font-weight="bold"',
      ),
      label(x + w / 2, yOf(b.value) - 6, b.note, 11),
      label(x + w / 2, plot.y + plot.h + 18, b.label, 12),
    );
  });
  out.push(
    `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${plot.y + plot.h}" y2="${plot.y + plot.h}" stroke="${INK}"/>`,
  );
  return out.join('\n');
}

export function linesPanel(
  f: Frame,
  title: string,
  series: Series[],
  axes: { xLabel: string; yLabel: string; logY?: boolean },
): string {
  const out: string[] = [label(f.x + f.w / 2, f.y - 12, title, 14, 'middle', 'font-weight="bold"')];
  const plot = { x: f.x + PLOT_LEFT, y: f.y, w: f.w - PLOT_LEFT, h: f.h };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v));
  const xTicks = niceTicks(Math.max(1, ...xs));
  const xTop = xTicks.at(-1)!;
  const floor = 0.1;
  const yTicks = axes.logY
    ? logTicks(Math.max(floor, Math.min(...ys.map((v) => Math.max(v, floor)), 1)), Math.max(2, ...ys))
    : niceTicks(Math.max(1, ...ys));
  const yLow = axes.logY ? yTicks[0]! : 0;
  const yTop = yTicks.at(-1)!;
  const xOf = (v: number) => plot.x + (v / xTop) * plot.w;
  const yOf = (v: number) =>
    axes.logY
      ? plot.y +
        plot.h -
        ((Math.log10(Math.max(v, yLow)) - Math.log10(yLow)) / (Math.log10(yTop) - Math.log10(yLow))) * plot.h
      : plot.y + plot.h - (v / yTop) * plot.h;
  for (const t of yTicks) {
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${yOf(t)}" y2="${yOf(t)}" stroke="${GRID}"/>`,
      label(plot.x - 6, yOf(t) + 4, short(t), 11, 'end'),
    );
  }
  for (const t of xTicks) {
    out.push(
      `<line x1="${xOf(t)}" x2="${xOf(t)}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="${GRID}"/>`,
      label(xOf(t), plot.y + plot.h + 16, short(t)),
    );
  }
  out.push(
    `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="${INK}"/>`,
    label(plot.x + plot.w / 2, plot.y + plot.h + 36, axes.xLabel, 12),
    label(
      f.x + 12,
      plot.y + plot.h / 2,
      axes.yLabel,
      12,
      'middle',
      `transform="rotate(-90 ${f.x + 12} ${plot.y + plot.h / 2})"`,
    ),
  );
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${xOf(p[0]).toFixed(1)},${yOf(p[1]).toFixed(1)}`).join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" ${s.dashed ? 'stroke-dasharray="6 4"' : ''}/>`,
    );
    if (!s.reference) {
      // Dashed series get hollow markers, so a lone point still says which series it is.
      const fill = s.dashed ? '#ffffff' : s.color;
      for (const p of pts) {
        out.push(
          `<circle cx="${xOf(p[0]).toFixed(1)}" cy="${yOf(p[1]).toFixed(1)}" r="4" fill="${fill}" stroke="${s.color}" stroke-width="2"/>`,
        );
      }
    }
  }
  // Legend under the axis title: two columns, or one when a label would run into the next column
  // (~6.5 px per character at 11 px).
  const columns = series.some((s) => 28 + s.label.length * 6.5 > plot.w / 2) ? 1 : 2;
  series.forEach((s, i) => {
    const col = i % columns;
    const row = Math.floor(i / columns);
    const x = plot.x + col * (plot.w / 2);
    const y = plot.y + plot.h + 56 + row * 16;
    out.push(
      `<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${s.color}" stroke-width="2" ${s.dashed ? 'stroke-dasharray="6 4"' : ''}/>`,
      s.reference
        ? ''
        : `<circle cx="${x + 11}" cy="${y - 4}" r="3.5" fill="${s.dashed ? '#ffffff' : s.color}" stroke="${s.color}" stroke-width="2"/>`,
      label(x + 28, y, s.label, 11, 'start'),
    );
  });
  return out.join('\n');
}
