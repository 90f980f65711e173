/**
 * What the PostgreSQL store's group commit (group-commit.ts) writes: the hot-path writes gathered
 * while the previous group was committing, in one transaction.
 */
import type pg from 'pg';
import { databaseDueTime, type LeaseClock } from '../lease-clock.ts';
import type { AcceptedEvent, AttemptRecord, RecordOptions, RecordResult, ReleaseItem } from '../store.ts';
import { type AcceptJob, acceptBatchPostgres } from './accept-batch.ts';
import { recordBatchPostgres } from './attempt-records.ts';
import { lockParkingEndpointsPostgres, releaseDeliveriesPostgres } from './due-deliveries.ts';
import { DEFERRED } from './group-commit.ts';
import { notifyDue } from './notify.ts';

/** A hot-path write waiting for the next group commit. */
export type Job =
  | ({ kind: 'accept' } & AcceptJob)
  | { kind: 'record'; records: AttemptRecord[]; options: RecordOptions }
  | { kind: 'release'; items: ReleaseItem[] };
export type JobResult = AcceptedEvent[] | RecordResult | undefined;

/**
 * Writes one group: all accepts (those past its deliveries' bound DEFERRED to the next group:
 * accept-batch.ts), then all attempt records, then all releases, in one transaction.
 * `selfId`: the store's NOTIFY tag (notify.ts notifyDue); `groupDeliveries`: GROUP_DELIVERIES unless a test lowers it;
 * `leaseClock`: the store's, for accepts that lease (lease-clock.ts).
 */
export async function writeBatch(
  c: pg.PoolClient,
  jobs: Job[],
  selfId: string,
  groupDeliveries?: number,
  leaseClock?: LeaseClock,
): Promise<(JobResult | typeof DEFERRED)[]> {
  const results: (JobResult | typeof DEFERRED)[] = new Array(jobs.length).fill(undefined);
  const accepts: { index: number; job: Extract<Job, { kind: 'accept' }> }[] = [];
  const records: { index: number; job: Extract<Job, { kind: 'record' }> }[] = [];
  const releases: ReleaseItem[] = [];
  jobs.forEach((job, index) => {
    if (job.kind === 'accept') accepts.push({ index, job });
    else if (job.kind === 'record') records.push({ index, job });
    else releases.push(...job.items);
  });
  // A hand-back's hold or a rate limit's put-back due as claims count it (lease-clock.ts
  // databaseDueTime): a worker off writes it moved by the offset its last claim proved (earlier
  // when ahead, later when behind).
  const offsetMs = leaseClock?.offsetMs ?? 0;
  if (offsetMs !== 0) {
    for (const [i, r] of releases.entries()) {
      releases[i] = { ...r, nextAttemptAt: databaseDueTime(r.nextAttemptAt, offsetMs) };
    }
  }
  let wake = false;
  if (accepts.length) {
    const accepted = await acceptBatchPostgres(
      c,
      accepts.map((a) => a.job),
      groupDeliveries,
      leaseClock,
    );
    accepts.forEach((a, i) => {
      results[a.index] = accepted[i];
    });
    // Other processes are woken for deliveries left due now, not for those leased to this one.
    wake ||= accepted.some(
      (list) => list !== DEFERRED && list.some((r) => !r.duplicate && r.deliveries.length > (r.leased ?? 0)),
    );
  }
  // The endpoints of deliveries handed back parked are locked before any delivery is moved, with
  // the records' when there are some (endpoints before deliveries, in one key order).
  if (records.length) {
    const recorded = await recordBatchPostgres(
      c,
      records.map((r) => r.job),
      releases,
      leaseClock,
    ); // attempt-records.ts
    records.forEach((r, i) => {
      results[r.index] = recorded[i];
    });
  } else await lockParkingEndpointsPostgres(c, releases);
  if (releases.length) {
    await releaseDeliveriesPostgres(c, releases); // due-deliveries.ts
    // Pending again; one handed back as parked too when its endpoint was enabled meanwhile.
    wake = true;
  }
  if (wake) await notifyDue(c, selfId);
  return results;
}
