import { Command } from 'commander';
import type { ConfigFlags } from '../../config/load-config.ts';
import { runCommand } from '../run-command.ts';

/** `herald migrate`: create or upgrade the schema, then exit (serve also does this at start; migrate-run.ts). */
export function migrateCommand(): Command {
  return (
    new Command('migrate')
      .description('create or upgrade the database schema, then exit')
      .option('--database <url>', 'sqlite:PATH or postgres://… (env HERALD_DATABASE_URL)')
      .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./herald-data)')
      // The stores' modules load only when migrate runs: src/cli/main.ts builds every command at start.
      .action((flags: Pick<ConfigFlags, 'database' | 'dataDir'>) =>
        runCommand(async () => (await import('./migrate-run.ts')).migrate(flags)),
      )
  );
}
