/**
 * What `herald backup` does: a consistent copy of the SQLite database, taken while `herald serve`
 * runs, with nothing but node:sqlite. `VACUUM INTO` writes the copy in one read transaction: in WAL
 * mode a reader does not block Herald's writes, and the copy is synced as it grows so that its
 * writing out does not hold up theirs (vacuum-into.ts; the cost to the running server is measured
 * in docs/operations.md, Backups). Unlike the backup API (`.backup`), which starts again whenever
 * another connection writes and under steady traffic never finishes.
 *
 * The copy is written under a temporary name beside the target, created 0600 before SQLite writes
 * into it (whatever the umask: it holds payloads and custom headers), synced, checked, and only
 * then linked to the target's name, which must not exist: a backup cut short never has the name
 * of a whole one, and an existing file is never replaced. Loaded by backup.ts only when it runs.
 */
import { closeSync, existsSync, linkSync, lstatSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ENCRYPTION_KEY_FILE } from '../../config/encryption-key-file.ts';
import { counted } from '../../domain/counted.ts';
import { type CopySummary, formatBytes, inspectCopy, PAGE_CHECK } from '../../store/sqlite/copy-check.ts';
import { syncPath } from '../../store/sqlite/file-sync.ts';
import { refuseInterruptedRestore } from '../../store/sqlite/interrupted-restore.ts';
import { explainFullFileSystem, type FileSystemSpace } from '../../store/sqlite/open-database.ts';
import { vacuumInto } from '../../store/sqlite/vacuum-into.ts';
import { cliIo } from '../cli-io.ts';
import { CommandError } from '../run-command.ts';
import { signalsRead } from '../stop-signals.ts';
import { report } from '../work-report.ts';
import { type DatabaseFlags, sqliteDatabaseFile } from './sqlite-database-file.ts';

export interface BackupFlags extends DatabaseFlags {
  to: string;
}

export const PG_DUMP_HINT =
  'herald backup copies SQLite databases only; back up PostgreSQL with its own tools (pg_dump, or base backups with WAL archiving: docs/operations.md, Backups)';

/**
 * The copy's failure. Where the target's file system is full (less than 1 MiB free), it says so:
 * SQLite's own word for a copy that could not grow is "disk I/O error".
 */
export function copyFailed(
  file: string,
  partial: string,
  cause: unknown,
  statfs?: (dir: string) => FileSystemSpace,
): CommandError {
  return new CommandError(`the copy of ${file} into ${partial} failed (nothing was kept)`, {
    cause: explainFullFileSystem(
      partial,
      cause,
      statfs,
      'free space there, or back up to another file system, and run herald backup again',
    ),
  });
}

