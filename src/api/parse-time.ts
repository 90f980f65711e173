/**
 * Times in query strings and bodies (`since`, `until`: ISO-8601 as RFC 3339 writes it, or epoch
 * milliseconds) and the charts' bucket sizes; 400 naming the field otherwise.
 */
import { invalid, unprocessable, ValidationError } from './errors.ts';

/** `T` and `Z` in either case: RFC 3339 (§5.6, its note) allows `t` and `z`, and Date.parse reads them. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
/** The range a JavaScript Date can hold. */
const MAX_TIME_MS = 8.64e15;

/**
 * ISO-8601 or epoch milliseconds → epoch ms; undefined when not given; 400 naming the field
 * otherwise, an empty text too (the schemas refuse it first): it is a client's unset variable, not
 * an absent bound.
 */
export function parseTime(field: string, value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw invalid(field, 'must not be empty');
  let ms = Number.NaN;
  if (typeof value === 'number' || /^\d{1,16}$/.test(value)) ms = Number(value);
  // Date.parse alone accepts "March 7" and friends; only ISO-8601 is promised.
  else if (ISO_8601.test(value)) {
    const impossible = impossibleDate(value) ?? impossibleHour(value) ?? missingOffset(value);
    if (impossible) throw invalid(field, impossible);
    ms = Date.parse(value);
  } else if (field.startsWith('querystring.')) {
    const unencoded = unencodedPlus(value);
    if (unencoded) throw invalid(field, unencoded);
  }
  if (!Number.isInteger(ms) || Math.abs(ms) > MAX_TIME_MS) {
    throw invalid(field, 'must be an ISO-8601 time or epoch milliseconds');
  }
  return ms;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Why the date of an ISO-8601 text (`2026-02-30…`) is not on the calendar; null when it is. Date.parse
 * rolls days 29-31 past the end of their month over into the next (`2026-02-30` → March 2), so a
 * range would silently start elsewhere than the client meant.
 */
function impossibleDate(value: string): string | null {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  if (month < 1 || month > 12) return `has no month ${value.slice(5, 7)} (months are 01 to 12)`;
  // Day 0 of the next month is the last day of this one (UTC: no time zone moves it; setUTCFullYear,
  // since Date.UTC reads years 0-99 as 1900-1999).
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0);
  const days = lastDay.getUTCDate();
  if (day < 1 || day > days) {
    return `is not a date: ${MONTHS[month - 1]} ${year} has ${days} days (${value.slice(0, 10)})`;
  }
  return null;
}

/**
 * Why the hour of an ISO-8601 text is not one RFC 3339 has (00 to 23); null when it is. ISO-8601
 * lets `T24:00` end a day and Date.parse reads it as the next day's midnight, but no other hour
 * past 23 (`T24:00:01`, `T25:00` are NaN): refused with the others, in words, not as the next day.
 */
function impossibleHour(value: string): string | null {
  if (value.length <= 10) return null; // a date alone
  const hour = value.slice(11, 13);
  return Number(hour) > 23
    ? `has no hour ${hour} (hours are 00 to 23, as in RFC 3339: midnight is T00:00 of the next day)`
    : null;
}

/**
 * Why a time of day without an offset (`2026-01-01T10:00`) is refused; null for one with `Z` or
 * `±hh:mm`, or a date alone (its midnight UTC). Date.parse reads such a time in the server's own
 * time zone, which the caller does not know and which differs between the servers of one install.
 */
function missingOffset(value: string): string | null {
  return value.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)
    ? `has no UTC offset: end it with Z for UTC or with ±hh:mm (${value}Z), as RFC 3339 asks`
    : null;
}

/**
 * Why a query string's time with a space where its offset's sign goes (`2026-01-01T10:00:00 01:00`)
 * is refused: a `+` left unencoded in a URL (`?since=2026-01-01T10:00:00+01:00`, as curl sends it)
 * reads as a space in a query string. Said so, with the encoded form, rather than "must be an
 * ISO-8601 time", which the client believes it sent; null for any other text.
 */
function unencodedPlus(value: string): string | null {
  const signed = value.replace(/ (\d{2}:?\d{2})$/, '+$1');
  return signed !== value && ISO_8601.test(signed)
    ? `has a space before its UTC offset (${value}): a + left unencoded in a URL's query string reads as a space; write it %2B (${value.replace(' ', '%2B')})`
    : null;
}

/**
 * `since` and `until` of a listing; 422 naming `since` when it is after `until` (as the charts
 * answer), rather than an empty page.
 */
export function parseTimeRange(q: { since?: string; until?: string }): { since?: number; until?: number } {
  const since = parseTime('querystring.since', q.since);
  const until = parseTime('querystring.until', q.until);
  if (since !== undefined && until !== undefined && since > until) {
    throw unprocessable('querystring.since', 'must not be after until');
  }
  return { since, until };
}

/** Stats bucket sizes (`?bucket`), in their order; the schema's enum lists the same. */
export const STATS_BUCKET_SIZES = ['1m', '5m', '15m', '1h', '6h', '1d'] as const;

const BUCKETS: Record<string, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
};

export function parseBucket(value: string | undefined): number {
  if (value === undefined) return BUCKETS['1h']!;
  // Own keys only: `toString` or `valueOf` are not bucket sizes.
  const ms = Object.hasOwn(BUCKETS, value) ? BUCKETS[value] : undefined;
  if (!ms) {
    throw new ValidationError('querystring.bucket', `must be one of ${STATS_BUCKET_SIZES.join(', ')}`, {
      details: { allowedValues: [...STATS_BUCKET_SIZES] },
    });
  }
  return ms;
}
