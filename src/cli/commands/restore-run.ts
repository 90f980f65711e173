/**
 * What `herald restore` does: puts a backup in place of the SQLite database, the steps that damage
 * it when done by hand done in the order that does not. It holds the serving lock throughout, so
 * it is refused while a `herald serve` runs on the file and no serve starts meanwhile (a copy
 * written over a served file is damaged by the process still writing it). It checks the backup
 * (sound, a Herald database, no migration this version does not know) on a copy made beside the
 * database, then keeps the current database with its -wal, -shm and -journal under one new name
 * (kept, never deleted: SQLite would apply the old -wal to the copy) and renames the copy in place,
 * 0600, in steps after none of which a crash leaves no database or the old -wal beside the copy
 * (swapIn). Loaded by backup.ts only when it runs.
 */
import {
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { makeDirectory } from '../../config/make-directory.ts';
import { counted } from '../../domain/counted.ts';
import { type CopySummary, formatBytes, inspectCopy, PAGE_CHECK } from '../../store/sqlite/copy-check.ts';
import { syncPath } from '../../store/sqlite/file-sync.ts';
import {
  ASIDE_MARK,
  COMPANIONS,
  INCOMING_MARK,
  interruptedAside,
} from '../../store/sqlite/interrupted-restore.ts';
import { DatabaseInUseError, takeServingLock } from '../../store/sqlite/serving-lock.ts';
import { cliIo } from '../cli-io.ts';
import { CommandError } from '../run-command.ts';
import { type StopSignals, watchStopSignals } from '../stop-signals.ts';
import { report } from '../work-report.ts';
import { restoredSecretsLine } from './restore-key-check.ts';
import { type DatabaseFlags, type SqliteTarget, sqliteDatabaseFile } from './sqlite-database-file.ts';

export interface RestoreFlags extends DatabaseFlags {
  from: string;
}

const PG_RESTORE_HINT =
  'herald restore puts SQLite backups back only; restore PostgreSQL with its own tools (pg_restore into an empty database: docs/operations.md, Backups)';

export async function restore(flags: RestoreFlags, now = new Date()): Promise<void> {
  const { file: configured, config } = sqliteDatabaseFile(flags, PG_RESTORE_HINT);
  const from = resolve(flags.from);
  // A backup directory given for the file in it: "no backup file" there read as a wrong path.
  if (existsSync(from) && statSync(from).isDirectory()) {
    throw new CommandError(
      `${from} is a directory, not a backup file: give the file herald backup wrote in it, as --from ${join(from, 'herald-YYYY-MM-DD.db')} (nothing was changed)`,
    );
  }
  if (!existsSync(from) || !statSync(from).isFile()) {
    throw new CommandError(`there is no backup file at ${from} (nothing was changed)`);
  }
  // Its latest transactions would be left behind: only the file itself is copied.
  if (existsSync(`${from}-wal`) && statSync(`${from}-wal`).size > 0) {
    throw new CommandError(
      `${from}-wal lies beside ${from}: it is a live database's file (copied while served?), not a backup; make one with herald backup (nothing was changed)`,
    );
  }
  // The default ./herald-data is where this shell stands, not necessarily where serve runs (a
  // service manager's unit sets HERALD_DATA_DIR): a new database made there would be a restore
  // that is not one. Into a new place, then, only when the place is named.
  if (!existsSync(configured) && !config.databasePlaceGiven) {
    throw new CommandError(
      `there is no database at ${configured}, the default place (./herald-data in the current directory): name the one herald serve uses with --data-dir DIR or --database sqlite:PATH (or HERALD_DATA_DIR, HERALD_DATABASE_URL), also to restore into a new one (nothing was changed)`,
    );
  }
  // Ctrl-C or a stop while it copies or checks (seconds for a large backup): what it made goes, as
  // on any failure before the moves; once the database is being moved aside, it finishes.
  const stop = watchStopSignals(
    (signal) => `restore stopped by ${signal}: nothing was changed (${from} is not in place)`,
  );
  try {
    await restoreLocked(from, configured, now, config, stop);
  } finally {
    stop.dispose();
  }
}

async function restoreLocked(
  from: string,
  configured: string,
  now: Date,
  config: SqliteTarget['config'],
  stop: StopSignals,
): Promise<void> {
  makeDirectory(dirname(configured), 0o700);
  // A database that does not exist yet (a new machine) gets an empty file, so that the lock has
  // a file to sit beside and a serve starting meanwhile finds it held; the copy replaces it.
  const created = createIfMissing(configured);
  // Where a symbolic link leads, as serve's lock does: the files moved and the lock name one place.
  const file = realpathSync(configured);
  let lock: { release(): void };
  try {
    lock = takeServingLock(file);
  } catch (error) {
    if (created) rmSync(configured, { force: true });
    if (!(error instanceof DatabaseInUseError)) throw error;
    throw new CommandError(
      `a Herald process is serving ${file} (it holds ${file}.lock): stop it first, a restore needs the database at rest (nothing was changed)`,
    );
  }
  try {
    await restoreWhileLocked(from, file, created, now, config, stop);
  } catch (error) {
    // The empty file made for the lock, unless the copy already took its place.
    if (created && statSync(file).size === 0) rmSync(file, { force: true });
    throw error;
  } finally {
    lock.release();
  }
}

async function restoreWhileLocked(
  from: string,
  file: string,
  created: boolean,
  now: Date,
  config: SqliteTarget['config'],
  stop: StopSignals,
): Promise<void> {
  const incoming = `${file}${INCOMING_MARK}${process.pid}`;
  let summary: CopySummary;
  // A copy left by a restore killed before it was in place: none runs now (the lock is held).
  removeLeftCopies(file);
  try {
    try {
      await copyFile(from, incoming, stop);
    } catch (cause) {
      if (cause instanceof CommandError) throw cause; // stopped
      throw new CommandError(`cannot copy ${from} beside ${file} (nothing was changed)`, { cause });
    }
    keepOwner(file, incoming, created);
    try {
      summary = inspectCopy(incoming, PAGE_CHECK, from);
    } catch (cause) {
      throw new CommandError(`${from} cannot be restored (nothing was changed)`, { cause });
    }
    if (summary.unknown.length > 0) {
      throw new CommandError(
        `${from} has migrations this version of Herald does not know (${summary.unknown.join(', ')}): a newer Herald wrote it; restore it with that version (nothing was changed)`,
      );
    }
    const secrets = restoredSecretsLine(incoming, config);
    await stop.checkpoint(); // the last moment a stop changes nothing
    const aside = swapIn(file, incoming, created, now);
    await sayRestored(from, file, summary, aside, secrets);
  } finally {
    // The copy of a WAL-mode file (cp, sqlite3's .backup) gets an empty -wal and a -shm from the
    // read-only connections that check it: named for the copy, they would stay beside the database.
    for (const suffix of ['', ...COMPANIONS]) rmSync(`${incoming}${suffix}`, { force: true });
  }
}

/** Copies `from` to a new 0600 file `to` (the umask and the backup's own mode do not count), synced. */
async function copyFile(from: string, to: string, stop: StopSignals): Promise<void> {
  const input = openSync(from, 'r');
  let output: number;
  try {
    output = openSync(to, 'wx', 0o600);
  } catch (error) {
    closeSync(input);
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(input, buffer); n > 0; n = readSync(input, buffer)) {
      for (let done = 0; done < n; ) done += writeSync(output, buffer, done, n - done);
      await stop.checkpoint();
    }
  } finally {
    closeSync(input);
    closeSync(output);
  }
  syncPath(to);
}

