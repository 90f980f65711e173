/** Row mapping for the SQLite store: JSON columns are TEXT, booleans are 0/1. */

import { parseJsonExact } from '../../domain/json-text.ts';
import type { Json } from '../../domain/types.ts';
import { createRowMappers } from '../row-mapping.ts';

export type { Row } from '../row-mapping.ts';

/** Stored JSON text, with numbers JSON.parse would change kept as their text (json-text.ts). */
const parseJson = <T = Json>(v: unknown): T => parseJsonExact(String(v)) as T;

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
