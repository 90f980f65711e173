/**
 * `herald` command line: turns arguments into options and calls the same functions the API and
 * the server use. Loaded by bin/herald.js; runs on import.
 */
import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { eventTypesCommand } from './commands/event-types-import.ts';
import { migrateCommand } from './commands/migrate.ts';
import { serveCommand } from './commands/serve.ts';

const program = new Command('herald')
  .description('Herald: self-hosted webhook platform')
  .version(packageJson.version)
  .showHelpAfterError()
  .addCommand(serveCommand())
  .addCommand(migrateCommand())
  .addCommand(eventTypesCommand());

await program.parseAsync(process.argv);
