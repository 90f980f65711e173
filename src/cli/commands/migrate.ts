import { Command } from 'commander';
import { type ConfigFlags, loadConfig } from '../../config/load-config.ts';
import { redactDatabaseUrl } from '../../config/redact-database-url.ts';
import { openStore } from '../../store/open-store.ts';
import { runCommand } from '../run-command.ts';

/** `herald migrate`: create or upgrade the schema, then exit (serve also does this at start). */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('create or upgrade the database schema, then exit')
    .option('--database <url>', 'sqlite:PATH or postgres://… (env HERALD_DATABASE_URL)')
    .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./herald-data)')
    .action((flags: Pick<ConfigFlags, 'database' | 'dataDir'>) =>
      runCommand(async () => {
        const config = loadConfig({ flags, resolveAdminToken: false });
        const store = await openStore(config.databaseUrl, {
          dataDir: config.dataDir,
          encryptionKey: config.encryptionKey,
        });
        try {
          await store.migrate();
        } finally {
          await store.close();
        }
        process.stdout.write(`herald: schema is up to date (${redactDatabaseUrl(config.databaseUrl)})\n`);
      }),
    );
}
