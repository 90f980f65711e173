/** When a failed delivery is tried again (DESIGN "Delivery semantics"). Pure. */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface NextDelayInput {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attemptNumber: number;
  /** Delays in seconds, each from the attempt before: entry i is the wait before attempt i + 2. */
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
  const base = Math.max(0, step) * 1000;
  // jitter outside [0, 1] would allow negative delays; random() is [0, 1) by contract
  const jitter = Math.min(1, Math.max(0, input.jitter));
  const jittered = Math.max(0, Math.round(base * (1 + jitter * (2 * input.random() - 1))));
  const retryAfter = input.retryAfterMs;
  // A receiver may slow us down (up to a day) but never speed us up past the schedule.
  if (retryAfter != null && !Number.isNaN(retryAfter) && retryAfter > jittered)
    return Math.max(jittered, Math.min(Math.round(retryAfter), DAY_MS));
  return jittered;
}

/** Delta-seconds, or a list of them joined by a proxy (`120, 120`), the first one captured. */
const DELTA_SECONDS_LIST = /^(\d+)(?:\s*,\s*\d+)*$/;

/** A zone in a date's text: GMT (what HTTP sends), UTC, or a numeric offset. */
const NAMES_ZONE = /\b(GMT|UTC|UT|Z)\b|[+-]\d{4}\b/i;

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP-date; null when absent or
 * unparsable. A header sent more than once (an app and a proxy in front of it) comes as its values
 * joined with `\n` (the attempt's response headers): the first is read, as a redirect's Location is.
 * A proxy may join them on one line instead, as a list (`120, 120`: RFC 9110 5.3): delta-seconds
 * alone, the first is read; until 2026-12-08 such a line was read as none. An HTTP-date holds a
 * comma too (`Wed, 21 Oct …`), so only a list of numbers is cut.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.split('\n')[0]!.trim();
  const first = DELTA_SECONDS_LIST.exec(trimmed)?.[1];
  if (first !== undefined) return Number(first) * 1000;
  // Only an HTTP-date (it names a month: "Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would
  // also read "1.5" or "-1" as some date.
  if (!/\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i.test(trimmed)) return null;
  // An HTTP-date is GMT (RFC 9110 5.6.7); asctime's form names no zone, and Date.parse reads a text
  // without one in the server's time zone (TZ=America/New_York: a Retry-After 10 s ahead read as 5 h).
  const at = Date.parse(NAMES_ZONE.test(trimmed) ? trimmed : `${trimmed} GMT`);
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
