/**
 * The refusal of a start (or `herald migrate`) on a database that has migrations this version does
 * not know: a newer Herald migrated it, and this one would run on a schema it was not written for
 * (say, read values a newer one stores differently) without noticing (docs/deployment.md "Upgrades").
 */
import { ConfigError } from './config-error.ts';
import type { Config } from './config-types.ts';
import { redactDatabaseUrl } from './redact-database-url.ts';

export function newerSchemaError(unknown: string[], config: Pick<Config, 'databaseUrl'>): ConfigError {
  return new ConfigError(
    'HERALD_ALLOW_NEWER_SCHEMA',
    `is unset, and the database ${redactDatabaseUrl(config.databaseUrl)} has ${unknown.length} migration(s) this version of Herald does not know (${unknown.join(', ')}): a newer version migrated it. Run that version (downgrades are not supported; to go back, restore a backup taken before the upgrade), or set HERALD_ALLOW_NEWER_SCHEMA=true to start this one anyway (an old process during a rolling upgrade)`,
  );
}
