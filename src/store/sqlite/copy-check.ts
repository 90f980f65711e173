/**
 * What a copy of a Herald SQLite database holds, read after `herald backup` wrote it and before
 * `herald restore` puts it in place: that SQLite opens it and finds its pages sound
 * (`PRAGMA integrity_check`), that it is a Herald database (schema_migrations, events, deliveries),
 * which migrations it has, and how many events and deliveries it holds. Read-only: the copy is
 * never changed, and no -wal or -shm file is made beside it (a `VACUUM INTO` copy is in
 * rollback-journal mode).
 */
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { counted } from '../../domain/counted.ts';
import { migrationFiles } from './migrate.ts';

export interface CopySummary {
  bytes: number;
  /** The migrations recorded in it, in order. */
  migrations: string[];
  /** Recorded migrations this version of Herald does not have (a newer Herald wrote it). */
  unknown: string[];
  events: number;
  deliveries: number;
  /** created_at of the newest event (epoch ms), or null: no events. */
  newestEventAt: number | null;
  /** How long the page check took (ms). */
  checkMs: number;
}

/**
 * `integrity_check` rather than `quick_check`: on top of reading every page and checking each
 * b-tree and record, it checks that each index holds exactly its table's rows, which a damaged copy
 * can get wrong without a malformed page (queries through that index then miss rows or find ghosts).
 * On a 1.83 GB copy it took 2.2-3.1 s against 1.6-1.8 s (docs/operations.md, Backups).
 */
export const PAGE_CHECK = 'integrity_check';

/**
 * Throws an Error saying what is wrong when `file` is not a sound Herald database, naming it
 * `name` (the backup a temporary copy was made from).
 */
export function inspectCopy(
  file: string,
  check: 'quick_check' | 'integrity_check' = PAGE_CHECK,
  name = file,
): CopySummary {
  const bytes = statSync(file).size;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly: true, timeout: 5_000 });
  } catch (cause) {
    throw new Error(`SQLite cannot open ${name}`, { cause });
  }
  try {
    const started = performance.now();
    let problems: string[];
    try {
      problems = (db.prepare(`PRAGMA ${check}`).all() as Record<string, string>[]).map(
        (row) => Object.values(row)[0] ?? '',
      );
    } catch (cause) {
      // "file is not a database" for anything else, "database disk image is malformed" for a
      // header whose page count the file's length contradicts.
      throw new Error(`${name} is not a sound SQLite database`, { cause });
    }
    const checkMs = performance.now() - started;
    if (problems.length !== 1 || problems[0] !== 'ok') {
      const shown = problems.slice(0, 3).join('; ');
      throw new Error(
        `${name} is damaged: PRAGMA ${check} found ${problems.length} problem(s): ${shown}${problems.length > 3 ? '; …' : ''}`,
      );
    }
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    const missing = ['schema_migrations', 'events', 'deliveries'].filter((t) => !tables.has(t));
    if (missing.length > 0) {
      throw new Error(
        `${name} is a SQLite database but not a Herald one: it has no ${missing.join(', ')} table`,
      );
    }
    const migrations = (
      db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]
    ).map((r) => r.name);
    const known = new Set(migrationFiles());
    const count = (table: string) =>
      Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    // Event ids grow with time: the primary key's last entry, not a scan of created_at.
    const newest = db.prepare('SELECT created_at FROM events ORDER BY id DESC LIMIT 1').get() as
      | { created_at: number }
      | undefined;
    return {
      bytes,
      migrations,
      unknown: migrations.filter((name) => !known.has(name)),
      events: count('events'),
      deliveries: count('deliveries'),
      newestEventAt: newest ? Number(newest.created_at) : null,
      checkMs,
    };
  } finally {
    db.close();
  }
}

/** "12.3 MB", "1.20 GB": sizes as the docs give them (powers of 1000). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return counted(bytes, 'bytes');
}
