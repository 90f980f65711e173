/**
 * Hand-written SVG charts of an endpoint's stats buckets: attempts over time (succeeded vs failed,
 * stacked bars; …/stats counts attempts, so a delivery tried three times counts three) and latency
 * (average and p95 lines). Each chart has a text summary for screen readers, and StatsTable gives
 * every bucket's figures as a table: a bar's own figures are in an SVG <title>, which only a mouse
 * pointer shows (a chart with role=img hides its parts from screen readers, and no key reaches them).
 */
import type { StatsBucket } from '../api/types.ts';
import { lineShape } from '../chart-lines.ts';
import { formatAxisCount, formatCount, formatDuration } from '../format.ts';
import { axisTicks, niceMax } from '../stats-buckets.ts';
import { TableScroll } from './table-scroll.tsx';

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { top: 12, right: 12, bottom: 26, left: 48 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
const PLOT = { left: PAD.left, top: PAD.top, width: PLOT_W, height: PLOT_H };

/** A bucket's start in the viewer's zone, named ("Dec 5, 09:00 AM GMT+9"), as the page's other times. */
const timeLabel = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

function XLabels({ buckets }: { buckets: StatsBucket[] }) {
  if (buckets.length === 0) return null;
  const picks = [...new Set([0, Math.floor((buckets.length - 1) / 2), buckets.length - 1])];
  return (
    <>
      {picks.map((index) => {
        const x = PAD.left + ((index + 0.5) / buckets.length) * PLOT_W;
        const anchor = index === 0 ? 'start' : index === buckets.length - 1 ? 'end' : 'middle';
        return (
          <text key={index} x={x} y={HEIGHT - 8} text-anchor={anchor} class="chart-label">
            {timeLabel.format(new Date(buckets[index]!.start))}
          </text>
        );
      })}
    </>
  );
}

/** Grid lines and labels at whole values (attempts, milliseconds): see axisTicks. */
function YAxis({ max, format }: { max: number; format: (value: number) => string }) {
  return (
    <>
      {axisTicks(max).map((value) => {
        const y = PAD.top + PLOT_H * (1 - value / max);
        return (
          <g key={value}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} class="chart-grid" />
            <text x={PAD.left - 6} y={y + 4} text-anchor="end" class="chart-label chart-y-label">
              {format(value)}
            </text>
          </g>
        );
      })}
    </>
  );
}

/** Stacked bars: succeeded (bottom) and failed (top) attempts per bucket. */
export function AttemptsChart({ buckets }: { buckets: StatsBucket[] }) {
  const succeeded = buckets.reduce((sum, b) => sum + b.succeeded, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.succeeded + b.failed)));
  const slot = PLOT_W / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.7);
  const scale = (n: number) => (n / max) * PLOT_H;
  const summary = `Attempts over time: ${formatCount(succeeded)} succeeded, ${formatCount(failed)} failed.`;
  return (
    <figure class="chart">
      <figcaption>
        Attempts <span class="legend legend-ok">succeeded {formatCount(succeeded)}</span>{' '}
        <span class="legend legend-bad">failed {formatCount(failed)}</span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <YAxis max={max} format={(v) => formatAxisCount(Math.round(v))} />
        {buckets.map((bucket, index) => {
          const x = PAD.left + index * slot + (slot - barWidth) / 2;
          const okHeight = scale(bucket.succeeded);
          const badHeight = scale(bucket.failed);
          const base = PAD.top + PLOT_H;
          return (
            <g key={bucket.start}>
              <title>{`${timeLabel.format(new Date(bucket.start))}: ${formatCount(bucket.succeeded)} succeeded, ${formatCount(bucket.failed)} failed`}</title>
              {okHeight > 0 && (
                <rect x={x} y={base - okHeight} width={barWidth} height={okHeight} class="bar-ok" />
              )}
              {badHeight > 0 && (
                <rect
                  x={x}
                  y={base - okHeight - badHeight}
                  width={barWidth}
                  height={badHeight}
                  class="bar-bad"
                />
              )}
            </g>
          );
        })}
        <XLabels buckets={buckets} />
      </svg>
    </figure>
  );
}

/** Average and p95 attempt duration per bucket (gaps where nothing was attempted). */
export function LatencyChart({ buckets }: { buckets: StatsBucket[] }) {
  const values = buckets
    .flatMap((b) => [b.avgDurationMs, b.p95DurationMs])
    .filter((v): v is number => v !== null);
  // At least 1 ms: the axis is labelled in whole milliseconds.
  const max = niceMax(Math.max(1, ...values));
  const p95 = buckets.map((b) => b.p95DurationMs).filter((v): v is number => v !== null);
  const summary = values.length
    ? `Latency: highest p95 ${formatDuration(Math.max(...p95, 0))}.`
    : 'Latency: no attempts in this period.';
  const slot = PLOT_W / Math.max(1, buckets.length);
  const p95Line = lineShape(
    buckets.map((b) => b.p95DurationMs),
    max,
    PLOT,
  );
  const avgLine = lineShape(
    buckets.map((b) => b.avgDurationMs),
    max,
    PLOT,
  );
  return (
    <figure class="chart">
      <figcaption>
        Latency <span class="legend legend-avg">average</span> <span class="legend legend-p95">p95</span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <YAxis max={max} format={(v) => formatDuration(v)} />
        <path d={p95Line.path} class="line-p95" />
        <path d={avgLine.path} class="line-avg" />
        {/* A p95 with no neighbour draws no line; the average has a dot in every bucket. */}
        {p95Line.isolated.map(({ x, y }) => (
          <circle key={`p95-${x}`} cx={x} cy={y} r={3.5} class="dot-p95" />
        ))}
        {buckets.map((bucket, index) =>
          bucket.avgDurationMs === null ? null : (
            <circle
              key={bucket.start}
              cx={PAD.left + (index + 0.5) * slot}
              cy={PAD.top + PLOT_H * (1 - Math.min(bucket.avgDurationMs, max) / max)}
              r={2.5}
              class="dot-avg"
            >
              <title>{`${timeLabel.format(new Date(bucket.start))}: average ${formatDuration(bucket.avgDurationMs)}, p95 ${formatDuration(bucket.p95DurationMs)}`}</title>
            </circle>
          ),
        )}
        <XLabels buckets={buckets} />
      </svg>
    </figure>
  );
}

/** The charts' figures, bucket by bucket, in a table shown on demand. */
export function StatsTable({ buckets }: { buckets: StatsBucket[] }) {
  const label = 'Attempts and latency over time';
  return (
    <details class="chart-data">
      <summary>Show the figures as a table</summary>
      <TableScroll label={label}>
        <table>
          <caption class="sr-only">{label}</caption>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">Succeeded</th>
              <th scope="col">Failed</th>
              <th scope="col">Average</th>
              <th scope="col">p95</th>
            </tr>
          </thead>
          <tbody>
            {buckets.map((bucket) => (
              <tr key={bucket.start}>
                <th scope="row">{timeLabel.format(new Date(bucket.start))}</th>
                <td>{formatCount(bucket.succeeded)}</td>
                <td>{formatCount(bucket.failed)}</td>
                <td>{formatDuration(bucket.avgDurationMs)}</td>
                <td>{formatDuration(bucket.p95DurationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </details>
  );
}
