/**
 * Herald's refusals in the words of the command line: the API names the request field it refused
 * (`querystring.since`, `body.name`, `body.headers.X-A`); the user typed a flag or an argument.
 */
import type { HeraldApiError } from '@herald/client';
import type { Command } from 'commander';

/** Flags of every API command that are about the connection, never about the request. */
const CONNECTION_FLAGS = new Set(['--url', '--token', '--data-dir']);

/** API field names whose flag is not the same name in kebab case. */
const RENAMED: Record<string, string> = {
  eventType: '--type',
  eventTypes: '--types',
  payload: '--data',
  graceSeconds: '--grace',
  // `endpoints update`: --url is the Herald to talk to.
  url: '--endpoint-url',
};

/** What a command says about the API fields beyond its body and query string. */
export interface FieldSources {
  /**
   * Path parameters the command takes from its flag or argument of the same name: `herald listen`
   * has `params.project` and `params.endpoint` from `--project` and `--endpoint`.
   */
  params?: readonly string[];
}

/**
 * The flag (`--since`) or argument (`<name>`) of `command` that gave the API's `field`, or null
 * when none did. Body fields that no flag names come from `--settings` when the command has it.
 */
export function flagForField(field: string, command: Command, sources: FieldSources = {}): string | null {
  const match = /^(body|querystring|params)\.([^.]+)/.exec(field);
  if (!match) return null;
  const [, where, name = ''] = match;
  if (where === 'params' && !sources.params?.includes(name)) return null;
  if (command.registeredArguments.some((argument) => argument.name() === name)) return `<${name}>`;
  const given = flags(command);
  const kebab = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const flag of [Object.hasOwn(RENAMED, name) ? RENAMED[name] : undefined, kebab]) {
    if (flag && given.has(flag)) return flag;
  }
  if (where === 'body' && given.has('--settings')) return '--settings';
  return null;
}

/**
 * The flag given to `command` that fills most of its request body (`--data`, the payload, or
 * `--settings`), which a body over HERALD_MAX_BODY_BYTES is too large by; null when none was given.
 */
function bulkFlag(command: Command): string | null {
  const given = flags(command);
  const flag = ['--data', '--settings'].find(
    (name) => given.has(name) && command.getOptionValue(name.slice(2)) !== undefined,
  );
  return flag ?? null;
}

/** The long flags of `command` that are about the request (not the connection). */
const flags = (command: Command): Set<string | undefined> =>
  new Set(command.options.map((option) => option.long).filter((long) => long && !CONNECTION_FLAGS.has(long)));

/**
 * The line a refused request prints: `400 HERALD_ERR_VALIDATION: --since: must be …`, the API's
 * field after the flag when it says more than the flag does (`--types (body.eventTypes.1): …`,
 * `--settings (body.headers.X-A): …`). Errors about no flag stay as the API words them.
 */
export function describeApiError(
  error: HeraldApiError,
  command: Command,
  sources: FieldSources = {},
): string {
  const field = (error.details as { field?: unknown } | null | undefined)?.field;
  if (typeof field !== 'string') return error.message;
  const flag =
    field === 'body' && error.code === 'HERALD_ERR_BODY_TOO_LARGE'
      ? bulkFlag(command)
      : flagForField(field, command, sources);
  if (!flag) return error.message;
  const head = `${error.status} ${error.code}: `;
  const message = error.message.startsWith(head) ? error.message.slice(head.length) : error.message;
  let reason = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  // `until` is the API's field (`must not be after until`, stats' `must be at most 90 days before
  // until`): the flag, or the default it took (now) when no --until was given.
  if (flag === '--since' && / (?:after|before) until$/.test(reason) && flags(command).has('--until')) {
    reason = reason.replace(
      /until$/,
      command.getOptionValue('until') ? '--until' : 'now (the default --until)',
    );
  }
  const plain = flag !== '--settings' && /^(body|querystring|params)\.[^.]+$/.test(field);
  return `${head}${flag}${plain ? '' : ` (${field})`}: ${reason}`;
}
