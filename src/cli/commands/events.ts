/** `herald events send|list|get` and `herald deliveries get|retry`: events through a running Herald's API. */
import { constants as osConstants } from 'node:os';
import type { Attempt, EventInput, EventSummary, HeraldEvent, Json } from '@herald/client';
import { HeraldApiError } from '@herald/client/errors';
import { Command, Option } from 'commander';
import { counted } from '../../domain/counted.ts';
import {
  type ConnectionFlags,
  countFlag,
  idFlag,
  jsonFlag,
  positiveInt,
  projectFlag,
  withConnectionFlags,
} from '../api-connection.ts';
import { cliIo } from '../cli-io.ts';
import {
  apiAction,
  eachUpTo,
  narrowedBy,
  pageSize,
  printJson,
  printLine,
  reportOutput,
  sayEmpty,
  sayLine,
  sayMore,
} from '../print.ts';
import { CommandError } from '../run-command.ts';
import { sentWithoutAnswer } from '../sent-without-answer.ts';

interface SendFlags extends ConnectionFlags {
  project: string;
  data?: string;
  test?: boolean;
  idempotencyKey?: string;
  callbackUrl?: string;
  callbackEnvelope?: 'standard' | 'event-data' | 'raw';
  json?: boolean;
}

interface ListFlags extends ConnectionFlags {
  project: string;
  type?: string;
  since?: string;
  until?: string;
  idempotencyKey?: string;
  limit: string | number;
  cursor?: string;
  json?: boolean;
}

