/**
 * The files of the data directory that other users can read or write: a database made by an older
 * version (or by hand, or restored from a copy) keeps its mode; Herald makes it 0600 only when it
 * creates it (open-store.ts), and SQLite gives the -wal and -shm the database's mode. The database
 * holds payloads, custom headers and the sealed endpoint secrets. The encryption-key and
 * admin-token files Herald writes 0600, but a copy put back from a backup takes the umask of
 * whoever put it there: the key opens the sealed secrets, the token the whole API. On PostgreSQL
 * the key file is no key of the database (only the embedded SQLite default reads it): one there is
 * a SQLite install's, and opens that database's secrets and its backups', which the warning says.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { ADMIN_TOKEN_FILE } from './admin-token.ts';
import { ENCRYPTION_KEY_FILE } from './encryption-key-file.ts';

export interface OpenToOthers {
  path: string;
  /** The permission bits, e.g. 0o644. */
  mode: number;
  /** What a reader of it gets, for the warning. */
  holds: string;
}

const DATABASE_HOLDS = 'event payloads, custom headers, the sealed endpoint secrets';
const KEY_HOLDS = 'it opens the endpoint secrets sealed in the database';
const SQLITE_KEY_HOLDS =
  'it is the key of an embedded SQLite install, which this PostgreSQL database never reads: it opens the endpoint secrets sealed in that SQLite database and in its backups';

/**
 * The database file at `databaseFile` (null: not SQLite), its -wal and -shm, and the key and
 * admin-token files of `dataDir`, where they exist and their mode lets group or others in.
 */
export function filesOpenToOthers(databaseFile: string | null, dataDir: string): OpenToOthers[] {
  const database: [string, string][] =
    databaseFile === null
      ? []
      : [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`].map((path) => [path, DATABASE_HOLDS]);
  const files: [string, string][] = [
    ...database,
    [join(dataDir, ENCRYPTION_KEY_FILE), databaseFile === null ? SQLITE_KEY_HOLDS : KEY_HOLDS],
    [join(dataDir, ADMIN_TOKEN_FILE), 'it is the admin token, which can do everything through the API'],
  ];
  const out: OpenToOthers[] = [];
  for (const [path, holds] of files) {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      continue; // not there (no WAL yet, a key or token given in the environment): nothing to say
    }
    if ((mode & 0o077) !== 0) out.push({ path, mode, holds });
  }
  return out;
}

/** One warning per file other users can read (see filesOpenToOthers). */
export function warnFilesOpenToOthers(logger: Logger, databaseFile: string | null, dataDir: string): void {
  for (const { path, mode, holds } of filesOpenToOthers(databaseFile, dataDir)) {
    const octal = mode.toString(8).padStart(3, '0');
    logger.warn(
      { path, mode: octal },
      `${path} has mode ${octal}: other users of this machine can read it (${holds}); chmod 600 it`,
    );
  }
}
