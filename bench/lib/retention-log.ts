/**
 * What the retention scenario reads in Herald's log (pino JSON lines, `time` in epoch ms): the line
 * a purge round logs at its end, with its counts and duration, and the lines of a round that failed.
 */

export interface RoundEnd {
  /** When Herald logged the end (its clock: epoch ms). */
  at: number;
  /** How long the round ran. */
  ms: number;
  events: number;
  deliveries: number;
  attempts: number;
  batches: number;
}

/** The first round's end line (`retention: purged …`), or null while none was logged. */
export function retentionRoundEnd(lines: readonly Record<string, unknown>[]): RoundEnd | null {
  const line = lines.find((l) => String(l.msg ?? '').startsWith('retention: purged '));
  if (!line) return null;
  const n = (field: string) => Number(line[field] ?? Number.NaN);
  return {
    at: n('time'),
    ms: n('ms'),
    events: n('events'),
    deliveries: n('deliveries'),
    attempts: n('attempts'),
    batches: n('batches'),
  };
}

/** The message of a failed round (a batch failed, the database unreachable), or null. */
export function retentionFailure(lines: readonly Record<string, unknown>[]): string | null {
  const line = lines.find((l) => {
    const msg = String(l.msg ?? '');
    return msg.startsWith('retention: ') && Number(l.level) >= 40;
  });
  return line ? JSON.stringify(line).slice(0, 2000) : null;
}