export function eventsCommand(): Command {
  const events = new Command('events').description(
    'send and read events (through the API of a running Herald)',
  );
  withConnectionFlags(
    events
      .command('send')
      .description('send one event; prints its id and the deliveries it fanned out to')
      .argument('<type>', 'event type, e.g. player.purchase')
      .addOption(projectFlag())
      .option('--data <json>', 'payload as JSON, or @FILE (@- for stdin; default {})')
      .option('--test', 'a test event: delivered to dev endpoints only')
      // Empty is refused, not taken as no key (an unset `"$ORDER_ID"`): each retry would store it again.
      .addOption(
        idFlag(new Option('--idempotency-key <key>', 'the same key within 24 h returns the original event')),
      )
      .option('--callback-url <url>', 'also deliver this event to this URL')
      .addOption(
        new Option('--callback-envelope <envelope>', "that delivery's envelope (default standard)").choices([
          'standard',
          'event-data',
          'raw',
        ]),
      )
      .option('--json', 'print the event as JSON'),
  ).action(
    apiAction<SendFlags>(async (client, flags, [type]) => {
      const input: EventInput = {
        type,
        payload: (flags.data ? jsonFlag('--data', flags.data) : {}) as Json,
      };
      if (flags.test) input.test = true;
      // Without --idempotency-key the event gets a key of its own (`auto-…`), so that a request
      // whose answer was lost is sent again without storing the event twice.
      const ownKey = Boolean(flags.idempotencyKey);
      if (flags.idempotencyKey) input.idempotencyKey = flags.idempotencyKey;
      if (flags.callbackUrl) input.callbackUrl = flags.callbackUrl;
      if (flags.callbackEnvelope) {
        // The API would refuse it naming its own field, body.callbackEnvelope: named here as typed.
        if (!flags.callbackUrl) throw new CommandError('--callback-envelope needs --callback-url');
        input.callbackEnvelope = flags.callbackEnvelope;
      }
      // client.sendEvent, keeping the answer's headers: a repeated idempotency key is answered with
      // the original event and `idempotent-replayed: true` (docs/api.md), which the user is told.
      let replayed = false;
      /** Why a try before the answered one may have stored the event (null: none may have). */
      let resent: 'a network error' | 'a 503 (database unavailable)' | null = null;
      const { withIdempotencyKey } = await import('@herald/client'); // loaded with the client by now
      const body = withIdempotencyKey(input);
      // Ctrl-C (or a stop) before the answer, Herald slow or stuck: the event may have been stored,
      // under a key the user never saw. Without it, sending again would store it twice.
      const stoppedWaiting = (signal: NodeJS.Signals) => {
        cliIo().stderr.write(
          `herald: stopped by ${signal} before Herald answered: the event may have been stored: to send it again without storing it twice, add --idempotency-key ${body.idempotencyKey}\n`,
        );
        process.exit(128 + osConstants.signals[signal]);
      };
      if (!ownKey) process.once('SIGINT', stoppedWaiting).once('SIGTERM', stoppedWaiting);
      const event = await client
        .request<HeraldEvent>('POST', `/projects/${encodeURIComponent(flags.project)}/events`, {
          body,
          repeatable: true,
          expect: { object: { id: 'string' } },
          onHeaders: (headers, sent) => {
            replayed = headers['idempotent-replayed'] === 'true';
            // A 503 HERALD_ERR_DATABASE_UNAVAILABLE may have stored it too: its commit went through
            // without its answer (docs/api.md), and the client sent it again after Retry-After.
            resent = sent.afterNetworkError
              ? 'a network error'
              : sent.afterDatabaseUnavailable
                ? 'a 503 (database unavailable)'
                : null;
          },
        })
        .catch((error: unknown) => {
          // Sent, and no answer even after the client's tries: Herald may have stored it. Sent
          // again by hand with the key it went with, it is stored once; without, a new automatic
          // key would store it twice.
          // So too after a 5xx: the last try's answer does not say what the ones before it did
          // (a 503 whose commit may have gone through, details.stored "unknown", then 503s of a
          // database still out of reach), and a 500 may come after a commit.
          const lost = ownKey ? null : sentWithoutAnswer(error, flags);
          if (!lost) throw error;
          throw new CommandError(
            `${lost.message.replace(/[.?!]?$/, (end) => end || '.')} The event may have been stored: to send it again without storing it twice, add --idempotency-key ${body.idempotencyKey}`,
          );
        })
        .finally(() => process.off('SIGINT', stoppedWaiting).off('SIGTERM', stoppedWaiting));
      // Stored by now: a stdout that cannot take it is no failure, which would have it sent twice.
      await reportOutput(flags.json ? { json: event } : { lines: eventLines(event) }, 'the event sent');
      if (replayed && (resent || !ownKey)) {
        // The first try was stored before its answer was lost: the event above is this call's (and
        // always so with a key of the CLI's own, which no other call has).
        sayLine(
          `the request was sent again after ${resent ?? 'an unanswered try'} and Herald answered with the event its first try had stored (above${ownKey ? `, --idempotency-key ${input.idempotencyKey}` : ''}): stored once`,
        );
      } else if (replayed) {
        sayLine(
          `idempotent replay: --idempotency-key ${input.idempotencyKey} was used within the last 24 h, so Herald answered with that original event (above) and created and delivered nothing new`,
        );
      }
    }),
  );
  withConnectionFlags(
    events
      .command('list')
      .description('the newest events of a project (`events get` shows one with its deliveries)')
      .addOption(projectFlag())
      .option('--type <type>', 'only this event type')
      .option('--since <time>', 'ISO-8601 time or epoch ms')
      .option('--until <time>', 'ISO-8601 time or epoch ms')
      .option(
        '--idempotency-key <key>',
        'only the events sent with this key, however long ago (looks at 10,000 events per page: give --since to go faster)',
      )
      .addOption(countFlag('--limit <n>', 'at most this many', 20))
      .option('--cursor <cursor>', 'start where a page ended: its nextCursor (from --json)')
      .option('--json', 'print the page as JSON, with nextCursor for the next one'),
  ).action(
    apiAction<ListFlags>(async (client, flags) => {
      const limit = positiveInt('--limit', flags.limit);
      const page = (limit: number, cursor?: string) =>
        client.listEvents(flags.project, {
          limit,
          ...(flags.type ? { type: flags.type } : {}),
          ...(flags.since ? { since: flags.since } : {}),
          ...(flags.until ? { until: flags.until } : {}),
          ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
          ...(cursor ? { cursor } : {}),
        });
      if (flags.json) {
        printJson(await page(pageSize(limit), flags.cursor));
        return;
      }
      const stopped = await eachUpTo(limit, page, printEvent, flags.cursor);
      if (stopped.written === 0)
        sayEmpty(
          `no events in ${flags.project}${narrowedBy(flags, ['type', 'since', 'until', 'idempotencyKey', 'cursor'])}`,
        );
      else sayMore(stopped, 'events', flags.cursor);
    }),
  );
  withConnectionFlags(
    events
      .command('get')
      .description('one event with its deliveries and their attempts so far')
      .argument('<event>', 'event id')
      .addOption(projectFlag())
      .addOption(countFlag('--attempts <n>', 'include at most this many attempts, newest first', 100))
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<ConnectionFlags & { project: string; attempts: string | number }>(
      async (client, flags, [id]) => {
        const most = positiveInt('--attempts', flags.attempts);
        const event = await client.getEvent(flags.project, id);
        const attempts: Attempt[] = [];
        const page = (limit: number, cursor?: string) =>
          client.listEventAttempts(flags.project, id, { limit, ...(cursor ? { cursor } : {}) });
        const stopped = await eachUpTo(most, page, (attempt) => attempts.push(attempt));
        printJson({ ...event, attempts });
        if (stopped.nextCursor !== null)
          sayLine(
            `the event has more than ${counted(stopped.written, 'attempts')}; "attempts" holds the newest ${stopped.written}: --attempts N for more`,
          );
      },
    ),
  );
  return events;
}

