/**
 * `herald operational-events list`: what Herald reported about a project's endpoints (an endpoint
 * disabled or enabled again, a delivery out of retries), newest first, as a table.
 */
import type { OperationalEvent, OperationalEventType } from '@herald/client';
import { Command, Option } from 'commander';
import {
  type ConnectionFlags,
  countFlag,
  idFlag,
  positiveInt,
  projectArgumentOrFlag,
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
import { alignedTable } from '../table.ts';

interface ListFlags extends ConnectionFlags {
  type?: string;
  endpoint?: string;
  limit: string | number;
  cursor?: string;
  json?: boolean;
}

export function operationalEventsCommand(): Command {
  const ops = new Command('operational-events').description(
    "what Herald reported about a project's endpoints (through the API)",
  );
  withConnectionFlags(
    projectArgumentOrFlag(
      ops
        .command('list')
        .description(
          "a project's operational events, newest first: endpoints disabled (endpoint.disabled) and enabled again (endpoint.recovered), deliveries out of retries (delivery.exhausted)",
        ),
    )
      .option('--type <type>', 'only this kind: endpoint.disabled, endpoint.recovered or delivery.exhausted')
      // Empty is refused, not taken as unset (an unset "$ENDPOINT"): that would list every endpoint's.
      .addOption(
        idFlag(new Option('--endpoint <endpoint>', "only this endpoint's (its id, ep_…; deleted or not)")),
      )
      .addOption(countFlag('--limit <n>', 'at most this many', 20))
      .option('--cursor <cursor>', 'start where a page ended: its nextCursor')
      .option('--json', 'print the page as JSON, with nextCursor for the next one'),
  ).action(
    apiAction<ListFlags>(async (client, flags, [project]) => {
      const limit = positiveInt('--limit', flags.limit);
      // A kind the API does not know is refused by it, naming --type and listing the three.
      const page = (limit: number, cursor?: string) =>
        client.listOperationalEvents(project, {
          limit,
          ...(flags.type ? { type: flags.type as OperationalEventType } : {}),
          ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
          ...(cursor ? { cursor } : {}),
        });
      if (flags.json) {
        printJson(await page(pageSize(limit), flags.cursor));
        return;
      }
      const rows: OperationalEvent[] = [];
      const stopped = await eachUpTo(limit, page, (o) => rows.push(o), flags.cursor);
      if (rows.length === 0) {
        sayEmpty(
          `no operational events in ${project}${narrowedBy(flags, ['type', 'endpoint', 'cursor'])} (Herald records one when an endpoint is disabled or enabled again, or a delivery runs out of retries)`,
        );
        return;
      }
      for (const line of operationalEventsTable(rows)) printLine(line);
      sayMore(stopped, 'operational events', flags.cursor);
    }),
  );
  return ops;
}

const COLUMNS = ['ID', 'TIME', 'TYPE', 'ENDPOINT', 'DETAILS'] as const;

/**
 * A header, then one line per operational event: its endpoint, and the rest of its `data` as
 * `name=value` in the API's order (strings as they are, anything else as JSON), so that a kind
 * added later shows too.
 */
export function operationalEventsTable(events: readonly OperationalEvent[]): string[] {
  return alignedTable(
    COLUMNS,
    events.map((o) => {
      const { endpointId, ...rest } = o.data;
      const details = Object.entries(rest).map(
        ([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
      );
      return [
        o.id,
        o.createdAt,
        o.type,
        typeof endpointId === 'string' ? endpointId : '-',
        details.join(' '),
      ];
    }),
  );
}
