/** Display formatting shared by the screens (locale-aware, compact). */

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** "Jan 5, 2030, 14:03:07" in the viewer's locale; '—' for nothing. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** "5 min ago", "in 2 h" — for recency at a glance (the exact time goes in a title attribute). */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  const [value, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  if (abs < 5_000) return 'just now';
  return ms < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** "850 ms", "2.4 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** "97.5 %"; '—' when nothing was attempted. */
export function formatRate(succeeded: number, total: number): string {
  if (total === 0) return '—';
  const rate = (succeeded / total) * 100;
  return `${rate === 100 || rate === 0 ? rate.toFixed(0) : rate.toFixed(1)} %`;
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
    return JSON.stringify(JSON.parse(body), null, 2);
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
