/** A time as "5 min ago" / "in 2 h", its exact time in the title; `none` when there is no time. */
import type { ComponentChildren } from 'preact';
import { formatRelative, formatTime } from '../format.ts';

export function RelativeTime({ at, none }: { at: string | null | undefined; none?: ComponentChildren }) {
  if (!at) return <span class="muted">{none ?? '—'}</span>;
  return (
    <time dateTime={at} title={formatTime(at)}>
      {formatRelative(at)}
    </time>
  );
}
