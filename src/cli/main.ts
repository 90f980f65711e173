/**
 * `herald` command line: turns arguments into options and calls the same functions the API and
 * the server use (serve, migrate, event-types), or a running Herald's API through @herald/client
 * (projects, portal-links, events, endpoints, deliveries, operational-events, event-types list|get,
 * listen). Loaded by bin/herald.js; runs on import.
 */
import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { endpointsCommand } from './commands/endpoints.ts';
import { eventTypesCommand } from './commands/event-types-import.ts';
import { deliveriesCommand, eventsCommand } from './commands/events.ts';
import { listenCommand } from './commands/listen.ts';
import { migrateCommand } from './commands/migrate.ts';
import { operationalEventsCommand } from './commands/operational-events.ts';
import { portalLinksCommand } from './commands/portal-links.ts';
import { projectsCommand } from './commands/projects.ts';
import { serveCommand } from './commands/serve.ts';

// `herald events list | head -1`: the reader went away, which is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('herald')
  .description('Herald: self-hosted webhook platform')
  .version(packageJson.version)
  .showHelpAfterError()
  .addCommand(serveCommand())
  .addCommand(migrateCommand())
  .addCommand(eventTypesCommand())
  .addCommand(projectsCommand())
  .addCommand(portalLinksCommand())
  .addCommand(eventsCommand())
  .addCommand(endpointsCommand())
  .addCommand(deliveriesCommand())
  .addCommand(operationalEventsCommand())
  .addCommand(listenCommand());

await program.parseAsync(process.argv);
