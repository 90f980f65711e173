/**
 * Row mapping for the PostgreSQL store: BIGINT columns arrive as strings (pg keeps 64-bit integers
 * exact), `json` columns already parsed (a string here is a JSON string value, not text to parse),
 * booleans as booleans.
 */
import pg from 'pg';
import { parseJsonExact } from '../../domain/json-text.ts';
import { createRowMappers } from '../row-mapping.ts';

export { num, type Row } from '../row-mapping.ts';

export const {
  toProject,
  toApiKey,
  toEventType,
  toEndpoint,
  toSecret,
  toEvent,
  toEventLazyPayload,
  toDelivery,
  toAttempt,
  toOperationalEvent,
} = createRowMappers({
  json: <T>(v: unknown) => v as T,
  bool: (v) => v === true || v === 't' || v === 'true',
});

/** json and jsonb (pg_type oids). */
const JSON_TYPES = new Set([114, 3802]);

/**
 * The pool's type parsers: pg's own, except that json and jsonb text is decoded keeping the numbers
 * JSON.parse would change as their text (json-text.ts), so an event read back holds the payload's
 * digits as they were sent (jsonb's numeric keeps them).
 */
export const EXACT_JSON_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    JSON_TYPES.has(oid) && format !== 'binary'
      ? parseJsonExact
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Appends one row to column arrays (the parameters of an `unnest` insert). */
export function pushRow(columns: unknown[][], row: unknown[]): void {
  row.forEach((v, i) => {
    columns[i]!.push(v);
  });
}
