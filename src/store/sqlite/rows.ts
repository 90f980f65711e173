/** Row mapping for the SQLite store: JSON columns are TEXT, booleans are 0/1. */
import type { Json } from '../../domain/types.ts';
import { createRowMappers } from '../row-mapping.ts';

export { percentile95, type Row } from '../row-mapping.ts';

const parseJson = <T = Json>(v: unknown): T => JSON.parse(String(v)) as T;

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
} = createRowMappers({ json: parseJson, bool: (v) => Number(v) === 1 });
