/** What the soak reads from /proc and the file system every sample, and the trends it reports. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rssBytes, toMiB } from './proc.ts';

export interface ProcessReading {
  rssMiB: number | null;
  fds: number | null;
  /** User + system CPU time so far, in clock ticks (1/100 s on Linux). */
  cpuTicks: number | null;
}

export function readProcess(pid: number): ProcessReading {
  const rss = rssBytes(pid);
  return { rssMiB: rss === null ? null : toMiB(rss), fds: openFds(pid), cpuTicks: cpuTicks(pid) };
}

function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function cpuTicks(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** The 1-minute load average. */
export function loadAverage(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/** A file's size in MiB, null when it does not exist. */
export function fileMiB(path: string): number | null {
  try {
    return toMiB(statSync(path).size);
  } catch {
    return null;
  }
}

export interface Trend {
  /** The first sample after the warm-up, the last one, the largest and smallest of those after warm-up. */
  first: number | null;
  last: number | null;
  max: number | null;
  min: number | null;
  /** Least-squares slope over the samples after warm-up, per minute (null with fewer than 3). */
  perMinute: number | null;
}

/**
 * The trend of one value over the samples taken at `atS` seconds, from the first one at or after
 * `warmupS` (all of them when none is).
 */
export function trend(samples: readonly { atS: number; value: number | null }[], warmupS: number): Trend {
  const all = samples.filter((s): s is { atS: number; value: number } => s.value !== null);
  const after = all.filter((s) => s.atS >= warmupS);
  const used = after.length > 0 ? after : all;
  if (used.length === 0) return { first: null, last: null, max: null, min: null, perMinute: null };
  const values = used.map((s) => s.value);
  return {
    first: values[0]!,
    last: values.at(-1)!,
    max: Math.max(...values),
    min: Math.min(...values),
    perMinute: used.length >= 3 ? round(slope(used) * 60, 3) : null,
  };
}

function slope(points: readonly { atS: number; value: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.atS, 0) / n;
  const my = points.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.atS - mx) * (p.value - my);
    den += (p.atS - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