export async function backup(flags: BackupFlags): Promise<void> {
  const { file, config } = sqliteDatabaseFile(flags, PG_DUMP_HINT);
  // SQLite would create an empty database at a mistyped path, and back that up.
  if (!existsSync(file)) {
    throw new CommandError(
      `there is no SQLite database at ${file}: give the one herald serve uses with --database sqlite:PATH or --data-dir DIR (nothing was written)`,
    );
  }
  // The database that was there, perhaps without its -wal: not what serve will serve.
  try {
    refuseInterruptedRestore(file);
  } catch (cause) {
    throw new CommandError(`${(cause as Error).message} (nothing was written)`, { cause });
  }
  const target = resolve(flags.to);
  refuseTarget(target);
  const partial = join(dirname(target), `${basename(target)}.partial-${process.pid}`);
  // Ctrl-C or a stop while it copies or checks: the partial file goes too (a kill -9 leaves it, by
  // its name).
  // Listened for before the file exists, so none comes between.
  const stop = (signal: NodeJS.Signals) => {
    removePartial(partial);
    cliIo().stderr.write(`herald: backup stopped by ${signal}: nothing was kept\n`);
    process.exit(1);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  // 0600 from the start: SQLite writes into an empty file it finds, keeping its mode.
  try {
    closeSync(openSync(partial, 'wx', 0o600));
  } catch (cause) {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    throw new CommandError(`cannot write in ${dirname(target)}`, { cause });
  }
  let summary: CopySummary;
  let copyMs: number;
  try {
    const started = performance.now();
    try {
      await vacuumInto(file, partial);
    } catch (cause) {
      throw copyFailed(file, partial, cause);
    }
    copyMs = performance.now() - started;
    try {
      // Named as the copy, which is deleted: not by its partial name, which the operator would look for.
      summary = inspectCopy(partial, PAGE_CHECK, 'the copy');
    } catch (cause) {
      // A copy reads every row as it is: one found damaged most likely comes of a damaged database.
      throw new CommandError(`${file} was not backed up: its copy failed the check and was deleted`, {
        cause,
      });
    }
    // The check is synchronous (seconds for a large copy): a Ctrl-C or stop that came during it
    // runs `stop` only once the event loop reads it. Published at once, with the listeners removed
    // after, the copy was kept and the interrupt lost.
    await signalsRead();
    publish(partial, target);
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    removePartial(partial);
  }
  syncPath(dirname(target));
  const lines = [
    `backed up ${file} to ${target} (mode 0600) in ${(copyMs / 1000).toFixed(1)} s: ${formatBytes(summary.bytes)}, ${counted(summary.events, 'events')}, ${counted(summary.deliveries, 'deliveries')}, schema ${summary.migrations.at(-1) ?? 'empty'} (${counted(summary.migrations.length, 'migrations')}); PRAGMA ${PAGE_CHECK} ok in ${(summary.checkMs / 1000).toFixed(1)} s`,
  ];
  if (summary.unknown.length > 0) {
    lines.push(
      `the database has migrations this version of Herald does not know (${summary.unknown.join(', ')}): restore it with the version that serves it`,
    );
  }
  lines.push(keyReminder(config.encryptionKey !== null, join(config.dataDir, ENCRYPTION_KEY_FILE)));
  await report(lines, "the backup's report");
}

/** The partial copy and the rollback journal SQLite keeps beside it while it writes it. */
function removePartial(partial: string): void {
  rmSync(partial, { force: true });
  rmSync(`${partial}-journal`, { force: true });
}

function refuseTarget(target: string): void {
  let found: ReturnType<typeof lstatSync> | null = null;
  try {
    found = lstatSync(target); // a dangling symbolic link too: the link would write through it
  } catch {
    // not there: what it must be
  }
  if (found?.isDirectory()) {
    throw new CommandError(
      `${target} is a directory: give the backup file's name in it, as --to ${join(target, 'herald-YYYY-MM-DD.db')} (nothing was written)`,
    );
  }
  if (found) {
    throw new CommandError(`${target} already exists: give a new file name (nothing was written)`);
  }
  const dir = dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CommandError(
      `there is no directory ${dir} to write ${basename(target)} in (nothing was written)`,
    );
  }
}

/** Gives the finished copy the target's name, unless a file took that name meanwhile. */
function publish(partial: string, target: string): void {
  try {
    linkSync(partial, target); // fails on an existing target, where a rename would replace it
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') {
      throw new CommandError(
        `${target} appeared while the backup ran: give a new file name (nothing was kept)`,
      );
    }
    // A file system without hard links (FAT, some network ones): a rename, after a last look.
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code)) {
      throw new CommandError(`cannot name the copy ${target}`, { cause: error });
    }
  }
  refuseTarget(target);
  renameSync(partial, target);
}

function keyReminder(keyInEnvironment: boolean, keyFile: string): string {
  const where = keyInEnvironment
    ? 'HERALD_ENCRYPTION_KEY (and any HERALD_ENCRYPTION_KEY_PREVIOUS)'
    : existsSync(keyFile)
      ? keyFile
      : `the encryption key herald serve runs with (HERALD_ENCRYPTION_KEY, or ${keyFile})`;
  return `the encryption key is NOT in the backup: the endpoint secrets in it open only with ${where}; back the key up separately, not beside the backup (docs/operations.md, Backups)`;
}
