/**
 * The PostgreSQL store's accepts, as its group commit writes them (writeBatch, write-batch.ts): the
 * events of every queued acceptEvents call, their idempotency keys and their fan-out, with one
 * multi-row INSERT per table; and the read of events with their deliveries that accepts (repeated
 * keys) and getEvent share.
 */
import type pg from 'pg';
import { countFanOutTargets, DeliveryCount, newDelivery, newEvent } from '../../domain/fan-out.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { Delivery, Endpoint, HeraldEvent } from '../../domain/types.ts';
import { ACCEPT_WAIT_MS, GROUP_DELIVERIES } from '../accept-group.ts';
import { databaseDueTime, type LeaseClock, measureLeaseOffset } from '../lease-clock.ts';
import {
  type AcceptedEvent,
  type AcceptLease,
  type NewEventInput,
  StoreTooManyDeliveriesError,
} from '../store.ts';
import { databaseNowIn } from './claims.ts';
import { DEFERRED, JobsRefused } from './group-commit.ts';
import { pushRow, type Row, toDelivery, toEvent } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;
type FanOutEndpoint = Pick<Endpoint, 'id' | 'url' | 'status' | 'dev' | 'eventTypes'>;

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const query = async (sql: string, params: unknown[], db: Queryable): Promise<Row[]> =>
  (await db.query(sql, params)).rows as Row[];
