/** The event-type catalog (global to the installation) for the PostgreSQL store. */
import type pg from 'pg';
import type { EventType } from '../../domain/types.ts';
import type { EventTypeInput } from '../store.ts';
import { type Row, toEventType } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/**
 * Creates the entry or changes the fields `input` gives, the others kept, in one statement: the
 * merge reads the row as the upsert locks it. (Read first and written by a statement of its own,
 * two PUTs at once that left out different fields each wrote back the other's field as it was.)
 * `insertOnly`: null, nothing written, when the entry exists.
 */
export async function upsertEventTypePostgres(
  db: Queryable,
  input: EventTypeInput,
  now: number,
  options: { insertOnly?: boolean } = {},
): Promise<EventType | null> {
  const { rows } = await db.query(
    `INSERT INTO event_types (name, description, schema, example, deprecated, created_at, updated_at)
     VALUES ($1, COALESCE($2::text, ''), $3, $4, COALESCE($5::boolean, false), $6, $6)
     ON CONFLICT (name) DO UPDATE SET
       description = COALESCE($2::text, event_types.description),
       schema = CASE WHEN $7::boolean THEN excluded.schema ELSE event_types.schema END,
       example = CASE WHEN $8::boolean THEN excluded.example ELSE event_types.example END,
       deprecated = COALESCE($5::boolean, event_types.deprecated),
       updated_at = excluded.updated_at
     WHERE NOT $9::boolean
     RETURNING *`,
    [
      input.name,
      input.description ?? null,
      optJson(input.schema),
      optJson(input.example),
      input.deprecated ?? null,
      now,
      input.schema !== undefined,
      input.example !== undefined,
      options.insertOnly ?? false,
    ],
  );
  const row = rows[0] as Row | undefined;
  return row ? toEventType(row) : null; // null: `insertOnly` found an entry
}

export async function hasEventTypePostgres(db: Queryable, name: string): Promise<boolean> {
  return ((await db.query('SELECT 1 FROM event_types WHERE name = $1', [name])).rowCount ?? 0) > 0;
}

export async function eventTypePostgres(
  db: Queryable,
  name: string,
  forUpdate = false,
): Promise<EventType | null> {
  const sql = `SELECT * FROM event_types WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`;
  const row = (await db.query(sql, [name])).rows[0] as Row | undefined;
  return row ? toEventType(row) : null;
}
