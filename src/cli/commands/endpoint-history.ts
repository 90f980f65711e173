/**
 * `herald endpoints attempts|stats|recover|replay`: an endpoint's delivery history, its attempts per
 * time bucket as a chart in the terminal, sending its failed deliveries again, and the events it
 * missed.
 */
import type { Attempt, AttemptQuery, StatsBucket, StatsBucketSize } from '@herald/client';
import { HeraldApiError } from '@herald/client/errors';
import type { Command } from 'commander';
import { counted } from '../../domain/counted.ts';
import {
  type ConnectionFlags,
  countFlag,
  positiveInt,
  projectFlag,
  requiredFlag,
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
  sayMore,
} from '../print.ts';
import { CommandError } from '../run-command.ts';
import { shellWord } from '../shell-word.ts';

interface AttemptsFlags extends ConnectionFlags {
  project: string;
  status?: string;
  type?: string;
  since?: string;
  until?: string;
  limit: string | number;
  cursor?: string;
  json?: boolean;
}

interface StatsFlags extends ConnectionFlags {
  project: string;
  since?: string;
  until?: string;
  bucket?: string;
  json?: boolean;
}

/** The width of the longest bar of `endpoints stats`. */
const BAR_WIDTH = 40;

export function addEndpointHistoryCommands(endpoints: Command): void {
  withConnectionFlags(
    endpoints
      .command('attempts')
      .description("the endpoint's delivery history, newest first: one line per attempt")
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option('--status <status>', 'only succeeded or failed attempts')
      .option('--type <type>', 'only attempts of this event type')
      .option('--since <time>', 'ISO-8601 time or epoch ms')
      .option('--until <time>', 'ISO-8601 time or epoch ms')
      .addOption(countFlag('--limit <n>', 'at most this many', 20))
      .option('--cursor <cursor>', 'start where a page ended: its nextCursor (from --json)')
      .option('--json', 'print the page as JSON, requests and responses included, with nextCursor'),
  ).action(
    apiAction<AttemptsFlags>(async (client, flags, [id]) => {
      if (flags.status !== undefined && flags.status !== 'succeeded' && flags.status !== 'failed') {
        throw new CommandError(`--status: expected succeeded or failed, got ${flags.status}`);
      }
      const limit = positiveInt('--limit', flags.limit);
      const query: AttemptQuery = { limit };
      if (flags.status) query.status = flags.status as AttemptQuery['status'];
      if (flags.type) query.eventType = flags.type;
      if (flags.since) query.since = flags.since;
      if (flags.until) query.until = flags.until;
      const page = (limit: number, cursor?: string) =>
        client.listEndpointAttempts(flags.project, id, { ...query, limit, ...(cursor ? { cursor } : {}) });
      if (flags.json) printJson(await page(pageSize(limit), flags.cursor));
      else {
        const line = (attempt: Attempt) => printLine(attemptLine(attempt));
        const stopped = await eachUpTo(limit, page, line, flags.cursor);
        if (stopped.written === 0)
          sayEmpty(
            `no attempts of ${id}${narrowedBy(flags, ['status', 'type', 'since', 'until', 'cursor'])}`,
          );
        else sayMore(stopped, 'attempts', flags.cursor);
      }
    }),
  );
  withConnectionFlags(
    endpoints
      .command('stats')
      .description('attempts per time bucket, succeeded (█) and failed (░), with durations')
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option('--since <time>', 'ISO-8601 time or epoch ms (default 24 h ago)')
      .option('--until <time>', 'ISO-8601 time or epoch ms (default now)')
      .option('--bucket <size>', '1m, 5m, 15m, 1h (default), 6h or 1d')
      .option('--json', 'print the buckets as JSON'),
  ).action(
    apiAction<StatsFlags>(async (client, flags, [id]) => {
      const stats = await client.endpointStats(flags.project, id, {
        ...(flags.since ? { since: flags.since } : {}),
        ...(flags.until ? { until: flags.until } : {}),
        // Checked by the server: another size is its 400 naming the allowed ones.
        ...(flags.bucket ? { bucket: flags.bucket as StatsBucketSize } : {}),
      });
      if (flags.json) printJson(stats);
      else {
        const chart = statsChart(stats.data);
        // As an empty list: nothing on stdout, the reason on stderr (docs/cli.md).
        if (chart === '') sayEmpty(`no attempts of ${id} ${statsRangeWords(flags)}`);
        for (const line of chart.split('\n').slice(0, -1)) printLine(line);
      }
    }),
  );
  rangeLever(
    endpoints,
    'recover',
    'send again every failed delivery of the endpoint created in a time range',
  ).action(
    apiAction<RangeFlags>(async (client, flags, [id]) => {
      const result = await enabledFirst(client.recoverEndpoint(flags.project, id, rangeOf(flags)), id, flags);
      printLine(`${id}: ${counted(result.recovered, 'failed deliveries')} due again`);
      if (result.nextSince) printLine(leftLine('recover', result.nextSince, flags.until));
    }),
  );
  rangeLever(
    endpoints,
    'replay',
    'send the endpoint the events of a time range it has no delivery for (created before it, or before its filter took their type)',
  ).action(
    apiAction<RangeFlags>(async (client, flags, [id]) => {
      const result = await enabledFirst(client.replayEndpoint(flags.project, id, rangeOf(flags)), id, flags);
      printLine(`${id}: ${counted(result.replayed, 'events')} replayed`);
      if (result.nextSince) printLine(leftLine('replay', result.nextSince, flags.until));
    }),
  );
}

