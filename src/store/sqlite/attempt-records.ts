/**
 * Attempt records for the SQLite store: the delivery moved to its next state and one attempt row
 * per record (none when the delivery is gone), each endpoint's failure count read once and
 * written once per batch, endpoints disabled at the threshold or on 410. Runs inside one of the
 * store's group commits.
 */
import type { DatabaseSync } from 'node:sqlite';
import { disableReason } from '../../domain/classify-outcome.ts';
import { ATTEMPT_COLUMNS, attemptValues } from '../row-mapping.ts';
import type { AttemptRecord, RecordOptions, RecordResult } from '../store.ts';
import { get, run } from './db-helpers.ts';
import { recordExhaustedSqlite } from './operational-outbox.ts';

/** Disables an endpoint (parks its work, records `endpoint.disabled`): the store's own routine. */
export type DisableEndpoint = (projectId: string, endpointId: string, reason: string, now: number) => void;

export function writeAttemptRecords(
  db: DatabaseSync,
  records: AttemptRecord[],
  options: RecordOptions,
  disable: DisableEndpoint,
): RecordResult {
  const disabled: RecordResult['disabledEndpoints'] = [];
  // Each endpoint is read once per batch and its failure count written once at the end.
  const endpoints = new Map<string, { status: string; failures: number; dirty: boolean } | null>();
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
        row ? { status: String(row.status), failures: Number(row.consecutive_failures), dirty: false } : null,
      );
    }
    return endpoints.get(endpointId)!;
  };
  const writeFailures = (endpointId: string) => {
    const ep = endpoints.get(endpointId);
    if (!ep?.dirty) return;
    run(db, 'UPDATE endpoints SET consecutive_failures = ? WHERE id = ?', ep.failures, endpointId);
    ep.dirty = false;
  };
  for (const rec of records) {
    const a = rec.attempt;
    let status = rec.next.status;
    const ep = a.endpointId ? endpointState(a.projectId, a.endpointId) : null;
    if (a.endpointId && ep) {
      if (rec.endpointEffect === 'success') {
        if (ep.failures !== 0) {
          ep.failures = 0;
          ep.dirty = true;
        }
      } else if (rec.endpointEffect === 'failure' || rec.endpointEffect === 'gone') {
        ep.failures++;
        ep.dirty = true;
        const reason = disableReason(rec.endpointEffect, ep.failures, options.failureThreshold);
        if (reason && ep.status === 'active') {
          writeFailures(a.endpointId);
          disable(a.projectId, a.endpointId, reason, options.now);
          ep.status = 'disabled';
          disabled.push({ projectId: a.projectId, endpointId: a.endpointId, reason });
        }
      }
      if (status === 'pending' && ep.status === 'disabled') status = 'parked';
    } else if (a.endpointId && status === 'pending') {
      // The endpoint was deleted meanwhile: nothing will ever deliver this, close it.
      status = 'failed';
    }
    // A late record (its lease ran out and another worker took over) must not move a finished
    // delivery back to pending; a success always counts.
    const moves = `status IN ('pending', 'parked') OR ? = 'succeeded'`;
    const moved = run(
      db,
      `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, updated_at = ?, rate_deferred = 0,
       next_attempt_at = CASE WHEN ${moves} THEN ? ELSE next_attempt_at END,
       leased_by = CASE WHEN ${moves} THEN NULL ELSE leased_by END,
       status = CASE WHEN ${moves} THEN ? ELSE status END
       WHERE id = ? AND project_id = ?`,
      a.startedAt,
      options.now,
      status,
      status === 'pending' ? rec.next.nextAttemptAt : null,
      status,
      status,
      status,
      a.deliveryId,
      a.projectId,
    );
    // The delivery is gone (its project or event deleted while the attempt was out): an attempt
    // row now would be an orphan that nothing lists or removes.
    if (moved === 0) continue;
    run(
      db,
      `INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ...attemptValues(rec),
    );
    if (rec.next.status === 'failed') recordExhaustedSqlite(db, rec, options.now); // delivery.exhausted
  }
  for (const endpointId of endpoints.keys()) writeFailures(endpointId);
  return { disabledEndpoints: disabled };
}
