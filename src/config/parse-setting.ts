import { ConfigError } from './config-error.ts';

/** A raw setting and where it came from (a flag or an environment variable), for error messages. */
export interface RawSetting {
  value: string;
  /** `--port` or `HERALD_PORT`. */
  source: string;
}

/**
 * Flags win over environment variables, which win over defaults (DESIGN "Running"). Empty strings
 * count as unset, so `HERALD_PORT= herald serve` behaves like no variable at all.
 */
export function pickSetting(
  flag: { name: string; value: string | undefined },
  env: { name: string; value: string | undefined },
): RawSetting | null {
  if (flag.value !== undefined && flag.value.trim() !== '')
    return { value: flag.value.trim(), source: flag.name };
  if (env.value !== undefined && env.value.trim() !== '')
    return { value: env.value.trim(), source: env.name };
  return null;
}

/** A whole number in [min, max]. */
export function parseInteger(setting: RawSetting, min: number, max: number): number {
  if (!/^-?\d+$/.test(setting.value)) {
    throw new ConfigError(setting.source, `expected a whole number, got "${setting.value}"`);
  }
  const n = Number(setting.value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(setting.source, `must be between ${min} and ${max}, got ${setting.value}`);
  }
  return n;
}

/** A finite number in [min, max] (fractions allowed). */
export function parseNumber(setting: RawSetting, min: number, max: number): number {
  const n = Number(setting.value);
  if (setting.value === '' || !Number.isFinite(n)) {
    throw new ConfigError(setting.source, `expected a number, got "${setting.value}"`);
  }
  if (n < min || n > max) {
    throw new ConfigError(setting.source, `must be between ${min} and ${max}, got ${setting.value}`);
  }
  return n;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(setting: RawSetting, choices: readonly T[]): T {
  const found = choices.find((c) => c === setting.value.toLowerCase());
  if (found === undefined) {
    throw new ConfigError(setting.source, `must be one of ${choices.join(', ')}, got "${setting.value}"`);
  }
  return found;
}

/**
 * A comma-separated list; blanks around items are dropped. An empty item (`5,,10`, or a comma at
 * either end) is refused naming its place: it is more often a value left out than a stray comma,
 * and dropping it silently changed a retry schedule's length. The value is quoted in the message
 * unless `secret` (HERALD_ENCRYPTION_KEY_PREVIOUS: the message goes to stderr and its logs, and
 * the place alone says which item).
 */
export function parseList(setting: RawSetting, options: { secret?: boolean } = {}): string[] {
  const items = setting.value.split(',').map((item) => item.trim());
  const empty = items.indexOf('');
  if (empty !== -1) {
    const got = options.secret ? '' : `, got "${setting.value}"`;
    throw new ConfigError(
      setting.source,
      `item ${empty + 1} of ${items.length} is empty (two commas in a row, or one at either end)${got}`,
    );
  }
  return items;
}

/** `true`/`false` (also 1/0, yes/no, on/off). */
export function parseBoolean(setting: RawSetting): boolean {
  const value = setting.value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(
    setting.source,
    `expected true or false (or 1/0, yes/no, on/off), got "${setting.value}"`,
  );
}
