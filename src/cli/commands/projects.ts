/**
 * `herald projects list|create|update|api-key|api-keys|revoke-api-key`: projects and their API keys
 * through a running Herald's API (the admin token; a project's own full key may list and revoke its
 * keys, and update its project but for its backlog limit; a read key may list them).
 */
import type { ApiKeyScope, ProjectInput } from '@herald/client';
import { Command, Option } from 'commander';
import { LIMITS } from '../../api/schemas/common.ts';
import { API_KEY_SCOPES } from '../../domain/types.ts';
import { type ConnectionFlags, requiredFlag, withConnectionFlags } from '../api-connection.ts';
import { apiAction, printJson, printLine, sayEmpty } from '../print.ts';
import { CommandError } from '../run-command.ts';
import { making } from '../sent-without-answer.ts';
import { shellWord } from '../shell-word.ts';
import { visible } from '../terminal-text.ts';
import { reportCredential } from '../work-report.ts';

/** The API's bound of a project's backlogLimit: a larger one is refused here, before a request. */
const MAX_BACKLOG_LIMIT = LIMITS.backlogLimit;

/**
 * `--backlog-limit N|default`: pending deliveries past which the project's new events get 429;
 * `default` (null) gives it the installation's HERALD_PROJECT_BACKLOG_LIMIT back, 0 no limit.
 */
function backlogLimitFlag(value: string): number | null {
  if (value === 'default') return null;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_BACKLOG_LIMIT) {
    throw new CommandError(
      `--backlog-limit: expected an integer from 0 to ${MAX_BACKLOG_LIMIT} or "default", got ${value}`,
    );
  }
  return n;
}

const BACKLOG_LIMIT_HELP =
  'pending deliveries past which its new events get 429 (admin token only): 0 for no limit, ' +
  '"default" for HERALD_PROJECT_BACKLOG_LIMIT';

export function projectsCommand(): Command {
  const projects = new Command('projects').description(
    'manage projects (through the API; list, create and api-key need the admin token; the others take a full key of the project too)',
  );
  withConnectionFlags(
    projects.command('list').description('every project').option('--json', 'print them as JSON'),
  ).action(
    apiAction<ConnectionFlags & { json?: boolean }>(async (client, flags) => {
      const all = [];
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await client.listProjects({ limit: 100, ...(cursor ? { cursor } : {}) });
        all.push(...page.data);
        cursor = page.nextCursor ?? undefined;
      }
      if (flags.json) printJson(all);
      else if (all.length === 0) sayEmpty('no projects yet (add one with `herald projects create NAME`)');
      else for (const p of all) printLine(`${p.id} ${p.uid ?? '-'} ${p.name}`);
    }),
  );
  withConnectionFlags(
    projects
      .command('create')
      .description('create a project; prints it')
      .argument('<name>', 'a name for people')
      .option('--uid <uid>', 'your own unique id for it (paths accept it instead of the id)')
      .option('--backlog-limit <n|default>', BACKLOG_LIMIT_HELP)
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<ConnectionFlags & { uid?: string; backlogLimit?: string }>(async (client, flags, [name]) => {
      const input: ProjectInput = { name, ...(flags.uid ? { uid: flags.uid } : {}) };
      if (flags.backlogLimit !== undefined) input.backlogLimit = backlogLimitFlag(flags.backlogLimit);
      printJson(await client.createProject(input));
    }),
  );
  withConnectionFlags(
    projects
      .command('update')
      .description("change some of a project's settings; the others stay as they are; prints it")
      .argument('<project>', 'project id or uid')
      .option('--name <name>', 'a name for people')
      .option('--uid <uid>', 'your own unique id for it')
      .option('--backlog-limit <n|default>', BACKLOG_LIMIT_HELP)
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<ConnectionFlags & { name?: string; uid?: string; backlogLimit?: string }>(
      async (client, flags, [project]) => {
        const patch: Partial<ProjectInput> = {};
        if (flags.name !== undefined) patch.name = flags.name;
        if (flags.uid !== undefined) patch.uid = flags.uid;
        if (flags.backlogLimit !== undefined) patch.backlogLimit = backlogLimitFlag(flags.backlogLimit);
        if (Object.keys(patch).length === 0) {
          throw new CommandError('nothing to change: give --name, --uid or --backlog-limit');
        }
        printJson(await client.updateProject(project, patch));
      },
    ),
  );
  withConnectionFlags(
    projects
      .command('api-key')
      .description('create an API key that can only touch this project; prints it once')
      .argument('<project>', 'project id or uid')
      .addOption(requiredFlag('--name <name>', 'what the key is for'))
      .addOption(
        new Option(
          '--scope <scope>',
          'what it may do, fixed once made: full (everything in the project), send (send events only: ' +
            'for the service that sends them), read (read, no secrets: for dashboards and monitoring)',
        )
          .choices(API_KEY_SCOPES)
          .default('full'),
      )
      .option(
        '--json',
        "print the API's answer as JSON (id, key, prefix, scope, name, …): the id is what revoke-api-key takes",
      ),
  ).action(
    apiAction<ConnectionFlags & { name: string; scope: ApiKeyScope; json?: boolean }>(
      async (client, flags, [project]) => {
        const p = shellWord(project);
        const made = await making(
          client.createApiKey(project, flags.name, { scope: flags.scope }),
          flags,
          `The API key may have been created: \`herald projects api-keys ${p}\` lists it (named ${JSON.stringify(flags.name)}); revoke it with \`herald projects revoke-api-key ${p} KEY_ID\` before making another`,
        );
        // The key is shown only now: without it, which key was made, and how to end it and make another.
        const name = shellWord(flags.name);
        await reportCredential(
          flags.json ? `${JSON.stringify(made, null, 2)}\n` : `${visible(made.key)}\n`,
          `the API key ${made.id} of ${project} was created, but the key is not printed anywhere: revoke it with ` +
            `herald projects revoke-api-key ${p} ${shellWord(made.id)}, and make another with herald projects api-key ${p} --name ${name} --scope ${flags.scope}`,
        );
      },
    ),
  );
  withConnectionFlags(
    projects
      .command('api-keys')
      .description(
        "a project's API keys: id, first characters of the key, when created, scope, name (never the key)",
      )
      .argument('<project>', 'project id or uid')
      .option('--json', 'print them as JSON'),
  ).action(
    apiAction<ConnectionFlags & { json?: boolean }>(async (client, flags, [project]) => {
      // One page: the API answers every key of the project at once (nextCursor null).
      const { data } = await client.listApiKeys(project);
      if (flags.json) printJson(data);
      else if (data.length === 0)
        sayEmpty(
          `no API keys in ${project} (add one with \`herald projects api-key ${project} --name NAME\`)`,
        );
      else for (const k of data) printLine(`${k.id} ${k.prefix}… ${k.createdAt} ${k.scope} ${k.name}`);
    }),
  );
  withConnectionFlags(
    projects
      .command('revoke-api-key')
      .description('revoke a project API key: requests with it are refused (401) from now on')
      .argument('<project>', 'project id or uid')
      .argument('<key>', 'the key id (from `herald projects api-keys`)'),
  ).action(
    apiAction<ConnectionFlags>(async (client, _flags, args) => {
      const [project, key] = args as unknown as [string, string];
      await client.deleteApiKey(project, key);
      printLine(`${key}: revoked`);
    }),
  );
  return projects;
}
