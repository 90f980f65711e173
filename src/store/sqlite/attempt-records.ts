/**
 * Attempt records for the SQLite store: the delivery moved to its next state and one attempt row
 * per record (none when the delivery is gone), each endpoint's failure count read once and
 * written once per batch, endpoints disabled at the threshold or on 410 (with `endpoint.disabled`
 * counting what the disable parked). Runs inside one of the store's group commits.
 */
import type { DatabaseSync } from 'node:sqlite';
import { disableReason } from '../../domain/classify-outcome.ts';
import type { DeliveryStatus } from '../../domain/types.ts';
import { type ParkRest, parkBatch } from '../park-batch.ts';
import { ATTEMPT_COLUMNS, attemptValues } from '../row-mapping.ts';
import type { AttemptRecord, RecordOptions, RecordResult } from '../store.ts';
import { attemptKey, storedResult } from '../stored-records.ts';
import { get, run } from './db-helpers.ts';
import { disableEndpointSqlite, recordEndpointDisabledSqlite } from './endpoint-writes.ts';
import { recordExhaustedSqlite } from './operational-outbox.ts';

/**
 * A record moves its delivery when the delivery is still open and leased to the recording worker,
 * or to none; a late one (its worker paused past the lease, and another claimed the delivery since)
 * only counts its attempt (COUNT_LATE_ATTEMPT), so it neither ends nor frees the other worker's
 * lease. A success moves it whatever holds it. By worker, not by claim as a hand-back goes
 * (ReleaseItem.leasedUntil): a claim the worker skipped because its attempt of the delivery was
 * still out (in-flight-deliveries.ts) left the row under that claim's lease, which the attempt's
 * record must end, or the delivery would come back and be sent again.
 *
 * An attempt's number is the delivery's count after its record: 1, 2, 3… in the order the records
 * are written. The worker numbered it at its claim (the count it read, plus one); that holds unless
 * another record of the delivery came in between (a lease taken over), so MOVE_DELIVERY also asks
 * for the count the worker read, and only when no row matches do the statements that read the count
 * back (RENUMBER_DELIVERY, COUNT_LATE_ATTEMPT) run.
 *
 * No RETURNING on the hot path: the state is the record's when a row changed. `UPDATE … RETURNING`
 * here, with a CASE per column for late records, cost the closed loop a quarter of its deliveries
 * per second (0.17× the raw ceiling against 0.24×; docs/performance-log.md, session 19).
 */
const MOVE_DELIVERY = `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, updated_at = ?,
  rate_deferred = 0, status = ?, next_attempt_at = ?, due_since = ?, leased_by = NULL, held_until = NULL
  WHERE id = ? AND project_id = ? AND attempts = ?
    AND ((status IN ('pending', 'parked') AND (leased_by IS NULL OR leased_by = ?)) OR ? = 'succeeded')`;
/** MOVE_DELIVERY when the count moved since the claim: the attempt takes the count it leaves. */
const RENUMBER_DELIVERY = `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, updated_at = ?,
  rate_deferred = 0, status = ?, next_attempt_at = ?, due_since = ?, leased_by = NULL, held_until = NULL
  WHERE id = ? AND project_id = ?
    AND ((status IN ('pending', 'parked') AND (leased_by IS NULL OR leased_by = ?)) OR ? = 'succeeded')
  RETURNING attempts`;
/** A late record of a delivery already finished: the attempt counts, the state stays (and is read). */
const COUNT_LATE_ATTEMPT = `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, updated_at = ?,
  rate_deferred = 0 WHERE id = ? AND project_id = ? RETURNING status, attempts`;
