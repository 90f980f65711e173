/** `herald` command line: argument parsing only; each command calls the same code the API uses. */
import { Command } from 'commander';
import { eventTypesCommand } from './commands/event-types-import.ts';
import { migrateCommand } from './commands/migrate.ts';
import { serveCommand } from './commands/serve.ts';

const program = new Command('herald')
  .description('Herald: self-hosted webhook platform')
  .version('0.1.0')
  .addCommand(serveCommand())
  .addCommand(migrateCommand())
  .addCommand(eventTypesCommand());

await program.parseAsync(process.argv);
