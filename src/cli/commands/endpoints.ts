/**
 * `herald endpoints list|create|get|update|disable|enable|test|rotate-secret|delete`: a project's
 * endpoints and their settings through a running Herald's API (their history: endpoint-history.ts;
 * what waits for them: endpoint-deliveries.ts).
 */
import type { Endpoint, EndpointInput, EndpointSecrets, HeraldClient, SignatureConfig } from '@herald/client';
import { HeraldApiError } from '@herald/client/errors';
import { Command, Option } from 'commander';
import {
  type ConnectionFlags,
  countFlag,
  idFlag,
  jsonObjectFlag,
  positiveInt,
  projectFlag,
  typeListFlag,
  withConnectionFlags,
} from '../api-connection.ts';
import {
  apiAction,
  eachUpTo,
  narrowedBy,
  pageSize,
  printJson,
  printLine,
  sayEmpty,
  sayLine,
  sayMore,
} from '../print.ts';
import { CommandError } from '../run-command.ts';
import { readSecretFile } from '../secret-file.ts';
import { making } from '../sent-without-answer.ts';
import { shellWord } from '../shell-word.ts';
import { visible } from '../terminal-text.ts';
import { reportCredential } from '../work-report.ts';
import { addEndpointDeliveriesCommand } from './endpoint-deliveries.ts';
import { addEndpointHistoryCommands } from './endpoint-history.ts';

interface CreateFlags extends ConnectionFlags {
  project: string;
  types?: string;
  dev?: boolean;
  name?: string;
  settings?: string;
}

interface UpdateFlags extends ConnectionFlags {
  project: string;
  endpointUrl?: string;
  types?: string;
  allTypes?: boolean;
  dev?: boolean;
  name?: string;
  settings?: string;
  json?: boolean;
}

/**
 * Refuses a field given both by its flag (or argument: `flags` maps the field to it) and in
 * `--settings`, with another value: which one was meant is not known (the flag used to win
 * silently). `input` holds the flags' values over the settings'. Given alike, it is taken, as
 * `<project>` and `--project` are (docs/cli.md).
 */
function givenOnce(
  settings: Partial<EndpointInput>,
  input: Partial<EndpointInput>,
  flags: Partial<Record<keyof EndpointInput, string>>,
): void {
  for (const [field, flag] of Object.entries(flags) as [keyof EndpointInput, string][]) {
    if (!Object.hasOwn(settings, field)) continue;
    if (JSON.stringify(settings[field]) === JSON.stringify(input[field])) continue;
    throw new CommandError(
      `${flag} and --settings ("${field}") give the ${field} twice, differently: give it once`,
    );
  }
}