/**
 * As root (a restore run with sudo), the copy gets the owner of the file it replaces: root's 0600
 * file would keep the Herald user out of its own database (file-access.ts says so at start).
 */
function keepOwner(file: string, copy: string, created: boolean): void {
  if (created || process.getuid?.() !== 0) return;
  const { uid, gid } = statSync(file);
  chownSync(copy, uid, gid);
}

/**
 * Puts `incoming` in place of `file`, the database that was there kept under
 * `<file>.before-restore-<time>[-wal…]`, with no moment at which a crash (a kill, a power cut)
 * leaves no `file`, or the old -wal beside the copy: its files are linked to their aside names
 * (link(2): `file` stays), the directory synced; the old companions' own names removed, synced
 * (a rename made durable before them would put the old log beside the copy); then the copy renamed
 * over `file` (rename(2) replaces it at once) and synced. Until that rename, `file` is also its
 * aside name, which a start refuses (interrupted-restore.ts) and a restore run again takes up
 * here: it keeps that aside name and links what is not linked yet. Returns the aside files.
 */
function swapIn(file: string, incoming: string, created: boolean, now: Date): string[] {
  const dir = dirname(file);
  const asideBase =
    interruptedAside(file) ?? `${file}${ASIDE_MARK}${now.toISOString().replace(/[:.]/g, '-')}`;
  // The empty file made above to hold the lock is not worth keeping: the rename replaces it.
  const suffixes = (created ? COMPANIONS : ['', ...COMPANIONS]).filter((s) => existsSync(`${file}${s}`));
  // All or none: a database kept without its -wal would have its last transactions elsewhere.
  const taken = suffixes.find(
    (s) => existsSync(`${asideBase}${s}`) && !sameFile(`${file}${s}`, `${asideBase}${s}`),
  );
  if (taken !== undefined)
    throw new CommandError(`${asideBase}${taken} already exists (nothing was changed)`);
  const linked: string[] = [];
  try {
    for (const s of suffixes.filter((s) => !existsSync(`${asideBase}${s}`))) {
      linkSync(`${file}${s}`, `${asideBase}${s}`);
      linked.push(`${asideBase}${s}`);
    }
  } catch (cause) {
    // A file system without hard links (FAT, some network ones), or none left: as it was.
    for (const path of linked) rmSync(path, { force: true });
    throw new CommandError(
      `cannot keep ${file} as ${asideBase} with a hard link, which a restore needs so that ${file} is never missing (nothing was changed; by hand: docs/operations.md, Backups)`,
      { cause },
    );
  }
  syncPath(dir);
  for (const s of COMPANIONS) if (existsSync(`${file}${s}`)) unlinkSync(`${file}${s}`);
  syncPath(dir);
  renameSync(incoming, file);
  syncPath(dir);
  return ['', ...COMPANIONS].map((s) => `${asideBase}${s}`).filter((path) => existsSync(path));
}

