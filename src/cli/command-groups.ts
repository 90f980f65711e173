/**
 * Every top-level `herald` command, in the order `herald --help` lists them: the one list run.ts
 * builds the program from and the tests walk (cli-docs, cli-empty-ids), so a new command group
 * is added in one place. Fresh Command objects on each call (commander keeps parsed values on them).
 * Each group's module is imported only when the group is built: `herald serve` (and `herald events
 * list`) builds its own group alone (run.ts), where importing and building all of them cost
 * ~40 ms of CPU at every start.
 */
import type { Command } from 'commander';

/** Each group's name, and how to build it (its module imported then). */
const GROUPS: ReadonlyArray<readonly [name: string, build: () => Promise<Command>]> = [
  ['serve', async () => (await import('./commands/serve.ts')).serveCommand()],
  ['migrate', async () => (await import('./commands/migrate.ts')).migrateCommand()],
  ['backup', async () => (await import('./commands/backup.ts')).backupCommand()],
  ['restore', async () => (await import('./commands/backup.ts')).restoreCommand()],
  ['copy-to-postgres', async () => (await import('./commands/copy-to-postgres.ts')).copyToPostgresCommand()],
  ['event-types', async () => (await import('./commands/event-types-import.ts')).eventTypesCommand()],
  ['projects', async () => (await import('./commands/projects.ts')).projectsCommand()],
  ['portal-links', async () => (await import('./commands/portal-links.ts')).portalLinksCommand()],
  ['events', async () => (await import('./commands/events.ts')).eventsCommand()],
  ['endpoints', async () => (await import('./commands/endpoints.ts')).endpointsCommand()],
  ['deliveries', async () => (await import('./commands/events.ts')).deliveriesCommand()],
  [
    'operational-events',
    async () => (await import('./commands/operational-events.ts')).operationalEventsCommand(),
  ],
  ['listen', async () => (await import('./commands/listen.ts')).listenCommand()],
];

/** The names of every group, in the order of `herald --help`. */
export const COMMAND_GROUP_NAMES: readonly string[] = GROUPS.map(([name]) => name);

/**
 * The groups named in `names` (every group unless given), built fresh. A name that is no group's
 * is left out.
 */
export async function commandGroups(names: readonly string[] = COMMAND_GROUP_NAMES): Promise<Command[]> {
  const groups = await Promise.all(
    GROUPS.filter(([name]) => names.includes(name)).map(([, build]) => build()),
  );
  // The API commands (those that take --url); serve's and migrate's flags are settings, whose
  // empty values config/parse-setting.ts takes as unset.
  // (api-connection.ts is imported here, already loaded by their modules: serve's has none.)
  const commands = groups.flatMap((g) => (g.commands.length > 0 ? g.commands : [g]));
  const api = commands.filter((c) => c.options.some((o) => o.long === '--url'));
  if (api.length === 0) return groups;
  const { emptyMeansUnset } = await import('./api-connection.ts');
  for (const command of api) emptyMeansUnset(command);
  return groups;
}

/**
 * The groups a run of `herald ARGV` needs: the one it names first (`herald serve …`: commander
 * parses the program's own options, --help and --version, wherever they are, and dispatches on that
 * first word alone), or all of them when the first word is no group's (`herald --help`, `herald
 * help events`, a misspelt command, which commander answers with the nearest name).
 */
export function commandGroupsFor(argv: readonly string[]): Promise<Command[]> {
  const first = argv[0];
  return commandGroups(first !== undefined && COMMAND_GROUP_NAMES.includes(first) ? [first] : undefined);
}