export function endpointsCommand(): Command {
  const endpoints = new Command('endpoints').description("manage a project's endpoints (through the API)");
  withConnectionFlags(
    endpoints
      .command('list')
      .description("the project's endpoints")
      .addOption(projectFlag())
      .addOption(countFlag('--limit <n>', 'at most this many', 100))
      .option('--cursor <cursor>', 'start where a page ended: its nextCursor (from --json)')
      .option('--json', 'print the page as JSON, with nextCursor for the next one'),
  ).action(
    apiAction<ConnectionFlags & { project: string; limit: string | number; cursor?: string; json?: boolean }>(
      async (client, flags) => {
        const limit = positiveInt('--limit', flags.limit);
        const page = (limit: number, cursor?: string) =>
          client.listEndpoints(flags.project, { limit, ...(cursor ? { cursor } : {}) });
        if (flags.json) {
          printJson(await page(pageSize(limit), flags.cursor));
          return;
        }
        const stopped = await eachUpTo(limit, page, printEndpoint, flags.cursor);
        if (stopped.written === 0)
          sayEmpty(
            flags.cursor === undefined
              ? `no endpoints in ${flags.project} (add one with \`herald endpoints create URL --project ${flags.project}\`)`
              : `no endpoints in ${flags.project}${narrowedBy(flags, ['cursor'])}`,
          );
        else sayMore(stopped, 'endpoints', flags.cursor);
      },
    ),
  );
  withConnectionFlags(
    endpoints
      .command('create')
      .description('register an endpoint; prints it with its signing secret (shown here, keep it)')
      .argument('<url>', 'where deliveries go')
      .addOption(projectFlag())
      .option('--types <list>', 'comma-separated event types (default: every type)')
      .option('--dev', 'a dev endpoint: also receives test events')
      .option('--name <name>', 'a name for people')
      .option(
        '--settings <json>',
        'any other endpoint fields as JSON, or @FILE (@- for stdin) (method, headers, signature, …)',
      )
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<CreateFlags>(async (client, flags, [url]) => {
      const settings = (
        flags.settings ? jsonObjectFlag('--settings', flags.settings) : {}
      ) as Partial<EndpointInput>;
      const input: EndpointInput = { ...settings, url };
      if (flags.types) input.eventTypes = typeListFlag(flags.types, 'for every type, leave out --types');
      if (flags.dev) input.dev = true;
      if (flags.name) input.name = flags.name;
      givenOnce(settings, input, { url: '<url>', eventTypes: '--types', dev: '--dev', name: '--name' });
      const endpoint = await making(
        client.createEndpoint(flags.project, input),
        flags,
        `The endpoint may have been created: look for ${url} in \`herald endpoints list --project ${shellWord(flags.project)}\` before running the create again (a second endpoint would receive every event twice)`,
      );
      // Its secret is shown only now: without it, what was made, and how to get one (no second create).
      const again = `herald endpoints rotate-secret ${shellWord(endpoint.id)} --project ${shellWord(flags.project)}`;
      await reportCredential(
        `${JSON.stringify(endpoint, null, 2)}\n`,
        `the endpoint ${endpoint.id} was created, but its signing secret is not printed anywhere: do not run the ` +
          `create again (a second endpoint would receive every event twice); for a secret to give its receiver: ${again} --grace 0`,
      );
    }),
  );
  withConnectionFlags(
    endpoints
      .command('get')
      .description('one endpoint and its latest attempts')
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<ConnectionFlags & { project: string }>(async (client, flags, [id]) => {
      const endpoint = await client.getEndpoint(flags.project, id);
      const attempts = await client.listEndpointAttempts(flags.project, id, { limit: 20 });
      printJson({ ...endpoint, latestAttempts: attempts.data });
    }),
  );
  withConnectionFlags(
    endpoints
      .command('update')
      .description("change some of an endpoint's settings; the others stay as they are")
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option('--endpoint-url <url>', 'where deliveries go (--url is the Herald to talk to)')
      .option('--types <list>', 'comma-separated event types it receives')
      .option('--all-types', 'receive every event type (clears the filter)')
      .option('--dev', 'a dev endpoint: also receives test events')
      .option('--no-dev', 'not a dev endpoint')
      .option('--name <name>', 'a name for people')
      .option(
        '--settings <json>',
        'any other fields to change as JSON, or @FILE (@- for stdin) (method, headers, signature, …)',
      )
      .option('--json', 'print the endpoint as JSON'),
  ).action(
    apiAction<UpdateFlags>(async (client, flags, [id]) => {
      if (flags.types && flags.allTypes) throw new CommandError('--types and --all-types: give one of them');
      const settings = (
        flags.settings ? jsonObjectFlag('--settings', flags.settings) : {}
      ) as Partial<EndpointInput>;
      const patch = { ...settings };
      // An empty flag counts as unset (docs/cli.md): `--name ""` keeps the name; clearing it is
      // `--settings '{"name": ""}'`.
      if (flags.endpointUrl) patch.url = flags.endpointUrl;
      if (flags.types) patch.eventTypes = typeListFlag(flags.types, 'for every type, give --all-types');
      if (flags.allTypes) patch.eventTypes = [];
      if (flags.dev !== undefined) patch.dev = flags.dev;
      if (flags.name) patch.name = flags.name;
      givenOnce(settings, patch, {
        url: '--endpoint-url',
        eventTypes: flags.allTypes ? '--all-types' : '--types',
        dev: flags.dev === false ? '--no-dev' : '--dev',
        name: '--name',
      });
      if ('secret' in patch) throw new CommandError('--settings: the secret is changed with rotate-secret');
      if (Object.keys(patch).length === 0)
        throw new CommandError(
          'nothing to change: give at least one setting (an empty flag counts as unset; to clear the name: --settings \'{"name": ""}\')',
        );
      const endpoint = await client.updateEndpoint(flags.project, id, patch);
      if (flags.json) printJson(endpoint);
      else printEndpoint(endpoint);
    }),
  );
  withConnectionFlags(
    endpoints
      .command('disable')
      .description(
        'stop delivering to an endpoint: new events skip it, its pending deliveries are parked until `enable`',
      )
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag()),
  ).action(
    apiAction<ConnectionFlags & { project: string }>(async (client, flags, [id]) => {
      printEndpoint(await client.updateEndpoint(flags.project, id, { active: false }));
    }),
  );
  withConnectionFlags(
    endpoints
      .command('test')
      .description("send a test event to this endpoint only (the type's example payload)")
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option(
        '--type <type>',
        "the event type whose catalog example to send (default: the first of the endpoint's types that has one; for an endpoint of every type, the first in the catalog that has one)",
      ),
  ).action(
    apiAction<ConnectionFlags & { project: string; type?: string }>(async (client, flags, [id]) => {
      try {
        const { eventId } = await client.testEndpoint(flags.project, id, flags.type);
        printLine(eventId);
      } catch (error) {
        throw (await noExample(error, client, flags.project, id, flags.type)) ?? error;
      }
    }),
  );
  withConnectionFlags(
    endpoints
      .command('enable')
      .description('re-enable a disabled endpoint; its parked deliveries become due')
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag()),
  ).action(
    apiAction<ConnectionFlags & { project: string }>(async (client, flags, [id]) => {
      printEndpoint(await client.enableEndpoint(flags.project, id));
    }),
  );
  withConnectionFlags(
    endpoints
      .command('rotate-secret')
      .description(
        'a new signing secret (printed), or your own from --secret-file. Whether the old one still signs ' +
          'during the grace period depends on the scheme: standard and stripe sign with every valid secret; ' +
          'hmac-sha256, github, sha256-body and hmac-sha1-url with the newest only, so give their receiver ' +
          'the new secret first (--secret-file) and rotate to it (docs/signatures.md). Says on stderr which applies',
      )
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option(
        '--grace <seconds>',
        'how long the old secret stays valid (Herald default 86400 when omitted); standard and stripe ' +
          'endpoints sign with it beside the new one until then, the other schemes with the new one only',
      )
      // Empty is refused, not taken as unset (an unset `"$SECRET_FILE"`): that would rotate to a new
      // secret, which a receiver of the single-signature schemes does not accept.
      .addOption(
        idFlag(
          new Option(
            '--secret-file <path>',
            'rotate to this secret instead of a new one, read from the file (- for stdin; a final newline is ' +
              'dropped), so it stays out of shell history: the secret the receiver already accepts',
          ),
        ),
      ),
  ).action(
    apiAction<ConnectionFlags & { project: string; grace?: string; secretFile?: string }>(
      async (client, flags, [id]) => {
        if (flags.grace !== undefined && !/^\d+$/.test(flags.grace)) {
          throw new CommandError(`--grace: expected whole seconds, got ${flags.grace}`);
        }
        const options: { graceSeconds?: number; secret?: string } =
          flags.grace === undefined ? {} : { graceSeconds: Number(flags.grace) };
        if (flags.secretFile !== undefined)
          options.secret = readSecretFile(flags.secretFile, '--secret-file');
        // The scheme decides what the rotation does on the wire (read first: an unknown endpoint is
        // refused before anything changes).
        const endpoint = await client.getEndpoint(flags.project, id);
        let rotated: EndpointSecrets;
        try {
          rotated = await client.rotateEndpointSecret(flags.project, id, options);
        } catch (error) {
          // The API names body.secret; the user gave --secret-file.
          if (
            error instanceof HeraldApiError &&
            (error.details as { field?: unknown } | null)?.field === 'body.secret'
          ) {
            const head = `${error.status} ${error.code}: `;
            const message = error.message.startsWith(head) ? error.message.slice(head.length) : error.message;
            throw new CommandError(`${head}--secret-file: ${message.replace(/^body\.secret: /, '')}`);
          }
          throw error;
        }
        const again = `herald endpoints rotate-secret ${shellWord(id)} --project ${shellWord(flags.project)}`;
        await reportCredential(
          `${visible(rotated.secret)}\n`,
          flags.secretFile === undefined
            ? `the signing secret of ${id} was rotated, but the new secret is not printed anywhere; for another one: ${again}`
            : `the signing secret of ${id} was rotated to the one from --secret-file (not printed again): it is done, do not run it again`,
        );
        sayLine(rotationNote(endpoint.signature, rotated, flags.secretFile !== undefined));
      },
    ),
  );
  withConnectionFlags(
    endpoints
      .command('delete')
      .description('delete an endpoint (its pending deliveries are closed)')
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag()),
  ).action(
    apiAction<ConnectionFlags & { project: string }>(async (client, flags, [id]) => {
      await client.deleteEndpoint(flags.project, id);
      printLine(`${id}: deleted`);
    }),
  );
  addEndpointHistoryCommands(endpoints);
  addEndpointDeliveriesCommand(endpoints);
  return endpoints;
}

