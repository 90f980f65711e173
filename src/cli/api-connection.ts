/**
 * The API commands' connection to a running Herald (src/config/client-connection.ts says where the
 * URL and token come from) and their JSON flags. The token is never printed.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HeraldClient } from '@herald/client';
import { HeraldApiError, HeraldNetworkError, HeraldResponseError } from '@herald/client/errors';
import { type Command, Option } from 'commander';
import { type ConnectionFlags, DEFAULT_API_URL, resolveConnection } from '../config/client-connection.ts';
import { withoutCredentials } from '../domain/http-url.ts';
import { parseJsonExact } from '../domain/json-text.ts';
import { cliIo } from './cli-io.ts';
import { readTextFile } from './read-text-file.ts';
import { CommandError } from './run-command.ts';

export type { ConnectionFlags };

/** Adds --url, --token and --data-dir to an API command. */
export function withConnectionFlags(command: Command): Command {
  return command
    .option('--url <url>', `Herald's base URL (env HERALD_URL, default ${DEFAULT_API_URL})`)
    .option('--token <token>', 'admin token or project API key (env HERALD_TOKEN or HERALD_ADMIN_TOKEN)')
    .option(
      '--data-dir <dir>',
      'where a local server saved its generated admin token (env HERALD_DATA_DIR, default ./herald-data)',
    );
}

