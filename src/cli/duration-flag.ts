/**
 * A duration flag in whole seconds: `3600` (seconds, as the API takes it) or a number with a unit,
 * `90s`, `30m`, `12h`, `7d`. Pure; the flag's bounds are the API's, checked here so that `8d` is
 * refused in days' words rather than as the API's `must be at most 604800`.
 */
import { CommandError } from './run-command.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `value` in seconds, from 1 to `max` (`maxWords`: the same for people, `7 days`), or a CommandError naming `flag`. */
export function durationSeconds(flag: string, value: string, max: number, maxWords: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (!match) {
    throw new CommandError(
      `${flag}: must be a whole number of seconds (3600) or of minutes, hours or days (90m, 12h, 7d), got ${value}`,
    );
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
  const inSeconds = match[2] && match[2] !== 's' ? ` (${seconds} seconds)` : '';
  if (seconds < 1) throw new CommandError(`${flag}: must be at least 1 second, got ${value}`);
  if (seconds > max) {
    throw new CommandError(`${flag}: must be at most ${max} seconds (${maxWords}), got ${value}${inSeconds}`);
  }
  return seconds;
}
