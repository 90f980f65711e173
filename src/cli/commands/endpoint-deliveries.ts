/**
 * `herald endpoints deliveries`: what waits for an endpoint, its pending deliveries (or parked
 * ones, while it is disabled) in the order they are due, with how many of each there are.
 */
import type { DeliveryState, WaitingCounts } from '@herald/client';
import type { Command } from 'commander';
import {
  type ConnectionFlags,
  countFlag,
  positiveInt,
  projectFlag,
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
import { alignedTable } from '../table.ts';

interface DeliveriesFlags extends ConnectionFlags {
  project: string;
  status?: string;
  limit: string | number;
  cursor?: string;
  json?: boolean;
}

export function addEndpointDeliveriesCommand(endpoints: Command): void {
  withConnectionFlags(
    endpoints
      .command('deliveries')
      .description(
        'what waits for the endpoint, in the order it is due: its pending deliveries, or parked ones, with how many of each',
      )
      .argument('<endpoint>', 'endpoint id')
      .addOption(projectFlag())
      .option('--status <status>', 'pending (the default) or parked (held while the endpoint is disabled)')
      .addOption(countFlag('--limit <n>', 'at most this many', 50))
      .option('--cursor <cursor>', 'start where a page ended: its nextCursor')
      .option('--json', 'print the page as JSON, with nextCursor and (first page) counts'),
  ).action(
    apiAction<DeliveriesFlags>(async (client, flags, [id]) => {
      const status = flags.status || 'pending';
      if (status !== 'pending' && status !== 'parked') {
        throw new CommandError(`--status: expected pending or parked, got ${status}`);
      }
      const limit = positiveInt('--limit', flags.limit);
      let counts: WaitingCounts | undefined;
      const page = async (limit: number, cursor?: string) => {
        const answer = await client.listEndpointDeliveries(flags.project, id, {
          status,
          limit,
          ...(cursor ? { cursor } : {}),
        });
        // Only the first page (asked without a cursor) counts.
        counts ??= answer.counts;
        return answer;
      };
      if (flags.json) {
        printJson(await page(pageSize(limit), flags.cursor));
        return;
      }
      const rows: DeliveryState[] = [];
      const stopped = await eachUpTo(limit, page, (d) => rows.push(d), flags.cursor);
      const counted = counts ? ` (${countsLine(counts)})` : '';
      if (rows.length === 0) {
        sayEmpty(`no ${status} deliveries wait for ${id}${narrowedBy(flags, ['cursor'])}${counted}`);
        return;
      }
      if (counts) printLine(countsLine(counts));
      for (const line of deliveriesTable(rows)) printLine(line);
      sayMore(stopped, `${status} deliveries`, flags.cursor);
    }),
  );
}

/** `214 pending, 0 parked`; a count that reached `atMost` is at least that many: `10000+ pending`. */
export function countsLine(counts: WaitingCounts): string {
  const n = (count: number) => `${count}${count >= counts.atMost ? '+' : ''}`;
  return `${n(counts.pending)} pending, ${n(counts.parked)} parked`;
}

const COLUMNS = ['DELIVERY', 'EVENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'IN FLIGHT'] as const;

/** A header line, then one line per delivery, each column as wide as its widest cell. */
export function deliveriesTable(deliveries: readonly DeliveryState[]): string[] {
  return alignedTable(
    COLUMNS,
    deliveries.map((d) => [
      d.id,
      d.eventId,
      d.status,
      String(d.attempts),
      d.nextAttemptAt ?? '-',
      d.inFlight ? 'yes' : 'no',
    ]),
  );
}
