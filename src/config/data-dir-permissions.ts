/**
 * The SQLite files that other users can read or write: a database made by an older version (or by
 * hand, or restored from a copy) keeps its mode; Herald makes it 0600 only when it creates it
 * (open-store.ts), and SQLite gives the -wal and -shm the database's mode. The database holds payloads, custom headers and the sealed
 * endpoint secrets; the key that opens them lies beside it.
 */
import { statSync } from 'node:fs';
import type { Logger } from '../logger.ts';

export interface OpenToOthers {
  path: string;
  /** The permission bits, e.g. 0o644. */
  mode: number;
}

/** The database file at `databaseFile`, and its -wal and -shm, where their mode lets group or others in. */
export function filesOpenToOthers(databaseFile: string): OpenToOthers[] {
  const out: OpenToOthers[] = [];
  for (const path of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`]) {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      continue; // not there (no WAL yet): nothing to say
    }
    if ((mode & 0o077) !== 0) out.push({ path, mode });
  }
  return out;
}

/** One warning per database file other users can read: it holds payloads and the sealed secrets. */
export function warnFilesOpenToOthers(logger: Logger, databaseFile: string): void {
  for (const { path, mode } of filesOpenToOthers(databaseFile)) {
    const octal = mode.toString(8).padStart(3, '0');
    logger.warn(
      { path, mode: octal },
      `${path} has mode ${octal}: other users of this machine can read it (event payloads, custom headers, the sealed endpoint secrets); chmod 600 it`,
    );
  }
}