export async function connect(flags: ConnectionFlags): Promise<HeraldClient> {
  const { url, urlSource, token, tokenSource, tokenFile, savedTokenApplies } = resolveConnection(
    flags,
    cliIo().env,
  );
  // Before the token: `127.0.0.1:8080` (no http://) is not a URL on this machine, so the saved token
  // does not apply to it, and the error was "no token …, --url names another host".
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new CommandError(
      `${urlSource}: expected Herald's address as an http:// or https:// URL (such as ${DEFAULT_API_URL}), got ${JSON.stringify(withoutCredentials(url))}`,
    );
  }
  const notRoot = notHeraldRoot(parsed);
  if (notRoot) throw new CommandError(`${urlSource}: ${notRoot}`);
  if (!token && !savedTokenApplies) {
    throw new CommandError(
      `no token for ${withoutCredentials(url)}: pass --token, or set HERALD_TOKEN (a project API key or the admin ` +
        'token) or HERALD_ADMIN_TOKEN. The admin token a local `herald serve` saved goes only to a Herald on this ' +
        `machine (localhost, 127.0.0.0/8, ::1), and ${urlSource} names another host`,
    );
  }
  if (!token && !existsSync(tokenFile) && existsSync(join(dirname(tokenFile), 'herald.db'))) {
    // The right directory, yet no token saved: serve runs with HERALD_ADMIN_TOKEN (the README's
    // walkthrough exports it in serve's terminal only), and "run it where serve was started" misled.
    throw new CommandError(
      'no token: pass --token, or set HERALD_TOKEN (a project API key or the admin token) or ' +
        `HERALD_ADMIN_TOKEN. ${dirname(tokenFile)} holds a database but no admin-token file: the herald serve ` +
        'using it was started with HERALD_ADMIN_TOKEN, which it does not save; give that token',
    );
  }
  if (!token) {
    throw new CommandError(
      'no token: pass --token, or set HERALD_TOKEN (a project API key or the admin token) or ' +
        'HERALD_ADMIN_TOKEN. Without them the CLI reads the admin token a local `herald serve` ' +
        `generated, from ${tokenFile}, which is missing, empty or unreadable: run the command in the directory ` +
        '`herald serve` was started in, or name its data directory with --data-dir or HERALD_DATA_DIR',
    );
  }
  const unsendable = token && tokenSource ? tokenProblem(token, tokenSource) : null;
  if (unsendable) throw new CommandError(unsendable);
  // Loaded here, not at start: undici, under the client, was half of `herald --version`'s CPU.
  const { HeraldClient } = await import('@herald/client');
  try {
    // Payload numbers a double cannot hold (64-bit ids) keep their digits, in --json output and in
    // what `herald listen` forwards (json-text.ts).
    return new HeraldClient({ url, token, parseJson: parseJsonExact, timeoutMs: API_TIMEOUT_MS });
  } catch (error) {
    throw new CommandError(`${urlSource}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Why `token` cannot be a Herald token (the admin token is printable ASCII without spaces, keys and
 * portal tokens base64url), or null. A typographic quote or a zero-width space copied with it, or
 * the CR of an env file's CRLF line, made the HTTP client refuse the header before sending it, and
 * the error was "no answer from Herald … Is --url a Herald server?" after three tries. Names the
 * character and its place, never the token.
 */
function tokenProblem(token: string, source: string): string | null {
  const at = token.search(/[^\x21-\x7e]/);
  if (at === -1) return null;
  const code = token.codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0');
  const where =
    source.startsWith('-') || source.startsWith('HERALD_') ? source : `the admin token in ${source}`;
  return (
    `${where}: holds U+${code} at character ${at + 1}, which no Herald token has (they are printable ASCII ` +
    'without spaces): it was not sent; copy the token again as plain text'
  );
}

/**
 * Why `url` cannot be Herald's address for the API, or null. It is Herald's root (or a proxy's
 * path prefix): the client drops a query and a fragment and appends /api/v1 to the path, so a
 * dashboard page (`/ui/…`) got its HTML for every call, and a portal link copied as the address
 * (`/ui/portal#token=hpt_…`, a credential) was quoted whole in the error that followed. As
 * HERALD_PUBLIC_URL, a query or a fragment is refused; neither is printed.
 */
function notHeraldRoot(url: URL): string | null {
  const dashboard = /^\/ui(?:\/|$)/.test(url.pathname);
  if (!dashboard && url.search === '' && url.hash === '') return null;
  const given = `${url.origin}${url.pathname}${url.search ? '?…' : ''}${url.hash ? '#…' : ''}`;
  const what = dashboard
    ? /^\/ui\/portal(?:\/|$)/.test(url.pathname)
      ? "is a portal link (a credential for a browser, not printed here), not Herald's address"
      : "is a page of Herald's dashboard, not its address"
    : "holds a query or a fragment, which Herald's address does not have";
  return `${given} ${what}: give its root URL, ${url.origin}`;
}

/** How long a call to Herald may take, its tries included (the client's default, said in noAnswer). */
const API_TIMEOUT_MS = 30_000;

/** Network errors that mean no Herald answered at the URL (nothing was sent). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * For an error of a request to Herald that never reached it (connection refused, unknown host): a
 * CommandError saying which URL was tried, where that URL came from and how to point the CLI
 * elsewhere. Null for any other error.
 */
export function unreachable(error: unknown, flags: ConnectionFlags): CommandError | null {
  let code: unknown;
  for (let e: unknown = error; e instanceof Error && code === undefined; e = e.cause) {
    const c = (e as NodeJS.ErrnoException).code;
    if (typeof c === 'string' && UNREACHABLE.has(c)) code = c;
  }
  if (code === undefined) return null;
  const { url, urlFrom } = resolveConnection(flags, cliIo().env);
  const from = urlFrom ? `from ${urlFrom}` : 'the default';
  return new CommandError(
    `cannot reach Herald at ${withoutCredentials(url)} (${from}): ${(error as Error).message || code}. ` +
      'Is `herald serve` running there? Point the CLI at another Herald with --url URL or HERALD_URL',
  );
}

/**
 * For a request that got no answer other than a refused connection (unreachable): one ran out of
 * time, a connection closed or failed its TLS handshake. A CommandError naming the URL and where it
 * came from, as unreachable does; the client's own message names neither, and its timeout as its
 * option `timeoutMs`, which the CLI has no flag for. Null for any other error. `answeredBefore`: it
 * answered this run as Herald already (listen's polls), and whether it is a Herald server is not the
 * question (until 2026-12-08 a poll cut off mid-run asked it).
 */
export function noAnswer(
  error: unknown,
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = cliIo().env, // the run's (cli-io.ts), unless a test gives one
  answeredBefore = false,
): CommandError | null {
  if (!(error instanceof HeraldNetworkError) || error.tries === 0) return null;
  const { url, urlFrom } = resolveConnection(flags, env);
  const at = `Herald at ${withoutCredentials(url)} (${urlFrom ? `from ${urlFrom}` : 'the default'})`;
  const request = `${error.request}, ${error.tries} ${error.tries === 1 ? 'try' : 'tries'}`;
  if (error.code === 'HERALD_CLIENT_TIMEOUT') {
    return new CommandError(
      `no answer from ${at} within ${API_TIMEOUT_MS / 1000} s (${request}). Is \`herald serve\` there overloaded or stuck? Its log has the requests it took`,
    );
  }
  const cause = error.cause as (Error & { code?: unknown; reason?: unknown; syscall?: unknown }) | undefined;
  if (error.notStored && (cause?.syscall === 'write' || cause?.code === 'EPIPE')) {
    // Cut off while the request was being written (the client's notStored): Herald had not all
    // of it. "Is it a Herald server?" and "may have been stored" would both mislead.
    return new CommandError(
      `${at} closed the connection before it had the whole request (${cause?.message ?? error.message}; ${request}), so it stored nothing: ` +
        'Herald does so when it refuses a request before reading its body, such as one over its HERALD_MAX_BODY_BYTES ' +
        '(1 MiB unless its operator set it), and its answer was lost with the connection',
    );
  }
  // OpenSSL's message is a line of internals (`C05C…:error:0A0000C6:SSL routines:…`); its reason is the words.
  const reason =
    typeof cause?.code === 'string' && cause.code.startsWith('ERR_SSL_') && typeof cause.reason === 'string'
      ? `TLS failed (${cause.reason}): does it serve https, or only http?`
      : (cause?.message ?? error.message);
  if (answeredBefore) {
    return new CommandError(
      `no answer from ${at}: ${reason} (${request}); it answered before: restarting, or cut off by a proxy or the network between?`,
    );
  }
  const question = urlFrom ? `Is ${urlFrom} a Herald server?` : 'Is it a Herald server (the default URL)?';
  return new CommandError(`no answer from ${at}: ${reason} (${request}). ${question}`);
}

/**
 * For an answer that is not Herald's (a 2xx body that is not JSON, or JSON of another shape than
 * Herald sends: HeraldResponseError; an error body not in Herald's `{"error": {…}}` shape, so its
 * code is `http_<status>`, or in it with a code not Herald's): a CommandError asking whether the URL is a
 * Herald server, naming where it came from. `describe` words a HeraldApiError (the flag it is about).
 * Null for any other error.
 */
export function notHerald(
  error: unknown,
  flags: ConnectionFlags,
  describe: (error: HeraldApiError) => string,
): CommandError | null {
  const { url, urlFrom } = resolveConnection(flags, cliIo().env);
  const question = urlFrom
    ? `is ${urlFrom} a Herald server?`
    : 'is it a Herald server (the default URL)? Point the CLI at one with --url URL or HERALD_URL';
  if (error instanceof HeraldResponseError) {
    const what =
      error.expected === null
        ? 'a body that is not JSON'
        : `JSON that is not Herald's answer (expected ${error.expected})`;
    return new CommandError(`${withoutCredentials(url)} answered ${error.status} with ${what}: ${question}`);
  }
  // Herald's API answers only HERALD_ERR_… codes (src/api/errors.ts). Another code in its shape is
  // someone else's: a receiver built with @herald/verify answers HERALD_VERIFY_… (--url given the
  // port of `listen --forward-to`'s receiver, both on localhost).
  if (error instanceof HeraldApiError && !error.code.startsWith('HERALD_ERR_')) {
    return new CommandError(
      `${describe(error)} (from ${withoutCredentials(url)}, an answer not in Herald's error format: ${question})`,
    );
  }
  return null;
}

/**
 * Parses a JSON flag value (or `@file`, `@-` for stdin, as `--secret-file -` reads it), naming the
 * flag, and the file, when it is not JSON, with the parser's reason and place (a trailing comma in
 * a file, the shell's quotes gone from `--data {playerId:42}`): "not valid JSON" alone left the
 * user to find it.
 */
export function jsonFlag(flag: string, value: string): unknown {
  let text = value;
  const path = value.startsWith('@') ? value.slice(1) : null;
  const file = path === '-' ? 'stdin' : path;
  if (path !== null && file !== null)
    text = readTextFile(path === '-' ? 0 : path, flag, file, { requestBody: true });
  try {
    return parseJsonExact(text);
  } catch (error) {
    const what = file === null ? 'not valid JSON' : `${file} is not valid JSON`;
    // V8 quotes the text around an unexpected token (`Unexpected token 'x', "…" is not valid
    // JSON`): left out, since --settings may hold a signing secret.
    const reason = (error as Error).message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
    throw new CommandError(`${flag}: ${what}: ${reason}`);
  }
}

/**
 * A JSON flag that must hold an object (`--settings`): `[]`, `null`, a string or a number would
 * otherwise be spread as nothing (or as indexes) and change nothing, silently.
 */
export function jsonObjectFlag(flag: string, value: string): Record<string, unknown> {
  const parsed = jsonFlag(flag, value);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw new CommandError(`${flag}: must be a JSON object ({"name": value, …}), got ${got}`);
  }
  return parsed as Record<string, unknown>;
}

/** Options apiAction checks once commander has checked the arguments (see requiredFlag). */
const AFTER_ARGUMENTS = new WeakSet<Option>();

/**
 * A required option, marked "(required)" in the help. Commander checks required options before
 * arguments, so `herald events send` alone would ask for --project before the missing <type>;
 * apiAction checks these afterwards instead, with commander's words (checkRequiredFlags).
 */
export function requiredFlag(flags: string, description: string): Option {
  const option = new Option(flags, `${description} (required)`);
  AFTER_ARGUMENTS.add(option);
  return option;
}

/**
 * Options that name what a request is about (`--project`, `listen --endpoint`), and those whose
 * empty value, taken as unset, would do something else than asked: `events send
 * --idempotency-key` (no key), `endpoints rotate-secret --secret-file` (a new secret): see
 * checkEmptyIds.
 */
const ID_FLAGS = new WeakSet<Option>();

/** Marks `option` as naming what a request is about: an empty value is refused (checkEmptyIds). */
export function idFlag(option: Option): Option {
  ID_FLAGS.add(option);
  return option;
}

/**
 * Makes an empty value of every flag of an API command count as unset (docs/cli.md), as an empty
 * variable does (`HERALD_URL=`): the flag's default (`--limit ""` lists 20 events), or no value
 * (`--grace ""`: Herald's default; `--status ""`: no filter), before commander checks choices
 * (`--callback-envelope ""`) and before a command reads it. Each command used to decide for
 * itself, and several refused it (`--limit: expected a positive integer, got `). Not for id flags
 * (idFlag), which checkEmptyIds refuses when empty.
 */
export function emptyMeansUnset(command: Command): void {
  // A mandatory option (listen --forward-to) is checked by commander before any hook: left as given.
  const valued = command.options.filter(
    (o) => (o.required || o.optional) && !o.mandatory && !ID_FLAGS.has(o),
  );
  for (const option of valued) {
    const parse = option.parseArg;
    if (parse)
      option.argParser((value: string, previous: unknown) => (value === '' ? value : parse(value, previous)));
  }
  // commander stores an empty string for a parser's undefined: put the default back afterwards.
  command.hook('preAction', () => {
    for (const option of valued) {
      const name = option.attributeName();
      if (command.getOptionValue(name) === '')
        command.setOptionValueWithSource(name, option.defaultValue, 'default');
    }
  });
}

/** `--project <project>`, which every project-scoped API command needs. */
export const projectFlag = (): Option => idFlag(requiredFlag('--project <project>', 'project id or uid'));

/**
 * The project of a command that took it as its argument before the others took `--project`
 * (`operational-events list PROJECT`, `portal-links create|revoke PROJECT`): either, `--project`
 * as every other command takes it. Checked before the action, in commander's words: neither
 * (`missing the project`), or both and different. The action gets it as its argument.
 */
export function projectArgumentOrFlag(command: Command): Command {
  return command
    .argument('[project]', 'project id or uid (or --project)')
    .addOption(idFlag(new Option('--project <project>', 'project id or uid (or as the argument)')))
    .hook('preAction', (_program, action) => {
      const argument = action.processedArgs[0] as string | undefined;
      const flag = action.getOptionValue('project') as string | undefined;
      if (argument === undefined && flag === undefined) {
        action.error('error: missing the project: give it as --project <project> (or as the argument)', {
          code: 'commander.missingArgument',
        });
      }
      // An empty one is named by checkEmptyIds, as elsewhere.
      if (argument && flag && argument !== flag) {
        action.error(
          `error: the project is given twice, as <project> (${argument}) and --project (${flag}): give it once`,
          { code: 'commander.invalidArgument' },
        );
      }
      if (argument === undefined && flag !== '') action.processedArgs[0] = flag;
    });
}

/**
 * Refuses, before any request, an empty argument (`<endpoint>`, `<type>`) or id flag (idFlag:
 * `--project`) of `command`, naming it as typed: `<endpoint>: must not be empty`. Unlike the other
 * flags, which count as unset when empty, these name what the request is about (usually an unset
 * variable: `--project "$PROJECT"`): sent, an empty id would be an empty path segment, refused in
 * the API's words (`params.endpoint: must not be empty`) or as `404 project not found`.
 */
export function checkEmptyIds(command: Command): void {
  for (const [index, argument] of command.registeredArguments.entries()) {
    if (command.processedArgs[index] === '') {
      throw new CommandError(`<${argument.name()}>: must not be empty`);
    }
  }
  for (const option of command.options) {
    if (ID_FLAGS.has(option) && command.getOptionValue(option.attributeName()) === '') {
      throw new CommandError(`${option.long}: must not be empty`);
    }
  }
}

/** Exits as commander does for a missing required option when a requiredFlag was not given. */
export function checkRequiredFlags(command: Command): void {
  for (const option of command.options) {
    if (AFTER_ARGUMENTS.has(option) && command.getOptionValue(option.attributeName()) === undefined) {
      command.error(`error: required option '${option.flags}' not specified`, {
        code: 'commander.missingMandatoryOptionValue',
      });
    }
  }
}

/**
 * `--types a,b` as an event-type filter. An empty item (`a,,b`, `,`, ` , `) is refused naming the
 * flag: dropping it could leave no type at all, which the API reads as every type. `otherwise`
 * says how this command asks for every type (`for every type, leave out --types`).
 */
export function typeListFlag(value: string, otherwise: string): string[] {
  const types = value.split(',').map((t) => t.trim());
  const empty = types.indexOf('');
  if (empty !== -1) {
    throw new CommandError(
      `--types: item ${empty + 1} of ${JSON.stringify(value)} is empty: list event types separated by commas (a,b); ${otherwise}`,
    );
  }
  return types;
}

/** A whole-number option with a default, shown as a number in the help (`(default: 20)`). */
export const countFlag = (flags: string, description: string, fallback: number): Option =>
  new Option(flags, description).default(fallback);

/** A flag that must be a whole number of at least 1, named when it is not. */
export function positiveInt(flag: string, value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CommandError(`${flag}: expected a positive integer, got ${value}`);
  return n;
}

/** The longest wait a Node timer holds (2^31-1 ms, ~24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A flag in milliseconds that a timer waits: positiveInt, and at most MAX_TIMER_MS, named when not. */
export function timerMs(flag: string, value: string | number): number {
  const ms = positiveInt(flag, value);
  if (ms > MAX_TIMER_MS) {
    throw new CommandError(`${flag}: must be at most ${MAX_TIMER_MS} ms (24.8 days), got ${value}`);
  }
  return ms;
}
