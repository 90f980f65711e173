/** Coloured status pills; the colour is never the only signal (the word is always there). */
import type { ComponentChildren } from 'preact';
import { errorKindLabel } from '../format.ts';

const TONE: Record<string, string> = {
  active: 'ok',
  succeeded: 'ok',
  disabled: 'bad',
  failed: 'bad',
  pending: 'wait',
  parked: 'muted',
  deprecated: 'muted',
  dev: 'info',
  test: 'info',
};

export function StatusBadge({ status, label }: { status: string; label?: ComponentChildren }) {
  return <span class={`badge badge-${TONE[status] ?? 'muted'}`}>{label ?? status}</span>;
}

/** The HTTP status code of an attempt, or its error kind when there was no response. */
export function OutcomeBadge({
  outcome,
  status,
  errorKind,
}: {
  outcome: 'succeeded' | 'failed';
  status: number | null | undefined;
  errorKind: string | null | undefined;
}) {
  const label = status ? String(status) : errorKind ? errorKindLabel(errorKind) : outcome;
  return <StatusBadge status={outcome} label={label} />;
}