/** The schemes that put one signature per valid secret on a request (docs/signatures.md). */
const EVERY_SECRET_SIGNS = new Set(['standard', 'stripe']);

/**
 * What the rotation just done means on the wire for an endpoint signing with `signature`: which
 * secret or secrets sign its requests from now on, and until when the older ones stay valid.
 */
export function rotationNote(
  signature: SignatureConfig,
  rotated: EndpointSecrets,
  ownSecret: boolean,
): string {
  const { scheme } = signature;
  const older = rotated.secrets.slice(1).filter((s) => s.expiresAt !== null);
  const until =
    older.length === 0
      ? null
      : older
          .map((s) => s.expiresAt!)
          .reduce((latest, at) => (Date.parse(at) > Date.parse(latest) ? at : latest));
  if (scheme === 'none') return 'none: requests carry no signature, so the secret is not sent or checked';
  if (scheme === 'hmac-sha1-url' && signature.key !== undefined)
    return 'hmac-sha1-url with a static key: requests are signed with that key, not the secret, so nothing changes on the wire';
  if (EVERY_SECRET_SIGNS.has(scheme)) {
    return until === null
      ? `${scheme}: requests are signed with the new secret only (no older secret is still valid)`
      : `${scheme}: requests carry a signature with the new secret and one with each older secret until ${until}, so a receiver that knows only the old one keeps accepting them until then`;
  }
  const receiver = ownSecret
    ? 'the receiver must already accept it'
    : 'a receiver that knows only the old one refuses every request until it has the new one (next time: give the receiver the new secret first, then rotate to it with --secret-file)';
  return `${scheme}: requests are signed with the new secret only, from now on, whatever the grace period; ${receiver}`;
}

