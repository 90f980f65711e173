import { Command } from 'commander';
import { runCommand } from '../run-command.ts';
import type { BackupFlags } from './backup-run.ts';
import type { RestoreFlags } from './restore-run.ts';

const DATABASE = 'the SQLite database, sqlite:PATH (env HERALD_DATABASE_URL; default DATA_DIR/herald.db)';
const DATA_DIR = 'data directory (env HERALD_DATA_DIR, default ./herald-data)';

/** `herald backup`: a consistent copy of the SQLite database, while serve runs (backup-run.ts). */
export function backupCommand(): Command {
  return (
    new Command('backup')
      .description(
        'write a consistent copy of the SQLite database to a new file (0600), also while herald serve runs, and check it',
      )
      .requiredOption('--to <path>', 'the backup file to write (must not exist)')
      .option('--database <url>', DATABASE)
      .option('--data-dir <dir>', DATA_DIR)
      // The stores' modules load only when the command runs: src/cli/main.ts builds every command at start.
      .action((flags: BackupFlags) => runCommand(async () => (await import('./backup-run.ts')).backup(flags)))
  );
}

/** `herald restore`: puts a backup in place of the SQLite database, Herald stopped (restore-run.ts). */
export function restoreCommand(): Command {
  return new Command('restore')
    .description(
      'put a backup in place of the SQLite database (herald serve stopped), keeping the current database aside',
    )
    .requiredOption('--from <path>', 'the backup file (written by herald backup)')
    .option('--database <url>', DATABASE)
    .option('--data-dir <dir>', DATA_DIR)
    .action((flags: RestoreFlags) =>
      runCommand(async () => (await import('./restore-run.ts')).restore(flags)),
    );
}