const INSERT_ATTEMPT = `INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * A write tried again (RecordOptions.retried): the first's result when its attempts are stored
 * (stored-records.ts), else null. SQLite never loses a commit's answer; the store answers alike.
 */
export function storedRecordsSqlite(
  db: DatabaseSync,
  records: AttemptRecord[],
  options: RecordOptions,
): RecordResult | null {
  const stored = new Set<string>();
  const deliveries = new Map<string, DeliveryStatus>();
  const disabledAt = new Map<string, string>();
  for (const r of records) {
    const a = r.attempt;
    if (get(db, 'SELECT 1 FROM attempts WHERE project_id = ? AND id = ?', a.projectId, a.id))
      stored.add(attemptKey(r));
    const d = get(
      db,
      'SELECT status FROM deliveries WHERE project_id = ? AND id = ?',
      a.projectId,
      a.deliveryId,
    );
    if (d) deliveries.set(`${a.projectId}/${a.deliveryId}`, String(d.status) as DeliveryStatus);
    if (!a.endpointId) continue;
    const e = get(
      db,
      "SELECT disabled_reason FROM endpoints WHERE project_id = ? AND id = ? AND status = 'disabled' AND disabled_at = ?",
      a.projectId,
      a.endpointId,
      options.now,
    );
    if (e) disabledAt.set(`${a.projectId}/${a.endpointId}`, String(e.disabled_reason));
  }
  return storedResult(records, { stored, deliveries, disabledAt });
}

/**
 * Writes the records. The endpoints they disable share one batch of parking (park-batch.ts): the
 * pending deliveries past it are counted in `endpoint.disabled` and listed in `later`, for the
 * caller to park after the commit, in writes of their own (parkRestSqlite).
 */
export function writeAttemptRecords(
  db: DatabaseSync,
  records: AttemptRecord[],
  options: RecordOptions,
  later: ParkRest[] = [],
): RecordResult {
  const disabled: RecordResult['disabledEndpoints'] = [];
  // Each endpoint is read once per batch and its failure count written once, before the
  // deliveries: as in the PostgreSQL store, every record of a batch that disables an endpoint sees
  // it disabled, so the status each record returns is the delivery's state after the whole batch.
  const endpoints = new Map<
    string,
    { projectId: string; status: string; failures: number; dirty: boolean; disable: string | null } | null
  >();
  const endpointState = (projectId: string, endpointId: string) => {
    if (!endpoints.has(endpointId)) {
      const row = get(
        db,
        'SELECT status, consecutive_failures FROM endpoints WHERE project_id = ? AND id = ?',
        projectId,
        endpointId,
      );
      endpoints.set(
        endpointId,
        row
          ? {
              projectId,
              status: String(row.status),
              failures: Number(row.consecutive_failures),
              dirty: false,
              disable: null,
            }
          : null,
      );
    }
    return endpoints.get(endpointId)!;
  };
  for (const rec of records) {
    const a = rec.attempt;
    const ep = a.endpointId ? endpointState(a.projectId, a.endpointId) : null;
    if (!a.endpointId || !ep) continue;
    if (rec.endpointEffect === 'success') {
      if (ep.failures !== 0) {
        ep.failures = 0;
        ep.dirty = true;
      }
    } else if (
      (rec.endpointEffect === 'failure' || rec.endpointEffect === 'gone') &&
      ep.status === 'active'
    ) {
      // A disabled endpoint's count stays as its disable left it (the failures that disabled it):
      // attempts in flight at the disable, recorded after it, do not add to it (delivery.md).
      ep.failures++;
      ep.dirty = true;
      const reason = disableReason(rec.endpointEffect, ep.failures, options.failureThreshold);
      if (reason) {
        ep.status = 'disabled';
        ep.disable = reason;
        disabled.push({ projectId: a.projectId, endpointId: a.endpointId, reason });
      }
    }
  }
  // What each disable parked: its endpoint's pending deliveries not in flight (those of this batch
  // are left to their records), then the records of this batch that end up parked.
  const parked = new Map<string, number>();
  let budget = parkBatch.rows; // parked in this write, for all the endpoints it disables
  for (const [endpointId, ep] of endpoints) {
    if (!ep) continue;
    if (ep.dirty)
      run(db, 'UPDATE endpoints SET consecutive_failures = ? WHERE id = ?', ep.failures, endpointId);
    if (ep.disable) {
      const own = records.filter((r) => r.attempt.endpointId === endpointId).map((r) => r.attempt.deliveryId);
      const off = disableEndpointSqlite(db, ep.projectId, endpointId, ep.disable, options.now, budget, own);
      parked.set(endpointId, off.parked);
      if (off.rest) {
        later.push({ projectId: ep.projectId, endpointId, disabledAt: options.now });
        budget = 0;
      } else {
        budget -= off.parked;
      }
    }
  }
  const statuses: RecordResult['statuses'] = [];
  const countedParked = new Set<string>();
  for (const rec of records) {
    const a = rec.attempt;
    let status = rec.next.status;
    const ep = a.endpointId ? endpoints.get(a.endpointId) : null;
    if (a.endpointId && ep) {
      if (status === 'pending' && ep.status === 'disabled') status = 'parked';
    } else if (a.endpointId && status === 'pending') {
      // The endpoint was deleted meanwhile: nothing will ever deliver this, close it.
      status = 'failed';
    }
    // The delivery moves to the record's state. A late record (its lease ran out and another worker
    // took over) must not move a finished delivery back to pending, so it only counts its attempt;
    // a success always moves it.
    let final: DeliveryStatus | null = status;
    const next = status === 'pending' ? rec.next.nextAttemptAt : null;
    let number = a.number;
    // Whether this record moved the delivery (false for a late one, which only counts its attempt).
    let moved = true;
    const changed = run(
      db,
      MOVE_DELIVERY,
      a.startedAt,
      options.now,
      status,
      next,
      next,
      a.deliveryId,
      a.projectId,
      a.number - 1,
      rec.workerId,
      status,
    );
    if (changed === 0) {
      const renumbered = get(
        db,
        RENUMBER_DELIVERY,
        a.startedAt,
        options.now,
        status,
        next,
        next,
        a.deliveryId,
        a.projectId,
        rec.workerId,
        status,
      );
      if (renumbered) number = Number(renumbered.attempts);
      else {
        const late = get(db, COUNT_LATE_ATTEMPT, a.startedAt, options.now, a.deliveryId, a.projectId);
        moved = false;
        final = late ? (String(late.status) as DeliveryStatus) : null;
        if (late) number = Number(late.attempts);
      }
    }
    // The delivery is gone (its project or event deleted while the attempt was out): an attempt
    // row now would be an orphan that nothing lists or removes.
    if (final === null) {
      statuses.push(null);
      continue;
    }
    statuses.push(final);
    // Each parked delivery counts once, however many records of it the batch had.
    const parkedBy = a.endpointId === null ? undefined : parked.get(a.endpointId);
    if (final === 'parked' && parkedBy !== undefined && !countedParked.has(a.deliveryId)) {
      countedParked.add(a.deliveryId);
      parked.set(a.endpointId!, parkedBy + 1);
    }
    const written = number === a.number ? rec : { ...rec, attempt: { ...a, number } };
    run(db, INSERT_ATTEMPT, ...attemptValues(written));
    // delivery.exhausted, when this record failed the delivery for good: not a late one, whose
    // delivery another worker's record already ended (failed or succeeded) or still holds.
    if (rec.next.status === 'failed' && moved && final === 'failed')
      recordExhaustedSqlite(db, written, options.now);
  }
  for (const d of disabled) {
    const parkedBy = parked.get(d.endpointId) ?? 0;
    recordEndpointDisabledSqlite(db, d.projectId, d.endpointId, d.reason, parkedBy, options.now);
  }
  return { disabledEndpoints: disabled, statuses };
}
