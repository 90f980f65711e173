/**
 * Every top-level `herald` command, in the order `herald --help` lists them: the one list main.ts
 * builds the program from and the tests walk (cli-docs, cli-empty-ids), so a new command group
 * is added in one place. Fresh Command objects on each call (commander keeps parsed values on them).
 */
import type { Command } from 'commander';
import { endpointsCommand } from './commands/endpoints.ts';
import { eventTypesCommand } from './commands/event-types-import.ts';
import { deliveriesCommand, eventsCommand } from './commands/events.ts';
import { listenCommand } from './commands/listen.ts';
import { migrateCommand } from './commands/migrate.ts';
import { operationalEventsCommand } from './commands/operational-events.ts';
import { portalLinksCommand } from './commands/portal-links.ts';
import { projectsCommand } from './commands/projects.ts';
import { serveCommand } from './commands/serve.ts';

export function commandGroups(): Command[] {
  return [
    serveCommand(),
    migrateCommand(),
    eventTypesCommand(),
    projectsCommand(),
    portalLinksCommand(),
    eventsCommand(),
    endpointsCommand(),
    deliveriesCommand(),
    operationalEventsCommand(),
    listenCommand(),
  ];
}