const run = async (sql: string, params: unknown[], db: Queryable): Promise<number> =>
  (await db.query(sql, params)).rowCount ?? 0;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export async function eventsWithDeliveries(
  db: Queryable,
  refs: { projectId: string; eventId: string }[],
): Promise<Map<string, { event: HeraldEvent; deliveries: Delivery[] }>> {
  const out = new Map<string, { event: HeraldEvent; deliveries: Delivery[] }>();
  if (refs.length === 0) return out;
  const params = [refs.map((r) => r.projectId), refs.map((r) => r.eventId)];
  const events = await query(
    `SELECT * FROM events WHERE (project_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    params,
    db,
  );
  for (const r of events) out.set(`${r.project_id}/${r.id}`, { event: toEvent(r), deliveries: [] });
  const deliveries = await query(
    `SELECT * FROM deliveries WHERE (project_id, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
     ORDER BY id`,
    params,
    db,
  );
  for (const r of deliveries) out.get(`${r.project_id}/${r.event_id}`)?.deliveries.push(toDelivery(r));
  return out;
}

/**
 * One group's accepts. A job with a `lease` stores up to `lease.max` of its new deliveries (across
 * its events, the first ones of each) leased to `lease.workerId`, as a claim would lease them
 * (lease_until, leased_by), and returns them with the payload text as stored (the hand-off,
 * src/delivery/handoff.ts).
 */
/**
 * Events for a project that is no longer there (deleted, or its delete begun, after the route found it): the error a
 * foreign key would raise (23503), which the API answers 404 for the project (errors.ts). The
 * group commit then writes the batch's other jobs without this one.
 */
function projectGone(projectIds: string[]): Error {
  return Object.assign(
    new Error(`insert on table "events": the project is gone (${projectIds.join(', ')})`),
    { code: '23503' },
  );
}

// GROUP_DELIVERIES and ACCEPT_WAIT_MS: accept-group.ts (the SQLite store's group commit keeps them too).
export { ACCEPT_WAIT_MS, GROUP_DELIVERIES };

/**
 * How many of `jobs`, from the first, one group writes: the first always, then each whose
 * deliveries keep the group within `limit`. A job's are counted as if none of its idempotency keys
 * repeated (at most what it creates), on its project's endpoints as this transaction read them.
 * Nothing is counted when events × (endpoints + 1) of them all is within it (the ordinary case).
 */
export function acceptsWithin(
  jobs: readonly AcceptJob[],
  endpointsByProject: ReadonlyMap<string, readonly FanOutEndpoint[]>,
  limit: number,
): number {
  const endpointsOf = (job: AcceptJob) => endpointsByProject.get(job.projectId) ?? [];
  let most = 0;
  for (const job of jobs) most += job.events.length * (endpointsOf(job).length + 1);
  if (most <= limit) return jobs.length;
  let total = 0;
  for (const [i, job] of jobs.entries()) {
    for (const input of job.events) {
      total +=
        countFanOutTargets(endpointsOf(job), input, input.onlyEndpointId) +
        (input.callbackUrl && !input.onlyEndpointId ? 1 : 0);
    }
    if (i > 0 && total > limit) return i;
  }
  return jobs.length;
}

/** One queued acceptEvents call. */
export interface AcceptJob {
  projectId: string;
  events: NewEventInput[];
  now: number;
  lease?: AcceptLease;
  /** HERALD_MAX_DELIVERIES_PER_REQUEST: more new deliveries refuse the job (StoreTooManyDeliveriesError). */
  maxDeliveries?: number;
}

/**
 * A job whose new events would create more than its `maxDeliveries` is refused once every event's
 * fan-out is decided, before any event or delivery is inserted: the batch throws JobsRefused, its
 * transaction (the idempotency keys claimed so far) rolls back, and the group commit writes the
 * other jobs again without it (group-commit.ts).
 */
export async function acceptBatchPostgres(
  c: Queryable,
  queued: AcceptJob[],
  groupDeliveries = GROUP_DELIVERIES,
  leaseClock?: LeaseClock,
): Promise<(AcceptedEvent[] | typeof DEFERRED)[]> {
  const projectIds = [...new Set(queued.map((j) => j.projectId))];
  // Only what fan-out needs: a 10,000-endpoint project is read on every accept. In the same
  // statement, each project's row is locked FOR KEY SHARE (as a foreign key would: events have none
  // here) until this batch commits, so that a project deleted meanwhile is seen: its delete's last
  // transaction waits for the batch and removes its events, or the batch finds no row and fails.
  // A project whose delete began (`deleting`, set in its first transaction, which locks the row
  // FOR UPDATE: this lock waits for it, and it for this one) counts as gone: stored, its events' callbacks were claimed and sent until the history
  // steps (or, after a stop, the next start) removed them.
  //
  // The endpoints are read as of the statement's start, without a lock. An endpoint's delete then
  // locks the project's row FOR UPDATE and writes it (postgres-store.ts deleteEndpoint), after its
  // own commit: that waits for a batch that had locked the row (and so had read the endpoint),
  // whose deliveries to it the delete then closes; and a batch whose lock waited for it gets the row
  // as that write left it (a new xmin), not as its snapshot holds it (`seen`), and reads the
  // endpoints again in a statement of its own, which sees the delete. Before, either stored
  // deliveries to the endpoint after its DELETE answered 204. One more index probe per project.
  const endpointsByProject = new Map<string, FanOutEndpoint[]>();
  const rows = await query(
    `WITH p AS (
       SELECT id, xmin = (SELECT s.xmin FROM projects s WHERE s.id = projects.id) AS seen
       FROM projects WHERE id = ANY($1::text[]) AND NOT deleting FOR KEY SHARE
     )
     SELECT p.id AS present, p.seen, e.id, e.url, e.status, e.dev, e.event_types
     FROM p LEFT JOIN endpoints e ON e.project_id = p.id`,
    [projectIds],
    c,
  );
  const stale = rows.some((r) => r.seen !== true);
  for (const r of stale
    ? await query(
        `SELECT p.id AS present, e.id, e.url, e.status, e.dev, e.event_types
         FROM projects p LEFT JOIN endpoints e ON e.project_id = p.id
         WHERE p.id = ANY($1::text[]) AND NOT p.deleting`,
        [projectIds],
        c,
      )
    : rows) {
    let list = endpointsByProject.get(String(r.present));
    if (!list) {
      list = [];
      endpointsByProject.set(String(r.present), list);
    }
    if (r.id === null) continue; // a project without endpoints
    list.push({
      id: String(r.id),
      url: String(r.url),
      status: String(r.status) as Endpoint['status'],
      dev: r.dev === true,
      eventTypes: (typeof r.event_types === 'string' ? JSON.parse(r.event_types) : r.event_types) as string[],
    });
  }
  const gone = projectIds.filter((p) => !endpointsByProject.has(p));
  if (gone.length) throw projectGone(gone);
  const taken = acceptsWithin(queued, endpointsByProject, groupDeliveries);
  const jobs = queued.slice(0, taken);
  const deferred = queued.slice(taken).map((): typeof DEFERRED => DEFERRED);

  interface Item {
    job: AcceptJob;
    /** The job's count of new deliveries (shared by the job's items). */
    count: DeliveryCount;
    projectId: string;
    input: NewEventInput;
    now: number;
    /** `now` as the database's time (dueBy): its event's and deliveries' ids and times. */
    at: number;
    /** The lease of this item's job, and what it still allows (shared by the job's items). */
    lease: { of: AcceptLease; room: { left: number } } | null;
    /** Set when this item creates an event. */
    created: AcceptedEvent | null;
    /** Set when this item repeats an idempotency key: the item it repeats, or an existing event. */
    sameAs: Item | null;
    existingEventId: string | null;
  }
  // Written at the database's time as the workers' claims count it (lease-clock.ts
  // databaseDueTime): an accepting process off writes its events and their deliveries (ids,
  // created, updated and due) moved by the offset its clock check (or its last leasing accept)
  // proved, earlier when ahead, later when behind; no round trip here. Its leases and idempotency
  // windows keep its own clock.
  const dueBy = databaseDueTime(0, leaseClock?.offsetMs ?? 0);
  const items: Item[][] = jobs.map((j) => {
    const lease = j.lease ? { of: j.lease, room: { left: Math.max(0, j.lease.max) } } : null;
    const count = new DeliveryCount(j.maxDeliveries);
    return j.events.map((input) => ({
      job: j,
      count,
      projectId: j.projectId,
      input,
      now: j.now,
      at: j.now + dueBy,
      lease,
      created: null,
      sameAs: null,
      existingEventId: null,
    }));
  });
  const all = items.flat();

  // Idempotency. A key repeated inside the batch repeats its first use. The first use claims the
  // key with INSERT … ON CONFLICT: it wins when the key is new or expired; a live key held by an
  // event of another transaction (any process) makes the statement wait for it, then lose.
  const firstUse = new Map<string, Item>();
  const claims: Item[] = [];
  for (const item of all) {
    const key = item.input.idempotencyKey;
    if (!key) continue;
    const k = `${item.projectId}\u0000${key}`;
    const first = firstUse.get(k);
    if (first && first.now + IDEMPOTENCY_WINDOW_MS > item.now) item.sameAs = first;
    else {
      firstUse.set(k, item);
      if (!first) claims.push(item);
    }
  }
  const eventIds = new Map<Item, string>(all.map((item) => [item, newId(ID_PREFIX.event, item.at)]));
  if (claims.length) {
    // Sorted, so two batches claiming overlapping keys lock them in the same order (no deadlock).
    claims.sort(
      (a, b) => cmp(a.projectId, b.projectId) || cmp(a.input.idempotencyKey!, b.input.idempotencyKey!),
    );
    const won = await query(
      `INSERT INTO idempotency_keys (project_id, key, event_id, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
       ON CONFLICT (project_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at <= excluded.expires_at - ${IDEMPOTENCY_WINDOW_MS}
       RETURNING project_id, key`,
      [
        claims.map((i) => i.projectId),
        claims.map((i) => i.input.idempotencyKey),
        claims.map((i) => eventIds.get(i)),
        claims.map((i) => i.now + IDEMPOTENCY_WINDOW_MS),
      ],
      c,
    );
    const wonKeys = new Set(won.map((r) => `${r.project_id}\u0000${r.key}`));
    const lost = claims.filter((i) => !wonKeys.has(`${i.projectId}\u0000${i.input.idempotencyKey}`));
    if (lost.length) {
      const held = await query(
        `SELECT project_id, key, event_id FROM idempotency_keys
         WHERE (project_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [lost.map((i) => i.projectId), lost.map((i) => i.input.idempotencyKey)],
        c,
      );
      const holder = new Map(held.map((r) => [`${r.project_id}\u0000${r.key}`, String(r.event_id)]));
      for (const i of lost)
        i.existingEventId = holder.get(`${i.projectId}\u0000${i.input.idempotencyKey}`) ?? null;
    }
  }
  const existing = await eventsWithDeliveries(
    c,
    all
      .filter((i) => i.existingEventId)
      .map((i) => ({ projectId: i.projectId, eventId: i.existingEventId! })),
  );
  // A key whose event is gone (should not happen: they are deleted together) is taken over.
  const orphaned = all.filter(
    (i) => i.existingEventId && !existing.has(`${i.projectId}/${i.existingEventId}`),
  );
  for (const i of orphaned) {
    i.existingEventId = null;
    await run(
      'UPDATE idempotency_keys SET event_id = $1, expires_at = $2 WHERE project_id = $3 AND key = $4',
      [eventIds.get(i), i.now + IDEMPOTENCY_WINDOW_MS, i.projectId, i.input.idempotencyKey],
      c,
    );
  }

  // Fan-out of every new event, counted per job before anything of it is inserted.
  const fanned: { item: Item; event: HeraldEvent; targets: FanOutEndpoint[] }[] = [];
  for (const item of all) {
    if (item.sameAs || item.existingEventId) continue;
    const event = newEvent(eventIds.get(item)!, item.projectId, item.input, item.at);
    const endpoints = endpointsByProject.get(item.projectId) ?? [];
    // Past the job's limit its lists are not kept: it is refused below.
    fanned.push({ item, event, targets: item.count.add(endpoints, event, item.input.onlyEndpointId) ?? [] });
  }
  const refused = new Map<AcceptJob, Error>();
  for (const list of items) {
    const count = list[0]?.count;
    if (count?.over)
      refused.set(list[0]!.job, new StoreTooManyDeliveriesError(count.limit, count.deliveries));
  }
  if (refused.size) throw new JobsRefused(refused);

  // Leases in the database's time (lease-clock.ts): a process whose clock is behind leases that
  // much longer (one ahead as long, on its own clock: later by the database's). One more round trip,
  // for a group with a lease only (light load).
  let lagMs = 0;
  if (leaseClock && fanned.some((f) => f.item.lease)) {
    lagMs = Math.max(0, -(await measureLeaseOffset(leaseClock, () => databaseNowIn(c))));
  }
  // Written with one multi-row INSERT per table.
  const ev: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
  const dl: unknown[][] = [[], [], [], [], [], [], [], []];
  for (const { item, event, targets } of fanned) {
    const { projectId, now, at } = item;
    const deliveries: Delivery[] = targets.map((ep) => newDelivery(projectId, event.id, ep.id, ep.url, at));
    if (event.callbackUrl) deliveries.push(newDelivery(projectId, event.id, null, event.callbackUrl, at));
    deliveries.sort((a, b) => cmp(a.id, b.id));
    event.deliveryCount = deliveries.length;
    const payloadJson = JSON.stringify(event.payload);
    // The first ones the job's lease has room for are stored leased; all are returned due now.
    const leased = item.lease ? Math.min(item.lease.room.left, deliveries.length) : 0;
    if (item.lease) item.lease.room.left -= leased;
    // This process counts the lease from the accept's now, on its own clock.
    item.created = item.lease
      ? { event, deliveries, duplicate: false, payloadJson, leased, leaseEndsAt: now + item.lease.of.leaseMs }
      : { event, deliveries, duplicate: false };
    pushRow(ev, [
      projectId,
      event.id,
      event.type,
      payloadJson,
      event.test,
      event.idempotencyKey,
      event.callbackUrl,
      event.callbackEnvelope ?? null,
      event.deliveryCount,
      at,
    ]);
    deliveries.forEach((d, i) => {
      const lease = i < leased ? item.lease!.of : null;
      // It says its lease's end, as a claim's does: a hand-back names its claim by it (ReleaseItem.leasedUntil).
      if (lease) d.leasedUntil = now + lease.leaseMs + lagMs;
      pushRow(dl, [
        projectId,
        d.id,
        d.eventId,
        d.endpointId,
        d.url,
        at,
        lease ? now + lease.leaseMs + lagMs : null,
        lease?.workerId ?? null,
      ]);
    });
  }
  if (ev[0]!.length) {
    await run(
      `INSERT INTO events (project_id, id, type, payload, test, idempotency_key, callback_url, callback_envelope,
         delivery_count, created_at)
       SELECT p, i, t, pl::json, te, k, cb, ce, dc, ca
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::text[],
         $9::int[], $10::bigint[])
         AS v(p, i, t, pl, te, k, cb, ce, dc, ca)`,
      ev,
      c,
    );
  }
  if (dl[0]!.length) {
    await run(
      `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at,
         created_at, updated_at, lease_until, leased_by, due_since)
       SELECT p, i, e, ep, u, 'pending', 0, n, n, n, lu, lb, n
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[])
         AS v(p, i, e, ep, u, n, lu, lb)`,
      dl,
      c,
    );
  }
  const resolve = (item: Item): AcceptedEvent => {
    if (item.created) return item.created;
    if (item.sameAs) {
      // The repeat leased nothing: carrying the first use's `leased` would have the hand-off post
      // the same deliveries twice, and both copies were sent (as the SQLite store, event and
      // deliveries only).
      const { event, deliveries } = resolve(item.sameAs);
      return { event, deliveries, duplicate: true };
    }
    const found = existing.get(`${item.projectId}/${item.existingEventId}`)!;
    return { ...found, duplicate: true };
  };
  return [...items.map((list) => list.map(resolve)), ...deferred];
}
