import { Command } from 'commander';
import type { ConfigFlags } from '../../config/load-config.ts';
import { runCommand } from '../run-command.ts';
import { addEventTypeReadCommands } from './event-types-read.ts';

/** `herald event-types import FILE`: upsert a catalog file into the store (`list` and `get`: event-types-read.ts). */
export function eventTypesCommand(): Command {
  const eventTypes = new Command('event-types').description('manage the event-type catalog');
  eventTypes
    .command('import')
    .description('create or update the event types listed in a catalog file (see examples/catalogs/)')
    .argument(
      '<file>',
      'JSON: {"eventTypes": [{name, description?, schema?, example?, deprecated?}]} or that array',
    )
    .option('--database <url>', 'sqlite:PATH or postgres://… (env HERALD_DATABASE_URL)')
    .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./herald-data)')
    // The schema checker and the stores load only when an import runs (event-types-catalog.ts).
    .action((file: string, flags: Pick<ConfigFlags, 'database' | 'dataDir'>) =>
      runCommand(async () => (await import('./event-types-catalog.ts')).importCatalog(file, flags)),
    );
  addEventTypeReadCommands(eventTypes);
  return eventTypes;
}
