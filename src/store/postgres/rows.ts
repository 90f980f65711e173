/**
 * Row mapping for the PostgreSQL store: BIGINT columns arrive as strings (pg keeps 64-bit integers
 * exact), `json` columns already parsed (a string here is a JSON string value, not text to parse),
 * booleans as booleans.
 */
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

/** Appends one row to column arrays (the parameters of an `unnest` insert). */
export function pushRow(columns: unknown[][], row: unknown[]): void {
  row.forEach((v, i) => {
    columns[i]!.push(v);
  });
}
