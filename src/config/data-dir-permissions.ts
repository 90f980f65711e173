/**
 * The SQLite files that other users can read or write: a database made by an older version (or by
 * hand, or restored from a copy) keeps its mode; Herald makes it 0600 only when it creates it
 * (open-store.ts), and SQLite gives the -wal and -shm the database's mode. The database holds payloads, custom headers and the sealed
 * endpoint secrets; the key that opens them lies beside it.
 */
import { statSync } from 'node:fs';

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
