/** Display formatting shared by the screens (locale-aware, compact). */

import { parseJsonExact } from '../../domain/json-text.ts';

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  // The viewer's zone, named: the same pages show times in UTC (a body's timestamp, a Date header).
  timeZoneName: 'short',
});

/** "Jan 5, 2030, 14:03:07 GMT+1" in the viewer's locale and zone; '—' for nothing. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** Units of formatRelative, and the rounded value from which the next one says it ("60 s" is "1 min"). */
const RELATIVE_UNITS: [ms: number, name: string, below: number][] = [
  [1000, 's', 60],
  [60_000, 'min', 60],
  [3_600_000, 'h', 24],
  [86_400_000, 'd', Number.POSITIVE_INFINITY],
];

/** "5 min ago", "in 2 h" — for recency at a glance (the exact time goes in a title attribute). */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  if (abs < 5_000) return 'just now';
  // The largest unit whose rounded value is a whole one: 59.6 s is "1 min", 59.98 min "1 h".
  let value = 0;
  let unit = 's';
  for (const [unitMs, name, below] of RELATIVE_UNITS) {
    value = Math.round(abs / unitMs);
    unit = name;
    if (value < below) break;
  }
  return ms < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** "1,234"; "10,000+" for a count that stopped at `atMost` (the most the server counts): at least that many. */
export function formatCount(count: number, atMost?: number): string {
  const text = count.toLocaleString('en-US');
  return atMost !== undefined && count >= atMost ? `${text}+` : text;
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/**
 * A count on a chart's axis, which has room for about five characters: "5,000" as formatCount, and
 * from 10,000 on "20K", "2.5M".
 */
export function formatAxisCount(count: number): string {
  return count < 10_000 ? formatCount(count) : compact.format(count);
}

/** "850 ms", "2.40 s", "12.3 s": what rounds to 1000 ms is "1.00 s", and to 10.00 s "10.0 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${seconds.toFixed(seconds < 9.995 ? 2 : 1)} s`;
}

/**
 * "97.5 %"; '—' when nothing was attempted. "100 %" and "0 %" only when all or none succeeded: a
 * rate one decimal rounds to either says ">99.9 %" or "<0.1 %" (1 failure in 2,500 is not 100.0 %).
 */
export function formatRate(succeeded: number, total: number): string {
  if (total === 0) return '—';
  if (succeeded === total) return '100 %';
  if (succeeded === 0) return '0 %';
  const text = ((succeeded / total) * 100).toFixed(1);
  if (text === '100.0') return '>99.9 %';
  if (text === '0.0') return '<0.1 %';
  return `${text} %`;
}

/** Seconds as "5 s", "5 min", "2 h" for retry schedules. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${+seconds.toFixed(2)} s`;
  if (seconds < 3600) return `${+(seconds / 60).toFixed(1)} min`;
  return `${+(seconds / 3600).toFixed(1)} h`;
}

/** Pretty JSON when the text is JSON, the text itself otherwise. */
export function prettyBody(body: string | null | undefined): string {
  if (body === null || body === undefined || body === '') return '';
  try {
    return JSON.stringify(parseJsonExact(body), null, 2);
  } catch {
    return body;
  }
}

/** A `datetime-local` input value for a Date (local time, minutes). */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO string of a `datetime-local` input value (read as local time); '' when empty or invalid. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/**
 * ISO string of the end of the minute a `datetime-local` value names (its last millisecond), for a
 * field that ends a range: the API's `until` is inclusive, and "To 10:42" means through 10:42:59.
 * '' when empty or invalid.
 */
export function fromLocalInputEnd(value: string): string {
  const start = fromLocalInput(value);
  // A value with seconds (a field with a finer step) ends where it says.
  if (!start || !/T\d\d:\d\d$/.test(value)) return start;
  return new Date(new Date(start).getTime() + 59_999).toISOString();
}

/**
 * A URL as a short label: host and path without the scheme ("hooks.example.com/crm/contacts"),
 * cut in the middle to at most `max` characters, so that endpoints without a name tell apart.
 */
export function shortUrl(url: string, max = 40): string {
  let text = url;
  try {
    const parsed = new URL(url);
    text = parsed.host + (parsed.pathname === '/' ? '' : parsed.pathname);
  } catch {
    // Not a URL: shown as it is.
  }
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/**
 * Why an endpoint is disabled, finishing "Disabled …": `disabledReason` is `consecutive_failures`,
 * `gone` (a 410) or `manual` (docs/api.md, operational event endpoint.disabled).
 */
export function disabledReasonText(reason: string | null | undefined, consecutiveFailures: number): string {
  if (!reason) return '';
  if (reason === 'consecutive_failures') {
    return consecutiveFailures > 0
      ? `after ${consecutiveFailures} failed attempts in a row`
      : 'after failed attempts in a row';
  }
  if (reason === 'gone') return 'because the receiver answered 410 Gone';
  if (reason === 'manual') return 'by hand';
  return `(${reason})`;
}

/** An attempt's error kind (src/domain/types.ts ErrorKind) in words. */
const ERROR_KINDS: Record<string, string> = {
  timeout: 'Timed out',
  connect: 'Could not connect',
  dns: 'Host name not found',
  tls: 'TLS (HTTPS) failed',
  blocked: 'Address not allowed',
  http_status: 'Not a 2xx answer',
  reset: 'Connection reset',
  protocol: 'Not a valid HTTP answer',
  internal: 'Herald could not send it',
};

export function errorKindLabel(kind: string): string {
  return Object.hasOwn(ERROR_KINDS, kind) ? (ERROR_KINDS[kind] ?? kind) : kind;
}

/** What went wrong with an attempt, in one sentence. */
export function attemptErrorText(error: { kind: string; message: string }, status?: number | null): string {
  if (error.kind === 'http_status') {
    // A redirect's message goes on after its status (Herald does not follow it, and where it points).
    if (status && error.message.startsWith(`HTTP ${status}: `)) {
      return `The receiver answered ${error.message}. Only a 2xx status counts as delivered.`;
    }
    return `The receiver answered ${status ? `HTTP ${status}` : error.message}: only a 2xx status counts as delivered.`;
  }
  return `${errorKindLabel(error.kind)}: ${error.message}`;
}

/** Headers as "Name: value" lines; a header sent more than once gets a line per value. */
export function headersText(headers: Record<string, string> | null | undefined): string {
  if (!headers) return '';
  // A header sent more than once (two Set-Cookie) is stored as one value with a line per sending.
  return Object.entries(headers)
    .flatMap(([name, value]) => value.split('\n').map((line) => `${name}: ${line}`))
    .join('\n');
}
