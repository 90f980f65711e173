/** Latency summary in milliseconds (nearest-rank percentiles). */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => {
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  };
  return {
    count: sorted.length,
    p50: round(at(0.5), 2),
    p95: round(at(0.95), 2),
    p99: round(at(0.99), 2),
    max: round(at(1), 2),
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * A rate for the tables: whole units from 100/s up, two decimals below. Rounding a slow window to
 * whole units read one arrival in 30 s as 0/s, i.e. as "delivered nothing".
 */
export function roundRate(perSec: number): number {
  return Math.abs(perSec) >= 100 ? Math.round(perSec) : round(perSec, 2);
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  return round(a / b, 2);
}

/**
 * The geometric mean of the ratios given, rounded to 3 decimals, and how many it is of: a missing
 * ratio (a run without the system, or without the one it is divided by) or one of 0 (the system
 * delivered nothing) cannot enter a geometric mean, so `of` says how many did.
 */
export function geometricMean(xs: (number | null)[]): { mean: number | null; of: number } {
  const ok = xs.filter((x): x is number => x !== null && x > 0);
  if (ok.length === 0) return { mean: null, of: 0 };
  return { mean: round(Math.exp(ok.reduce((a, x) => a + Math.log(x), 0) / ok.length), 3), of: ok.length };
}
