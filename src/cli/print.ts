/** What the API commands share: a client for the run of one command, and JSON output. */
import type { HeraldClient } from '@herald/client';
import { HeraldApiError } from '@herald/client/errors';
import type { Command } from 'commander';
import { resolveConnection } from '../config/client-connection.ts';
import { counted } from '../domain/counted.ts';
import {
  type ConnectionFlags,
  checkEmptyIds,
  checkRequiredFlags,
  connect,
  noAnswer,
  notHerald,
  unreachable,
} from './api-connection.ts';
import { describeApiError } from './api-errors.ts';
import { cliIo } from './cli-io.ts';
import { CommandError, runCommand } from './run-command.ts';
import { visible } from './terminal-text.ts';
import { reportText } from './work-report.ts';

/**
 * One line of human output on stdout, its control characters made visible (terminal-text.ts):
 * every line that may hold what a tenant or a server wrote goes through here.
 */
export function printLine(text: string): void {
  cliIo().stdout.write(`${visible(text)}\n`);
}

/** One line on stderr, `herald: ` first, its control characters made visible. */
export function sayLine(text: string): void {
  cliIo().stderr.write(`herald: ${visible(text)}\n`);
}

export function printJson(value: unknown): void {
  cliIo().stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * As printLine for each of `lines`, or printJson for `json`, for what a command did (`what`, as
 * `the event sent`): when stdout cannot take it, it follows on stderr and the exit code stays the
 * command's (work-report.ts), as a failure would have it done twice when run again.
 */
export function reportOutput(
  output: { lines: readonly string[] } | { json: unknown },
  what: string,
): Promise<void> {
  return reportText(
    'json' in output
      ? `${JSON.stringify(output.json, null, 2)}\n`
      : output.lines.map((line) => `${visible(line)}\n`).join(''),
    what,
  );
}

/** The largest `?limit` the API takes (docs/api.md "Ids, times, pagination"). */
export const API_PAGE_MAX = 1000;

/** The page size to ask for when `wanted` items are still to come: never above the API's maximum. */
export const pageSize = (wanted: number): number => Math.min(wanted, API_PAGE_MAX);

/** Where eachUpTo stopped: how many items it wrote, and the cursor of the rest when there is more. */
export interface Written {
  written: number;
  /** Goes on after the last item written; null when the list ended (no --limit cut it). */
  nextCursor: string | null;
}

/**
 * Writes up to `limit` items, one `line` each, following `nextCursor` (from `cursor` when given):
 * a page of large events, attempts or endpoints may hold fewer items than its limit (the API's
 * byte budget per page), and none holds more than API_PAGE_MAX. Resolves to how many it wrote and,
 * when it stopped at `limit` before the end, the cursor to go on from (for sayMore).
 */
export async function eachUpTo<T>(
  limit: number,
  page: (limit: number, cursor?: string) => Promise<{ data: T[]; nextCursor: string | null }>,
  line: (item: T) => void,
  startCursor?: string,
): Promise<Written> {
  let cursor = startCursor;
  let written = 0;
  for (let left = limit; left > 0; ) {
    const p = await page(pageSize(left), cursor);
    for (const item of p.data) line(item);
    written += p.data.length;
    left -= p.data.length;
    if (!p.nextCursor) return { written, nextCursor: null };
    cursor = p.nextCursor;
  }
  return { written, nextCursor: cursor ?? null };
}

/**
 * What a list command says when it stopped at its --limit before the end of the list: one line on
 * stderr (stdout keeps only the items), with the cursor that goes on after the last one printed:
 * `herald: showing the first 100 endpoints; there are more: --limit N for more, or --cursor <c>
 * for the next ones`. Nothing when the list ended.
 */
export function sayMore(stopped: Written, what: string, fromCursor?: string): void {
  if (stopped.nextCursor === null) return;
  const which = fromCursor === undefined ? 'the first' : 'the next';
  sayLine(
    `showing ${which} ${counted(stopped.written, what)}; there are more: --limit N for more, or --cursor ${stopped.nextCursor} for the next ones`,
  );
}

/**
 * What a list command prints when it found nothing (not with --json, whose empty list says it):
 * one line on stderr, so that a script reading the list still gets nothing, and exit code 0.
 */
export function sayEmpty(what: string): void {
  sayLine(what);
}

/**
 * For sayEmpty, the flags among `names` that narrowed the list: ` matching --type, --since`, and
 * ` after --cursor` when a cursor was given; '' when none was.
 */
export function narrowedBy(flags: object, names: readonly string[]): string {
  // An empty flag counts as unset (as everywhere in the CLI): it narrowed nothing.
  const given = names.filter((name) => {
    const value = (flags as Record<string, unknown>)[name];
    return value !== undefined && !(typeof value === 'string' && value.trim() === '');
  });
  // Flags by their commander names (idempotencyKey), printed as typed (--idempotency-key).
  const filters = given
    .filter((name) => name !== 'cursor')
    .map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  return `${filters.length > 0 ? ` matching ${filters.join(', ')}` : ''}${given.includes('cursor') ? ' after --cursor' : ''}`;
}

/**
 * A commander action for an API command: `body` gets a client for the flags' Herald (closed
 * afterwards, whatever happens), the flags and the positional argument (each command takes at
 * most one); failures go through runCommand (one line on stderr, exit code 1), a refusal of the
 * API naming the flag or argument it came from rather than the API's field (api-errors.ts). An
 * empty argument or id flag is refused before anything is sent (checkEmptyIds).
 */
export function apiAction<F extends ConnectionFlags>(
  body: (client: HeraldClient, flags: F, args: [string]) => Promise<void>,
): (...commanderArgs: unknown[]) => Promise<void> {
  return (...commanderArgs) => {
    // commander passes the positional arguments, then the options, then the command.
    const command = commanderArgs[commanderArgs.length - 1] as Command;
    const flags = commanderArgs[commanderArgs.length - 2] as F;
    const args = commanderArgs.slice(0, -2) as [string];
    checkRequiredFlags(command);
    return runCommand(async () => {
      checkEmptyIds(command);
      const client = await connect(flags);
      try {
        await body(client, flags, args);
      } catch (error) {
        const describe = (e: HeraldApiError) => describeApiError(e, command);
        const foreign = notHerald(error, flags, describe);
        if (foreign) throw foreign;
        if (error instanceof HeraldApiError) {
          const refused = error.status === 401 ? tokenSent(flags) : '';
          throw new CommandError(`${describe(error)}${refused}`);
        }
        throw unreachable(error, flags) ?? noAnswer(error, flags) ?? error;
      } finally {
        await client.close();
      }
    });
  };
}

/**
 * For a 401: which token was sent, found in one of four places (connection flags, HERALD_TOKEN,
 * HERALD_ADMIN_TOKEN, the admin token a local serve saved) without a word. A revoked key in
 * HERALD_TOKEN shadowing a good HERALD_ADMIN_TOKEN, or the admin token of an earlier `herald serve`
 * left in ./herald-data, got a bare 401 and nothing to go on. Names the place, never the token.
 * `herald listen` words its 401s with it too (commands/listen.ts).
 */
export function tokenSent(flags: ConnectionFlags): string {
  const { tokenSource, adminTokenShadowed } = resolveConnection(flags, cliIo().env);
  if (tokenSource === null) return '';
  if (tokenSource === 'HERALD_TOKEN' && adminTokenShadowed) {
    return ": the token sent was HERALD_TOKEN's (HERALD_ADMIN_TOKEN is set too, and comes after it)";
  }
  if (tokenSource.startsWith('-') || tokenSource.startsWith('HERALD_'))
    return `: the token sent was ${tokenSource}'s`;
  return (
    `: the token sent was the admin token saved in ${tokenSource} (by a herald serve started on that data ` +
    'directory without HERALD_ADMIN_TOKEN), which this Herald does not take: pass --token or set HERALD_TOKEN'
  );
}
