/**
 * Attempt records for the PostgreSQL store, for every job of one group commit at once: each
 * touched endpoint locked (in a fixed order; for writing only when its row may change) and its
 * failure count applied in record order,
 * endpoints disabled at the threshold or on 410, the deliveries moved in one UPDATE, then the
 * attempt rows of the deliveries that still exist in one `unnest` insert.
 */
import type pg from 'pg';
import { disableReason } from '../../domain/classify-outcome.ts';
import type { DeliveryStatus } from '../../domain/types.ts';
import { databaseDueTime, type LeaseClock, leaseJudgedAt, measureLeaseOffset } from '../lease-clock.ts';
import { type ParkRest, parkBatch } from '../park-batch.ts';
import { ATTEMPT_COLUMNS, attemptValues } from '../row-mapping.ts';
import type { AttemptRecord, RecordOptions, RecordResult, ReleaseItem } from '../store.ts';
import { storedDisablesLater, storedResult } from '../stored-records.ts';
import { databaseNowIn } from './claims.ts';
import { lockDeliveriesPostgres, lockedInKeyOrder } from './delivery-locks.ts';
import { parkingEndpoints, parkingParams } from './due-deliveries.ts';
import {
  disablePickingPostgres,
  parkPickedPostgres,
  recordEndpointDisabledPostgres,
} from './endpoint-parking.ts';
import { recordExhaustedPostgres } from './operational-outbox.ts';
import { num, pushRow, type Row } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Moves the deliveries of a round of records: attempts counted, status and due time set. A record
 * moves its delivery when the delivery is still open and leased to the recording worker, or to
 * none; a late one (its worker paused past the lease, and another claimed the delivery since) only
 * counts its attempt, so it neither ends nor frees the other worker's lease. A success moves it
 * whatever holds it. By worker, not by claim as a hand-back goes (ReleaseItem.leasedUntil): a claim
 * the worker skipped because its attempt was still out (in-flight-deliveries.ts) left the row
 * under that claim's lease, which the attempt's record must end. An attempt's number is the count
 * its record leaves (RETURNING): 1, 2, 3… in the order the records are written, also when a lease
 * was taken over and two workers sent the delivery. `moved`: whether the record moved it (the row
 * as locked, just before this UPDATE, says), false for a late one.
 */
const moves = (status: string, leasedBy: string) =>
  `((${status} IN ('pending', 'parked') AND (${leasedBy} IS NULL OR ${leasedBy} = v.worker)) OR v.status = 'succeeded')`;
const MOVES = moves('d.status', 'd.leased_by');
/**
 * A retry is due from its time, or from its record's when that is later (a step shorter than the
 * record took to be written): never before the updated_at the record sets, which the backlog read
 * takes a row an older version wrote for (due-deliveries.ts backlogPostgres).
 */
const DUE_SINCE = 'CASE WHEN v.next IS NULL THEN NULL ELSE GREATEST(v.next, v.upd) END';
const MOVE_DELIVERIES = `UPDATE deliveries d SET attempts = d.attempts + 1, last_attempt_at = v.last, updated_at = v.upd, rate_deferred = false,
       status = CASE WHEN ${MOVES} THEN v.status ELSE d.status END,
       next_attempt_at = CASE WHEN ${MOVES} THEN v.next ELSE d.next_attempt_at END,
       due_since = CASE WHEN ${MOVES} THEN ${DUE_SINCE} ELSE d.due_since END,
       leased_by = CASE WHEN ${MOVES} THEN NULL ELSE d.leased_by END,
       held_until = CASE WHEN ${MOVES} THEN NULL ELSE d.held_until END
     FROM ${lockedInKeyOrder(
       `unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
       AS v(project_id, id, status, next, last, upd, worker)`,
       'true',
       ', l.status AS was_status, l.leased_by AS was_leased_by',
     )}
     WHERE d.project_id = v.project_id AND d.id = v.id
     RETURNING d.project_id, d.id, d.status, d.attempts, ${moves('v.was_status', 'v.was_leased_by')} AS moved`;

