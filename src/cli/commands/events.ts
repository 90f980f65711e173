/** `herald events send|list|get` and `herald deliveries retry`: events through a running Herald's API. */
import type { EventInput, HeraldEvent } from '@herald/client';
import { Command } from 'commander';
import { type ConnectionFlags, connect, jsonFlag, withConnectionFlags } from '../api-connection.ts';
import { printJson, withClient } from '../print.ts';
import { CommandError, runCommand } from '../run-command.ts';

interface SendFlags extends ConnectionFlags {
  project: string;
  data?: string;
  test?: boolean;
  idempotencyKey?: string;
  callbackUrl?: string;
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
      .requiredOption('--project <project>', 'project id or uid')
      .option('--data <json>', 'payload as JSON, or @FILE (default {})')
      .option('--test', 'a test event: delivered to dev endpoints only')
      .option('--idempotency-key <key>', 'the same key within 24 h returns the original event')
      .option('--callback-url <url>', 'also deliver this event to this URL')
      .option('--json', 'print the event as JSON'),
  ).action((type: string, flags: SendFlags) =>
    runCommand(() =>
      withClient(connect(flags), async (client) => {
        const input: EventInput = {
          type,
          payload: (flags.data ? jsonFlag('--data', flags.data) : {}) as never,
        };
        if (flags.test) input.test = true;
        if (flags.idempotencyKey) input.idempotencyKey = flags.idempotencyKey;
        if (flags.callbackUrl) input.callbackUrl = flags.callbackUrl;
        const event = await client.sendEvent(flags.project, input);
        if (flags.json) printJson(event);
        else printEvent(event);
      }),
    ),
  );
  withConnectionFlags(
    events
      .command('list')
      .description('the newest events of a project, with their deliveries')
      .requiredOption('--project <project>', 'project id or uid')
      .option('--type <type>', 'only this event type')
      .option('--since <time>', 'ISO-8601 time or epoch ms')
      .option('--limit <n>', 'at most this many (default 20)', '20')
      .option('--json', 'print the page as JSON'),
  ).action(
    (
      flags: ConnectionFlags & {
        project: string;
        type?: string;
        since?: string;
        limit: string;
        json?: boolean;
      },
    ) =>
      runCommand(() =>
        withClient(connect(flags), async (client) => {
          const page = await client.listEvents(flags.project, {
            limit: positiveInt('--limit', flags.limit),
            ...(flags.type ? { type: flags.type } : {}),
            ...(flags.since ? { since: flags.since } : {}),
          });
          if (flags.json) printJson(page);
          else for (const event of page.data) printEvent(event);
        }),
      ),
  );
  withConnectionFlags(
    events
      .command('get')
      .description('one event with its deliveries and their attempts so far')
      .argument('<event>', 'event id')
      .requiredOption('--project <project>', 'project id or uid'),
  ).action((id: string, flags: ConnectionFlags & { project: string }) =>
    runCommand(() =>
      withClient(connect(flags), async (client) => {
        const event = await client.getEvent(flags.project, id);
        const attempts = await client.listEventAttempts(flags.project, id, { limit: 100 });
        printJson({ ...event, attempts: attempts.data });
      }),
    ),
  );
  return events;
}

export function deliveriesCommand(): Command {
  const deliveries = new Command('deliveries').description('act on deliveries (through the API)');
  withConnectionFlags(
    deliveries
      .command('retry')
      .description('make a delivery due now (also a failed or parked one)')
      .argument('<delivery>', 'delivery id')
      .requiredOption('--project <project>', 'project id or uid'),
  ).action((id: string, flags: ConnectionFlags & { project: string }) =>
    runCommand(() =>
      withClient(connect(flags), async (client) => {
        await client.retryDelivery(flags.project, id);
        process.stdout.write(`${id}: due now\n`);
      }),
    ),
  );
  return deliveries;
}

function printEvent(event: HeraldEvent): void {
  const deliveries = event.deliveries.map((d) => `${d.id} ${d.status} → ${d.url}`);
  process.stdout.write(
    `${event.id} ${event.type}${event.test ? ' (test)' : ''} ${event.createdAt}\n${deliveries.map((d) => `  ${d}\n`).join('')}`,
  );
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CommandError(`${flag}: expected a positive integer, got ${value}`);
  return n;
}