/**
 * A test send that found no example to send (422 naming body.eventType): which type or types it
 * looked at, and the two ways out (a type that has an example, or an example for this one). Null
 * for any other error.
 */
async function noExample(
  error: unknown,
  client: HeraldClient,
  project: string,
  id: string,
  type: string | undefined,
): Promise<CommandError | null> {
  if (!(error instanceof HeraldApiError) || error.status !== 422) return null;
  if ((error.details as { field?: unknown } | null)?.field !== 'body.eventType') return null;
  const head = `${error.status} ${error.code}: `;
  const addOne = (name: string) =>
    `add one with \`herald event-types import FILE\` (a catalog such as examples/catalogs/gamify.json, or {"eventTypes": [{"name": "${name}", "example": {…}}]})`;
  const listThem = '`herald event-types list` shows which types have one';
  if (type !== undefined) {
    // The API says which: the type is not in the catalog at all, or is there without an example.
    const what = /is not in the event-type catalog/.test(error.message)
      ? 'is not in the event-type catalog'
      : 'has no example in the event-type catalog';
    return new CommandError(
      `${head}--type ${type}: ${what}, so there is nothing to send; ${addOne(type)}, or pick a type that has one (${listThem})`,
    );
  }
  // Only to word the message: if even this read fails, the 422 stands as it came.
  const endpoint = await client.getEndpoint(project, id).catch(() => null);
  if (!endpoint) return null;
  const { eventTypes } = endpoint;
  const tried =
    eventTypes.length > 0
      ? `without --type it tries the endpoint's event types (${eventTypes.join(', ')}) and none has an example in the event-type catalog`
      : 'without --type it sends the first example of the event-type catalog (the endpoint takes every type), and the catalog has none';
  return new CommandError(
    `${head}${tried}; give a type that has one with --type TYPE (${listThem}), or ${addOne(eventTypes[0] ?? 'TYPE')}`,
  );
}

/** One line: id, method, URL, (filter; status, dev, scheme), then its name, if it has one. */
function printEndpoint(ep: Endpoint): void {
  const types = ep.eventTypes.length ? ep.eventTypes.join(',') : 'all types';
  const flags = [ep.status, ep.dev ? 'dev' : null, ep.signature.scheme].filter(Boolean).join(', ');
  printLine(`${ep.id} ${ep.method} ${ep.url} (${types}; ${flags})${ep.name ? ` ${ep.name}` : ''}`);
}