type RangeFlags = ConnectionFlags & { project: string; since: string; until?: string };

/**
 * A replay or recover cut short (out of time, about 20 s a request, or the endpoint disabled
 * meanwhile; for a replay also the server's per-request limit): the same command from where it
 * stopped, over the same range, goes on.
 */
export function leftLine(lever: 'replay' | 'recover', nextSince: string, until: string | undefined): string {
  return `more to ${lever}: run again with --since ${nextSince}${until ? ` --until ${until}` : ''}`;
}

/**
 * A lever's answer, or, when the endpoint is disabled (before the request, or while it ran and
 * before it changed anything), the API's 409 with the command that enables it: the same command
 * then does what it was asked. A replay disabled so answered "0 events replayed" and "more to
 * replay: run again", which only did the same (before 2026-12-06).
 */
async function enabledFirst<T>(answer: Promise<T>, id: string, flags: RangeFlags): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof HeraldApiError && error.code === 'HERALD_ERR_ENDPOINT_DISABLED') {
      throw new CommandError(
        `${error.message} (\`herald endpoints enable ${shellWord(id)} --project ${shellWord(flags.project)}\`, then run this again)`,
      );
    }
    throw error;
  }
}

/** `herald endpoints NAME <endpoint> --project --since [--until]`: a lever over a time range. */
function rangeLever(endpoints: Command, name: string, description: string): Command {
  return withConnectionFlags(
    endpoints
      .command(name)
      .description(description)
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .addOption(requiredFlag('--since <time>', 'ISO-8601 time or epoch ms'))
      .option('--until <time>', 'ISO-8601 time or epoch ms (default now)'),
  );
}

const rangeOf = (flags: RangeFlags) => ({
  since: flags.since,
  ...(flags.until ? { until: flags.until } : {}),
});

/**
 * `att_… 2026-…Z succeeded 200 12 ms #1 player.paid evt_…`, or the error kind when there was no
 * response; `player.paid (test)` for an attempt of a test event, as `events list` marks the event.
 * An attempt does not carry its event's flag, but its request does: Herald sends `webhook-test:
 * true` on every request of a test event and on no other (no custom header may take that name).
 */
export function attemptLine(a: Attempt): string {
  const result = a.response ? String(a.response.status) : (a.error?.kind ?? 'no response');
  const test = a.request?.headers?.['webhook-test'] === 'true' ? ' (test)' : '';
  return `${a.id} ${a.startedAt} ${a.outcome} ${result} ${Math.round(a.durationMs)} ms #${a.number} ${a.eventType}${test} ${a.eventId}`;
}

/**
 * The range `endpoints stats` read, in words, as its flags set it: the API reads the 24 hours
 * before `until` (default now) when `since` is not given. "between --since and --until" said an end
 * that was not given, and neither time.
 */
export function statsRangeWords(flags: { since?: string; until?: string }): string {
  if (flags.since && flags.until) return `between ${flags.since} and ${flags.until}`;
  if (flags.since) return `since ${flags.since}`;
  if (flags.until) return `in the 24 hours before ${flags.until}`;
  return 'in the last 24 hours';
}

/**
 * One line per bucket that had attempts: its start, the counts, the durations, and a bar whose
 * length is the bucket's attempts against the busiest bucket's; '' when no bucket had any.
 */
export function statsChart(buckets: readonly StatsBucket[]): string {
  const busy = buckets.filter((b) => b.succeeded + b.failed > 0);
  if (busy.length === 0) return '';
  const most = Math.max(...busy.map((b) => b.succeeded + b.failed));
  const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)}`);
  const lines = busy.map((b) => {
    const ok = Math.round((b.succeeded / most) * BAR_WIDTH);
    const failed = b.failed > 0 ? Math.max(1, Math.round((b.failed / most) * BAR_WIDTH)) : 0;
    return `${b.start}  ${String(b.succeeded).padStart(7)} ok ${String(b.failed).padStart(6)} failed  avg ${ms(b.avgDurationMs).padStart(5)} ms  p95 ${ms(b.p95DurationMs).padStart(5)} ms  ${'█'.repeat(ok)}${'░'.repeat(failed)}`;
  });
  return `${lines.join('\n')}\n`;
}
