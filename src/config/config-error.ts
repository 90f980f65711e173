/**
 * A configuration value is missing or invalid. The message names the flag or environment variable
 * it came from, so an operator knows exactly what to fix.
 */
export class ConfigError extends Error {
  readonly code = 'HERALD_ERR_CONFIG';
  /** The flag (`--port`) or environment variable (`HERALD_PORT`) the bad value came from. */
  readonly setting: string;
  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(`${setting}: ${message}`, options);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}