function sameFile(a: string, b: string): boolean {
  const [x, y] = [statSync(a), statSync(b)];
  return x.ino === y.ino && x.dev === y.dev;
}

/** Deletes `<file>.restoring-<pid>` copies (and their -wal, -shm) of restores that were killed. */
function removeLeftCopies(file: string): void {
  const prefix = `${basename(file)}${INCOMING_MARK}`;
  for (const name of readdirSync(dirname(file)))
    if (name.startsWith(prefix)) rmSync(join(dirname(file), name), { force: true });
}

/** What was restored, where the old database went, and what to do next (work-report.ts). */
async function sayRestored(
  from: string,
  file: string,
  s: CopySummary,
  aside: string[],
  secrets: string | null,
): Promise<void> {
  const newest =
    s.newestEventAt === null ? 'no events' : `newest event ${new Date(s.newestEventAt).toISOString()}`;
  const lines = [
    `restored ${from} as ${file} (mode 0600): ${formatBytes(s.bytes)}, ${counted(s.events, 'events')}, ${counted(s.deliveries, 'deliveries')} (${newest}), schema ${s.migrations.at(-1) ?? 'empty'}`,
  ];
  if (aside.length > 0) {
    lines.push(
      // The restored database's own -wal, once it is served and killed, is applied to whatever
      // file is moved back under its name: the old database's pages are overwritten with it.
      `the database that was there is kept, not deleted: ${aside.join(', ')} (the files of one database: to go back to it, stop herald serve, move ${file}, ${file}-wal and ${file}-shm away, then these back under those names, together; or delete them once the restore is known good)`,
    );
  }
  // A key that does not open them is a warning, on stderr: the restore itself is sound.
  if (secrets?.startsWith('warning:')) cliIo().stderr.write(`herald: ${secrets}\n`);
  else if (secrets) lines.push(secrets);
  lines.push(
    `next: start herald serve on it with the encryption key it ran with when the backup was taken; if the key was rotated since, set HERALD_ENCRYPTION_KEY to the new key and HERALD_ENCRYPTION_KEY_PREVIOUS to the old one (docs/operations.md, Rotating keys and tokens)`,
    'then redo what ended access since the backup: API keys deleted, portal links revoked, signing secrets rotated (docs/operations.md, Backups); events accepted since the backup are not in it',
  );
  await report(lines, "the restore's report");
}

function createIfMissing(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx', 0o600));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
