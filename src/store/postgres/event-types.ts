/** The event-type catalog (global to the installation) for the PostgreSQL store. */
import type pg from 'pg';
import type { EventType } from '../../domain/types.ts';
import type { EventTypeInput } from '../store.ts';
import { type Row, toEventType } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

export async function upsertEventTypePostgres(
  db: Queryable,
  input: EventTypeInput,
  now: number,
): Promise<EventType> {
  const cur = await eventTypePostgres(db, input.name);
  const next = {
    description: input.description ?? cur?.description ?? '',
    schema: input.schema !== undefined ? input.schema : (cur?.schema ?? null),
    example: input.example !== undefined ? input.example : (cur?.example ?? null),
    deprecated: input.deprecated ?? cur?.deprecated ?? false,
  };
  const { rows } = await db.query(
    `INSERT INTO event_types (name, description, schema, example, deprecated, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (name) DO UPDATE SET description = excluded.description, schema = excluded.schema,
       example = excluded.example, deprecated = excluded.deprecated, updated_at = excluded.updated_at
     RETURNING *`,
    [input.name, next.description, optJson(next.schema), optJson(next.example), next.deprecated, now],
  );
  return toEventType(rows[0] as Row);
}

export async function hasEventTypePostgres(db: Queryable, name: string): Promise<boolean> {
  return ((await db.query('SELECT 1 FROM event_types WHERE name = $1', [name])).rowCount ?? 0) > 0;
}

export async function eventTypePostgres(db: Queryable, name: string): Promise<EventType | null> {
  const row = (await db.query('SELECT * FROM event_types WHERE name = $1', [name])).rows[0] as
    | Row
    | undefined;
  return row ? toEventType(row) : null;
}
