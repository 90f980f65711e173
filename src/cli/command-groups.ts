/**
 * Every top-level `herald` command, in the order `herald --help` lists them: the one list main.ts
 * builds the program from and the tests walk (cli-docs, cli-empty-ids), so a new command group
 * is added in one place. Fresh Command objects on each call (commander keeps parsed values on them).
 */
import type { Command } from 'commander';
import { emptyMeansUnset } from './api-connection.ts';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { copyToPostgresCommand } from './commands/copy-to-postgres.ts';
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
  const groups = [
    serveCommand(),
    migrateCommand(),
    backupCommand(),
    restoreCommand(),
    copyToPostgresCommand(),
    eventTypesCommand(),
    projectsCommand(),
    portalLinksCommand(),
    eventsCommand(),
    endpointsCommand(),
    deliveriesCommand(),
    operationalEventsCommand(),
    listenCommand(),
  ];
  // The API commands (those that take --url); serve's and migrate's flags are settings, whose
  // empty values config/parse-setting.ts takes as unset.
  const commands = groups.flatMap((g) => (g.commands.length > 0 ? g.commands : [g]));
  for (const command of commands.filter((c) => c.options.some((o) => o.long === '--url'))) {
    emptyMeansUnset(command);
  }
  return groups;
}