export function deliveriesCommand(): Command {
  const deliveries = new Command('deliveries').description('read and act on deliveries (through the API)');
  withConnectionFlags(
    deliveries
      .command('get')
      .description(
        'one delivery: its status, attempts so far, next attempt and whether one is in flight (without the rest of its event)',
      )
      .argument('<delivery>', 'delivery id')
      .addOption(projectFlag())
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<ConnectionFlags & { project: string }>(async (client, flags, [id]) => {
      printJson(await client.getDelivery(flags.project, id));
    }),
  );
  withConnectionFlags(
    deliveries
      .command('retry')
      .description(
        'make a delivery due now, whatever its state (a failed or succeeded one is sent again); not while its endpoint is disabled: `endpoints enable` it first',
      )
      .argument('<delivery>', 'delivery id')
      .addOption(projectFlag()),
  ).action(
    apiAction<ConnectionFlags & { project: string }>(async (client, flags, [id]) => {
      try {
        await client.retryDelivery(flags.project, id);
      } catch (error) {
        // A parked delivery belongs to a disabled endpoint: enabling it sends the parked ones.
        const endpoint = (error as HeraldApiError).details as { endpointId?: unknown } | undefined;
        if (
          error instanceof HeraldApiError &&
          error.code === 'HERALD_ERR_ENDPOINT_DISABLED' &&
          typeof endpoint?.endpointId === 'string'
        ) {
          throw new CommandError(
            `${error.message} (\`herald endpoints enable ${endpoint.endpointId} --project ${flags.project}\` makes its parked deliveries due)`,
          );
        }
        throw error;
      }
      printLine(`${id}: due now`);
    }),
  );
  return deliveries;
}

/** One line per event, and one indented line per delivery when the event has them. */
function printEvent(event: EventSummary | HeraldEvent): void {
  for (const line of eventLines(event)) printLine(line);
}

function eventLines(event: EventSummary | HeraldEvent): string[] {
  const deliveries = 'deliveries' in event ? (event as HeraldEvent).deliveries : [];
  const lines = [`${event.id} ${event.type}${event.test ? ' (test)' : ''} ${event.createdAt}`];
  for (const d of deliveries) lines.push(`  ${d.id} ${d.status} → ${d.url}`);
  return lines;
}