/**
 * When a job's disables are stored, in the database's time (RecordOptions.disabledAt: the caller's
 * `now` moved by the offset it last proved, the same for every try, as a try again looks its
 * disables up by it). Until 2026-12-08 its `now`, on the worker's clock: from a worker 20 s ahead,
 * disabledAt 19.9 s on, and a replay from it left out the events accepted in the 20 s after.
 */
const disabledAtOf = (options: RecordOptions): number => options.disabledAt ?? options.now;

const rowsOf = async (c: Queryable, sql: string, params: unknown[]): Promise<Row[]> =>
  (await c.query(sql, params)).rows as Row[];

/** A job's result, and what its disables left to later transactions (park-batch.ts, parkRestPostgres). */
export type RecordedPostgres = RecordResult & { later: ParkRest[] };

/**
 * `releases`: the group's hand-backs; the endpoints of those handed back `parked` are locked with
 * the records' in one statement, in the same order (due-deliveries.ts releaseDeliveriesPostgres).
 * A job tried again (RecordOptions.retried) whose first try was stored is not written again: its
 * result is the first's, read back (stored-records.ts).
 */
export async function recordBatchPostgres(
  c: Queryable,
  jobs: { records: AttemptRecord[]; options: RecordOptions }[],
  releases: ReleaseItem[] = [],
  leaseClock?: LeaseClock,
): Promise<RecordedPostgres[]> {
  const stored = await Promise.all(
    jobs.map((job) => (job.options.retried ? storedRecordsPostgres(c, job.records, job.options) : null)),
  );
  if (stored.every((r) => r === null)) return writeRecords(c, jobs, releases, leaseClock);
  const rest = jobs.filter((_, j) => stored[j] === null);
  const written = rest.length || releases.length ? await writeRecords(c, rest, releases, leaseClock) : [];
  let next = 0;
  return stored.map((r, j) =>
    r === null
      ? written[next++]!
      : // Leases judged in the database's time, as the first try's disable judged them, by the
        // offset last proved (lease-clock.ts leaseJudgedAt; no round trip).
        {
          ...r,
          later: storedDisablesLater(
            r,
            disabledAtOf(jobs[j]!.options),
            leaseJudgedAt(jobs[j]!.options.now, leaseClock?.offsetMs ?? 0),
          ),
        },
  );
}

/** A retried job's first result when its attempts are stored, else null (stored-records.ts). */
async function storedRecordsPostgres(
  c: Queryable,
  records: AttemptRecord[],
  options: RecordOptions,
): Promise<RecordResult | null> {
  const pairs = (ids: [string, string][]) => [ids.map((p) => p[0]), ids.map((p) => p[1])];
  const inPairs = 'IN (SELECT * FROM unnest($1::text[], $2::text[]))';
  const found = await rowsOf(
    c,
    `SELECT project_id, id FROM attempts WHERE (project_id, id) ${inPairs}`,
    pairs(records.map((r) => [r.attempt.projectId, r.attempt.id])),
  );
  const lookups = {
    stored: new Set(found.map((r) => `${r.project_id}/${r.id}`)),
    deliveries: new Map<string, DeliveryStatus>(),
    disabledAt: new Map<string, string>(),
  };
  if (found.length === 0) return null;
  const deliveries = await rowsOf(
    c,
    `SELECT project_id, id, status FROM deliveries WHERE (project_id, id) ${inPairs}`,
    pairs(records.map((r) => [r.attempt.projectId, r.attempt.deliveryId])),
  );
  for (const r of deliveries)
    lookups.deliveries.set(`${r.project_id}/${r.id}`, String(r.status) as DeliveryStatus);
  const endpoints = records.flatMap((r): [string, string][] =>
    r.attempt.endpointId ? [[r.attempt.projectId, r.attempt.endpointId]] : [],
  );
  if (endpoints.length) {
    const disabled = await rowsOf(
      c,
      `SELECT project_id, id, disabled_reason FROM endpoints
       WHERE (project_id, id) ${inPairs} AND status = 'disabled' AND disabled_at = $3`,
      [...pairs(endpoints), disabledAtOf(options)],
    );
    for (const r of disabled) lookups.disabledAt.set(`${r.project_id}/${r.id}`, String(r.disabled_reason));
  }
  return storedResult(records, lookups);
}

