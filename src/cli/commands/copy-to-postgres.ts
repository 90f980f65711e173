import { Command } from 'commander';
import { runCommand } from '../run-command.ts';

/**
 * `herald copy-to-postgres`: copies an installation from its SQLite database into an empty
 * PostgreSQL one, for when one machine is no longer enough (copy-to-postgres-run.ts).
 */
export function copyToPostgresCommand(): Command {
  return (
    new Command('copy-to-postgres')
      .description(
        'copy a stopped SQLite installation (projects, endpoints and their secrets, API keys, the catalog, pending deliveries, history) into an empty PostgreSQL database',
      )
      .requiredOption('--to <url>', 'the PostgreSQL database to copy into (postgres://…), empty')
      .option(
        '--from <url>',
        'the SQLite database (sqlite:PATH; default: HERALD_DATABASE_URL, else DATA_DIR/herald.db)',
      )
      .option(
        '--data-dir <dir>',
        'data directory of the SQLite installation (env HERALD_DATA_DIR, default ./herald-data): its encryption-key',
      )
      // The stores' modules load only when the command runs: src/cli/main.ts builds every command at start.
      .action((flags: { to: string; from?: string; dataDir?: string }) =>
        runCommand(async () => (await import('./copy-to-postgres-run.ts')).copyToPostgres(flags)),
      )
  );
}
