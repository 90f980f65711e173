/** The event-type catalog (global to the installation) for the SQLite store. */
import type { DatabaseSync } from 'node:sqlite';
import type { EventType } from '../../domain/types.ts';
import { eventTypeKept } from '../event-type-kept.ts';
import type { EventTypeChecked, EventTypeInput } from '../store.ts';
import { get, run } from './db-helpers.ts';
import { toEventType } from './rows.ts';

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/**
 * Runs inside one of the store's group commits. Reads the current type and writes the merge in
 * the same savepoint: no update is lost. False (nothing written) when `checked` no longer holds.
 */
export function upsertEventTypeSqlite(
  db: DatabaseSync,
  input: EventTypeInput,
  now: number,
  checked?: EventTypeChecked,
): boolean {
  const row = get(db, 'SELECT * FROM event_types WHERE name = ?', input.name);
  const cur = row ? toEventType(row) : null;
  if (checked && !eventTypeKept(checked.stored, cur, input)) return false;
  const next = {
    description: input.description ?? cur?.description ?? '',
    schema: input.schema !== undefined ? input.schema : (cur?.schema ?? null),
    example: input.example !== undefined ? input.example : (cur?.example ?? null),
    deprecated: input.deprecated ?? cur?.deprecated ?? false,
  };
  run(
    db,
    `INSERT INTO event_types (name, description, schema, example, deprecated, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET description = excluded.description, schema = excluded.schema,
       example = excluded.example, deprecated = excluded.deprecated, updated_at = excluded.updated_at`,
    input.name,
    next.description,
    optJson(next.schema),
    optJson(next.example),
    next.deprecated ? 1 : 0,
    now,
    now,
  );
  return true;
}

export function hasEventTypeSqlite(db: DatabaseSync, name: string): boolean {
  return get(db, 'SELECT 1 AS found FROM event_types WHERE name = ?', name) !== undefined;
}

export function eventTypeSqlite(db: DatabaseSync, name: string): EventType | null {
  const row = get(db, 'SELECT * FROM event_types WHERE name = ?', name);
  return row ? toEventType(row) : null;
}
