/**
 * `herald event-types list|get`: the catalog through a running Herald's API, with each type's
 * description, schema and example payload (what `endpoints test` sends).
 */
import type { EventType } from '@herald/client';
import type { Command } from 'commander';
import { type ConnectionFlags, withConnectionFlags } from '../api-connection.ts';
import { apiAction, printJson, printLine, sayEmpty } from '../print.ts';

export function addEventTypeReadCommands(eventTypes: Command): void {
  withConnectionFlags(
    eventTypes
      .command('list')
      .description('every event type of the catalog: name, whether it has an example, description')
      .option('--json', 'print them as JSON, schemas and examples included'),
  ).action(
    apiAction<ConnectionFlags & { json?: boolean }>(async (client, flags) => {
      const { paginate } = await import('@herald/client'); // loaded with the client by now
      const all: EventType[] = [];
      for await (const type of paginate((q) => client.listEventTypes(q), 100)) all.push(type);
      if (flags.json) printJson(all);
      else if (all.length === 0) {
        sayEmpty(
          'the event-type catalog is empty (add types with `herald event-types import FILE` or PUT /api/v1/event-types/:name)',
        );
      } else for (const type of all) printLine(eventTypeLine(type));
    }),
  );
  withConnectionFlags(
    eventTypes
      .command('get')
      .description('one event type as JSON: its description, JSON Schema and example payload')
      .argument('<name>', 'event type name, e.g. player.purchase')
      .option('--json', 'print it as JSON (what it prints anyway; taken as by the other commands)'),
  ).action(
    apiAction<ConnectionFlags>(async (client, _flags, [name]) => {
      printJson(await client.getEventType(name));
    }),
  );
}

/** `player.paid  [example]  A player paid (deprecated)`. */
export function eventTypeLine(type: EventType): string {
  const marks = [type.example !== null ? 'example' : null, type.deprecated ? 'deprecated' : null]
    .filter(Boolean)
    .join(', ');
  return [type.name, marks ? `[${marks}]` : '', type.description].filter(Boolean).join('  ');
}