async function writeRecords(
  c: Queryable,
  jobs: { records: AttemptRecord[]; options: RecordOptions }[],
  releases: ReleaseItem[],
  leaseClock?: LeaseClock,
): Promise<RecordedPostgres[]> {
  const flat = jobs.flatMap((job, j) => job.records.map((rec) => ({ rec, job: j, options: job.options })));
  // Endpoint health. The endpoints touched are locked in a fixed order (no deadlock between
  // processes), their counters applied in record order, then written with one atomic UPDATE (only
  // those whose count changes). Endpoints before deliveries: every writer of both takes them in
  // this order (lockEndpointPostgres).
  interface Health {
    projectId: string;
    id: string;
    status: string;
    count: number;
    /** The count as read. */
    before: number;
    reset: boolean;
    sinceReset: number;
    touched: boolean;
    /** `now`, the job's (leases are judged at it); `at`, when the disable is stored (disabledAtOf). */
    disable: { reason: string; now: number; at: number; job: number } | null;
  }
  // Whether all of an endpoint's records are successes: then its count changes only if it is not 0.
  const refs = new Map<string, { projectId: string; id: string; successesOnly: boolean }>();
  for (const { rec } of flat) {
    const a = rec.attempt;
    if (!a.endpointId) continue;
    const key = `${a.projectId}/${a.endpointId}`;
    const ref = refs.get(key) ?? { projectId: a.projectId, id: a.endpointId, successesOnly: true };
    if (rec.endpointEffect !== 'success') ref.successesOnly = false;
    refs.set(key, ref);
  }
  const health = new Map<string, Health>();
  const read = (rows: Row[]) => {
    for (const r of rows) {
      health.set(`${r.project_id}/${r.id}`, {
        projectId: String(r.project_id),
        id: String(r.id),
        status: String(r.status),
        count: num(r.consecutive_failures),
        before: num(r.consecutive_failures),
        reset: false,
        sinceReset: 0,
        touched: false,
        disable: null,
      });
    }
  };
  // The endpoints of deliveries handed back parked (due-deliveries.ts) are locked for writing with
  // the records' in one statement, in the same order.
  const [parkingProjects, parkingIds] = parkingParams(releases);
  const lockAndRead = async (list: { projectId: string; id: string }[], mode: string, parking = false) =>
    read(
      await rowsOf(
        c,
        `SELECT project_id, id, status, consecutive_failures FROM endpoints
         WHERE (project_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[])
                                    UNION ALL ${parkingEndpoints('$3', '$4')})
         ORDER BY project_id, id ${mode}`,
        [
          list.map((r) => r.projectId),
          list.map((r) => r.id),
          parking ? parkingProjects : [],
          parking ? parkingIds : [],
        ],
      ),
    );
  let changing: { projectId: string; id: string }[] = [];
  if (refs.size) {
    // Every touched endpoint FOR KEY SHARE first, in the fixed order: a delete (FOR UPDATE) waits
    // for this batch, as it waits for any writer of the endpoint's deliveries, but two workers'
    // batches do not wait for each other here. Then only the endpoints whose row may change (a
    // failure or a 410 among the records, or a count to reset) FOR NO KEY UPDATE, in the same
    // order, read again under that lock, so a change another worker committed meanwhile is
    // counted. A batch of successes for an endpoint whose count is 0 (most of them) writes and
    // waits for nothing: had another worker's failure been committed after the read, the count it
    // left stands, as if this batch's successes came before it.
    await lockAndRead([...refs.values()], 'FOR KEY SHARE');
    changing = [...refs.entries()]
      .filter(([key, ref]) => !ref.successesOnly || (health.get(key)?.count ?? 0) > 0)
      .map(([, ref]) => ref);
  }
  if (changing.length || parkingIds.length) await lockAndRead(changing, 'FOR NO KEY UPDATE', true);
  const disabled: RecordResult['disabledEndpoints'][] = jobs.map(() => []);
  for (const { rec, job, options } of flat) {
    const h = rec.attempt.endpointId
      ? health.get(`${rec.attempt.projectId}/${rec.attempt.endpointId}`)
      : undefined;
    if (!h) continue;
    if (rec.endpointEffect === 'success') {
      h.touched = true;
      h.reset = true;
      h.sinceReset = 0;
      h.count = 0;
    } else if ((rec.endpointEffect === 'failure' || rec.endpointEffect === 'gone') && h.status === 'active') {
      // A disabled endpoint's count stays as its disable left it (the failures that disabled it):
      // attempts in flight at the disable, recorded after it, do not add to it (delivery.md).
      h.touched = true;
      h.count++;
      h.sinceReset++;
      const reason = disableReason(rec.endpointEffect, h.count, options.failureThreshold);
      if (reason) {
        h.status = 'disabled';
        h.disable = { reason, now: options.now, at: disabledAtOf(options), job };
        disabled[job]!.push({ projectId: h.projectId, endpointId: h.id, reason });
      }
    }
  }
  const touched = [...health.values()].filter((h) => h.touched);
  // A success on a count of 0 leaves the row as it is (and was not locked for writing).
  const writes = touched.filter((h) => !(h.reset && h.sinceReset === 0 && h.before === 0));
  if (writes.length) {
    await c.query(
      `UPDATE endpoints e SET consecutive_failures =
         CASE WHEN v.reset THEN v.k ELSE e.consecutive_failures + v.k END
       FROM unnest($1::text[], $2::text[], $3::bool[], $4::int[]) AS v(project_id, id, reset, k)
       WHERE e.project_id = v.project_id AND e.id = v.id`,
      [
        writes.map((h) => h.projectId),
        writes.map((h) => h.id),
        writes.map((h) => h.reset),
        writes.map((h) => h.sinceReset),
      ],
    );
  }
  // What each disable parked: its endpoint's pending deliveries not in flight (those of this batch
  // are left to their records), then the records of this batch that end up parked.
  // The endpoints disabled here share one batch of parking (park-batch.ts); the pending deliveries
  // past it are counted, and parked after the commit in transactions of their own.
  const disables = new Map<string, { h: Health; parked: number; consecutiveFailures: number }>();
  const later: ParkRest[][] = jobs.map(() => []);
  const picks: {
    h: Health;
    key: string;
    limit: number;
    own: string[];
    ids: string[];
    consecutiveFailures: number;
  }[] = [];
  let budget = parkBatch.rows;
  // A disable leaves the deliveries other workers are sending to their records, their leases judged
  // in the database's time (endpoint-parking.ts notInFlight; one more round trip, in a group that
  // disables only).
  const offsetMs =
    leaseClock && touched.some((h) => h.disable)
      ? await measureLeaseOffset(leaseClock, () => databaseNowIn(c))
      : 0;
  for (const h of touched) {
    if (!h.disable) continue;
    const key = `${h.projectId}/${h.id}`;
    const own = flat
      .filter(({ rec }) => `${rec.attempt.projectId}/${rec.attempt.endpointId}` === key)
      .map(({ rec }) => rec.attempt.deliveryId);
    const limit = budget;
    const picked = await disablePickingPostgres(
      c,
      h.projectId,
      h.id,
      h.disable.reason,
      h.disable.at,
      limit,
      own,
      leaseJudgedAt(h.disable.now, offsetMs),
    );
    picks.push({ h, key, limit, own, ...picked });
    budget = picked.ids.length >= limit ? 0 : limit - picked.ids.length;
  }
  // Every delivery this batch writes, locked once in key order before any is written, when it writes
  // them in more than one statement: each of the parks, the moves and the hand-backs goes in key
  // order, but one after the other they do not, and two batches sharing deliveries across them (a
  // lease ran out, an auto-disable parked what another worker recorded late) deadlocked
  // (test/store/postgres-lock-order.test.ts). A batch of records alone locks in its one statement.
  const parking = picks.flatMap((p) => p.ids.map((id) => ({ projectId: p.h.projectId, deliveryId: id })));
  if ((parking.length > 0 ? 1 : 0) + (flat.length > 0 ? 1 : 0) + (releases.length > 0 ? 1 : 0) > 1) {
    await lockDeliveriesPostgres(c, [...parking, ...flat.map(({ rec }) => rec.attempt), ...releases]);
  }
  for (const { h, key, limit, own, ids, consecutiveFailures } of picks) {
    const leaseNow = leaseJudgedAt(h.disable!.now, offsetMs);
    const off = await parkPickedPostgres(c, h.projectId, h.id, h.disable!.at, limit, own, ids, leaseNow);
    disables.set(key, { h, parked: off.parked, consecutiveFailures });
    if (off.rest) {
      later[h.disable!.job]!.push({
        projectId: h.projectId,
        endpointId: h.id,
        disabledAt: h.disable!.at,
        inFlightAt: leaseNow,
      });
    }
  }

  // A retry due as claims count it (lease-clock.ts databaseDueTime): a worker off writes it, and
  // the row's updated_at that its due_since is kept from, moved by the offset its last claim proved.
  // Its last_attempt_at too: the backlog's oldest (due-deliveries.ts backlogPostgres) takes a
  // due_since before it for a row an older version wrote. Until 2026-12-07 on the worker's clock: a
  // retry due sooner than the worker was ahead went unread there while another worker sent it,
  // and the delivery showed its last attempt after its updatedAt. The attempt keeps its own times.
  const due = (at: number) => databaseDueTime(at, leaseClock?.offsetMs ?? 0);
  const dv: unknown[][] = [[], [], [], [], [], [], []];
  for (const { rec, options } of flat) {
    const a = rec.attempt;
    let status = rec.next.status;
    if (a.endpointId && status === 'pending') {
      const h = health.get(`${a.projectId}/${a.endpointId}`);
      // Disabled: parked until enabled. Deleted meanwhile: nothing will ever deliver it, close it.
      if (!h) status = 'failed';
      else if (h.status === 'disabled') status = 'parked';
    }
    pushRow(dv, [
      a.projectId,
      a.deliveryId,
      status,
      status === 'pending' && rec.next.nextAttemptAt !== null ? due(rec.next.nextAttemptAt) : null,
      due(a.startedAt),
      due(options.now),
      rec.workerId,
    ]);
  }
  // A late record (its lease ran out and another worker took over) must not move a finished
  // delivery back to pending; a success always counts. The attempt is counted either way. One
  // UPDATE … FROM changes a row once however many rows of v match it, so the records of a delivery
  // recorded twice in this batch go in rounds, in record order (almost always a single round).
  const after: (DeliveryStatus | undefined)[] = [];
  const numbers: number[] = [];
  const moved: boolean[] = [];
  for (const { indexes, params } of rounds(flat, dv)) {
    const rows = await rowsOf(c, MOVE_DELIVERIES, params);
    const got = new Map(rows.map((r) => [`${r.project_id}/${r.id}`, r]));
    for (const i of indexes) {
      const a = flat[i]!.rec.attempt;
      const row = got.get(`${a.projectId}/${a.deliveryId}`);
      after[i] = row === undefined ? undefined : (String(row.status) as DeliveryStatus);
      numbers[i] = row === undefined ? a.number : num(row.attempts);
      moved[i] = row?.moved === true;
    }
  }
  // A delivery that is gone (its project or event deleted while the attempt was out) gets no
  // attempt row: it would be an orphan that nothing lists or removes.
  const live = new Map<string, DeliveryStatus>();
  flat.forEach(({ rec }, i) => {
    if (after[i] !== undefined) live.set(`${rec.attempt.projectId}/${rec.attempt.deliveryId}`, after[i]);
  });
  // Each kept record with its attempt numbered by the count it left; `movers`, those that moved
  // their delivery.
  const kept: typeof flat = [];
  const movers: typeof flat = [];
  flat.forEach((item, i) => {
    if (after[i] === undefined) return;
    const number = numbers[i]!;
    const { rec } = item;
    const numbered =
      number === rec.attempt.number
        ? item
        : { ...item, rec: { ...rec, attempt: { ...rec.attempt, number } } };
    kept.push(numbered);
    if (moved[i]) movers.push(numbered);
  });
  let next = 0;
  const statuses = jobs.map((job) => job.records.map(() => after[next++] ?? null));
  // Each parked record counts once, however many records of its delivery the batch had.
  const counted = new Set<string>();
  for (const { rec } of flat) {
    const a = rec.attempt;
    const off = disables.get(`${a.projectId}/${a.endpointId}`);
    const key = `${a.projectId}/${a.deliveryId}`;
    if (off && live.get(key) === 'parked' && !counted.has(key)) {
      counted.add(key);
      off.parked++;
    }
  }
  for (const { h, parked, consecutiveFailures } of disables.values()) {
    await recordEndpointDisabledPostgres(
      c,
      h.projectId,
      h.id,
      { reason: h.disable!.reason, consecutiveFailures, parked },
      h.disable!.at,
    );
  }
  const at: unknown[][] = Array.from({ length: 13 }, () => []);
  for (const { rec } of kept) pushRow(at, attemptValues(rec));
  if (kept.length) {
    await c.query(
      `INSERT INTO attempts (${ATTEMPT_COLUMNS})
     SELECT p, i, d, e, ep, t, n, s, du, o, rq::json, rs::json, er::json
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[],
       $9::int[], $10::text[], $11::text[], $12::text[], $13::text[]) AS v(p, i, d, e, ep, t, n, s, du, o, rq, rs, er)`,
      at,
    );
  }
  // delivery.exhausted, for the records that failed their delivery for good: not a late one, whose
  // delivery another worker's record already ended (failed or succeeded) or still holds.
  await recordExhaustedPostgres(c, movers, (p, e) => health.has(`${p}/${e}`), due);
  return disabled.map((disabledEndpoints, j) => ({
    disabledEndpoints,
    statuses: statuses[j]!,
    later: later[j]!,
  }));
}

/**
 * The records of `flat` (their columns in `dv`) in rounds with at most one record of a delivery
 * each, the records of one delivery in their order. Each round's UPDATE locks its deliveries in key
 * order (delivery-locks.ts), the order retention, a recover, a park and a resume lock deliveries in,
 * and the same in every worker. In record order (as the attempts finished), two workers' batches that
 * share deliveries (a lease ran out: one's record came late, the other had claimed the delivery
 * again) locked them in different orders and deadlocked (a scratch run: 3 deadlocks in 10 rounds of
 * 400 shared deliveries, none once in key order). A round after the first holds only deliveries the
 * first locked already.
 */
function rounds(
  flat: { rec: AttemptRecord }[],
  dv: unknown[][],
): { indexes: number[]; params: unknown[][] }[] {
  const seen = new Map<string, number>();
  const out: number[][] = [];
  for (const [i, { rec }] of flat.entries()) {
    const key = `${rec.attempt.projectId}/${rec.attempt.deliveryId}`;
    const r = seen.get(key) ?? 0;
    seen.set(key, r + 1);
    if (!out[r]) out[r] = [];
    out[r].push(i);
  }
  return out.map((indexes) => ({ indexes, params: dv.map((column) => indexes.map((i) => column[i])) }));
}
