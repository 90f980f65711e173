/**
 * A record write tried again (RecordOptions.retried) whose first try was stored: the connection
 * was cut while PostgreSQL committed it, so its answer was lost. A write is one transaction, all or
 * nothing, so one of its attempts stored means all of it was; what it did is read back rather than
 * written twice (which the attempts' key refuses): each record's delivery status as it is now (null
 * for one with no attempt row: its delivery was gone), and the endpoints it disabled, those its
 * failures point at that are disabled at its disabledAt (RecordOptions.disabledAt, else its `now`;
 * disabled_at), in record order.
 */
import type { DeliveryStatus } from '../domain/types.ts';
import type { ParkRest } from './park-batch.ts';
import type { AttemptRecord, RecordResult } from './store-types.ts';

export interface StoredLookups {
  /** `projectId/attemptId` of the records' attempts that are stored. */
  stored: ReadonlySet<string>;
  /** By `projectId/deliveryId`. */
  deliveries: ReadonlyMap<string, DeliveryStatus>;
  /** By `projectId/endpointId`: the endpoints disabled at the write's disabledAt, with their reason. */
  disabledAt: ReadonlyMap<string, string>;
}

export const attemptKey = (r: AttemptRecord) => `${r.attempt.projectId}/${r.attempt.id}`;

/** The first write's result, or null when none of its attempts is stored (write it). */
export function storedResult(records: AttemptRecord[], found: StoredLookups): RecordResult | null {
  if (!records.some((r) => found.stored.has(attemptKey(r)))) return null;
  const statuses = records.map((r) =>
    found.stored.has(attemptKey(r))
      ? (found.deliveries.get(`${r.attempt.projectId}/${r.attempt.deliveryId}`) ?? null)
      : null,
  );
  const disabledEndpoints: RecordResult['disabledEndpoints'] = [];
  const seen = new Set<string>();
  for (const r of records) {
    const { projectId, endpointId } = r.attempt;
    if (!endpointId || (r.endpointEffect !== 'failure' && r.endpointEffect !== 'gone')) continue;
    const key = `${projectId}/${endpointId}`;
    const reason = found.disabledAt.get(key);
    if (reason === undefined || seen.has(key)) continue;
    seen.add(key);
    disabledEndpoints.push({ projectId, endpointId, reason });
  }
  return { disabledEndpoints, statuses };
}

/**
 * What the stored write's disables left to later batches (park-batch.ts), to park again: the first
 * write's answer was lost with them, and the rest of a backlog past its first batch stayed pending
 * until a worker claimed each (a retry due hours later), listed and counted as pending meanwhile,
 * and not resumed by an enable (parked ones are). Parking again parks nothing twice, and nothing
 * once the endpoint is enabled or disabled anew (its disabled_at is no longer `disabledAt`, the
 * write's: RecordOptions.disabledAt, else its now). `inFlightAt`:
 * the time leases are judged at (ParkRest.inFlightAt; PostgreSQL's disable's now in the database's
 * time, as the first write's; until 2026-12-07 left out, so a worker ahead parked deliveries being
 * sent); none, `now` (SQLite).
 */
export function storedDisablesLater(
  result: RecordResult,
  disabledAt: number,
  inFlightAt?: number,
): ParkRest[] {
  return result.disabledEndpoints.map(({ projectId, endpointId }) => ({
    projectId,
    endpointId,
    disabledAt,
    ...(inFlightAt === undefined ? {} : { inFlightAt }),
  }));
}
