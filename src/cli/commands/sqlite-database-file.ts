/**
 * The SQLite file that `herald backup`, `herald restore` and `herald copy-to-postgres` work on: the
 * one `herald serve` uses with the same flags and environment (--database, HERALD_DATABASE_URL, else
 * DATA_DIR/herald.db).
 */
import { resolve } from 'node:path';
import { loadConfig } from '../../config/load-config.ts';
import { redactDatabaseUrl } from '../../config/redact-database-url.ts';
import { cliIo } from '../cli-io.ts';
import { CommandError } from '../run-command.ts';

export interface DatabaseFlags {
  database?: string;
  dataDir?: string;
}

export interface SqliteTarget {
  /** The database file, absolute. */
  file: string;
  config: ReturnType<typeof loadConfig>;
}

/**
 * Throws a CommandError for a PostgreSQL URL (`onPostgres` says what to use instead) or an
 * in-memory database. `flag`: the command's name for `flags.database` in its errors.
 */
export function sqliteDatabaseFile(
  flags: DatabaseFlags,
  onPostgres: string,
  flag = '--database',
): SqliteTarget {
  const config = loadConfig({
    flags: {
      ...(flags.database ? { database: flags.database } : {}),
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    },
    resolveAdminToken: false,
    env: cliIo().env,
  });
  const url = config.databaseUrl;
  const named = flags.database ? flag : 'HERALD_DATABASE_URL';
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new CommandError(`${named} is a PostgreSQL database (${redactDatabaseUrl(url)}): ${onPostgres}`);
  }
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:' || url === 'sqlite:') {
    throw new CommandError(
      `${named}: must be a SQLite database file (sqlite:PATH), got ${redactDatabaseUrl(url)}`,
    );
  }
  return { file: resolve(url.slice('sqlite:'.length)), config };
}
