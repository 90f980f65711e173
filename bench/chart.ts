/**
 * Renders a results JSON as a chart: closed-loop delivered/s per system, delivered/s against
 * offered load, and acceptance-to-arrival latency against offered load. The SVG is drawn here and
 * turned into a PNG by headless Chromium (playwright-core, Debian's /usr/bin/chromium).
 *
 *   node bench/chart.ts [results.json] [--out=docs/performance-chart.png]
 *
 * Without a file, the newest bench/results/*.json is used.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LatencyPoint, Results } from './lib/results.ts';
import { barsPanel, type Frame, linesPanel, type Series } from './lib/svg.ts';

const ROOT = resolve(import.meta.dirname, '..');
export const CHART_PATH = join(ROOT, 'docs/performance-chart.png');
const CHROMIUM = process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium';

export const COLORS: Record<string, string> = {
  'herald-sqlite': '#2563eb',
  'herald-postgres': '#7c3aed',
  'bullmq-redis': '#dc2626',
  'raw-undici': '#6b7280',
};

const WIDTH = 1500;
const HEIGHT = 700;

export function chartSvg(r: Results): string {
  const panelW = (WIDTH - 80) / 3;
  const frame = (i: number): Frame => ({ x: 40 + i * panelW, y: 100, w: panelW - 40, h: HEIGHT - 300 });
  const parts: string[] = [];
  const m = r.machine;
  parts.push(
    text(WIDTH / 2, 30, 'Herald delivery benchmark', 20, 'middle', 'bold'),
    text(
      WIDTH / 2,
      52,
      `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · Node ${m.node} · commit ${m.commit} · ${r.startedAt.slice(0, 10)} · ${r.profile.name} run · 1 KiB payload, one loopback receiver on the same cores`,
      12,
      'middle',
    ),
  );

  const systems = r.throughput?.systems ?? [];
  parts.push(
    barsPanel(
      frame(0),
      'Delivered events/s, closed loop',
      systems.map((s) => ({
        label: s.system,
        value: s.deliveredPerSec,
        color: COLORS[s.system] ?? '#111827',
        note: s.ratioToRaw === null ? '' : `${s.ratioToRaw}x raw`,
      })),
    ),
  );

  const points = r.latency?.points ?? [];
  const bySystem = new Map<string, LatencyPoint[]>();
  for (const p of points) bySystem.set(p.system, [...(bySystem.get(p.system) ?? []), p]);
  for (const list of bySystem.values()) list.sort((a, b) => a.offeredPerSec - b.offeredPerSec);
  const maxOffered = Math.max(1, ...points.map((p) => p.offeredPerSec));

  const delivered: Series[] = [
    {
      label: 'offered = delivered',
      color: '#9ca3af',
      dashed: true,
      reference: true,
      points: [
        [0, 0],
        [maxOffered, maxOffered],
      ],
    },
    ...[...bySystem].map(([system, list]) => ({
      label: system,
      color: COLORS[system] ?? '#111827',
      points: list.map((p) => [p.offeredPerSec, p.deliveredPerSec] as [number, number]),
    })),
  ];
  for (const [system, capacity] of Object.entries(r.latency?.capacity ?? {})) {
    delivered.push({
      label: `${system} closed-loop capacity`,
      color: COLORS[system] ?? '#111827',
      dashed: true,
      reference: true,
      points: [
        [0, capacity],
        [maxOffered, capacity],
      ],
    });
  }
  parts.push(
    linesPanel(frame(1), 'Delivered/s against offered load (open loop)', delivered, {
      xLabel: 'offered events/s',
      yLabel: 'delivered events/s',
    }),
  );

  const latency: Series[] = [];
  for (const [system, list] of bySystem) {
    const color = COLORS[system] ?? '#111827';
    latency.push(
      { label: `${system} p50`, color, points: list.map((p) => [p.offeredPerSec, p.acceptToArrival.p50]) },
      {
        label: `${system} p99`,
        color,
        dashed: true,
        points: list.map((p) => [p.offeredPerSec, p.acceptToArrival.p99]),
      },
    );
  }
  latency.push({
    label: 'goal: p99 ≤ 25 ms at 1,000/s',
    color: '#16a34a',
    dashed: true,
    reference: true,
    points: [
      [0, 25],
      [maxOffered, 25],
    ],
  });
  parts.push(
    linesPanel(frame(2), 'Acceptance → arrival latency (ms, log)', latency, {
      xLabel: 'offered events/s',
      yLabel: 'ms',
      logY: true,
    }),
  );

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

function text(x: number, y: number, s: string, size: number, anchor: string, weight = 'normal'): string {
  return `<text x="${x}" y="${y}" font-size="${size}" text-anchor="${anchor}" font-weight="${weight}" fill="#111827">${escapeXml(s)}</text>`;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Writes the SVG beside `out` (same name, .svg) and the PNG at `out`; returns the PNG's path. */
export async function renderChart(r: Results, out = CHART_PATH): Promise<string> {
  const svg = chartSvg(r);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      // Nothing but loopback: any host name fails to resolve, so no DNS query leaves the machine.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: out });
  } finally {
    await browser.close();
  }
  return out;
}

function newestResults(): string {
  const dir = join(ROOT, 'bench/results');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no results in ${dir}: run npm run bench first`);
  return join(dir, files.at(-1)!);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, svg: { type: 'string' } },
  });
  const file = positionals[0] ?? newestResults();
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  if (values.svg) writeFileSync(values.svg, chartSvg(results));
  console.log(
    `chart of ${file} written to ${await renderChart(results, values.out ? resolve(values.out) : CHART_PATH)}`,
  );
}
