/** When a failed delivery is tried again (DESIGN "Delivery semantics"). Pure. */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface NextDelayInput {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attemptNumber: number;
  /** Delays in seconds after the first try: entry i is the wait before attempt i + 2. */
  schedule: readonly number[];
  /** ± share of each delay drawn at random (0.2 = ±20 %). */
  jitter: number;
  random: () => number;
  /** From a 429/503 `Retry-After`; honoured within [schedule step, 24 h]. */
  retryAfterMs?: number | null;
}

/** Milliseconds until the next attempt, or null when the schedule is exhausted. */
export function nextAttemptDelayMs(input: NextDelayInput): number | null {
  const step = input.schedule[input.attemptNumber - 1];
  if (step === undefined) return null;
  const base = step * 1000;
  const jittered = base * (1 + input.jitter * (2 * input.random() - 1));
  if (input.retryAfterMs != null && input.retryAfterMs > jittered)
    return Math.min(input.retryAfterMs, DAY_MS);
  return Math.max(0, Math.round(jittered));
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP-date; null when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The schedule in force: the endpoint's, else the project's, else the installation default. */
export function resolveSchedule(
  endpointSchedule: readonly number[] | null | undefined,
  projectSchedule: readonly number[] | null | undefined,
  defaultSchedule: readonly number[],
): readonly number[] {
  return endpointSchedule ?? projectSchedule ?? defaultSchedule;
}
