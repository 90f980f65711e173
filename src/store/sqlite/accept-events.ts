/**
 * The SQLite store's accepts, as one job of its group commit runs them: each event stored with its
 * idempotency key and its fan-out (one delivery per matching endpoint, plus its callback URL), and
 * the read of an event with its deliveries that repeated keys and `getEvent` share.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { DeliveryCount, newDelivery, newEvent } from '../../domain/fan-out.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { Delivery, Endpoint, HeraldEvent } from '../../domain/types.ts';
import type { FanOutCache, FanOutEndpoint } from '../fan-out-cache.ts';
import {
  type AcceptedEvent,
  type AcceptLease,
  type NewEventInput,
  StoreTooManyDeliveriesError,
} from '../store.ts';
import { all, get, prepared, run } from './db-helpers.ts';
import { toDelivery, toEvent } from './rows.ts';

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const FAN_OUT_SQL = 'SELECT id, url, status, dev, event_types FROM endpoints WHERE project_id = ?';
/** Rows per multi-row INSERT of deliveries: one statement instead of 64 (12 parameters each). */
const DELIVERY_ROWS_PER_INSERT = 64;
const deliveryInsert = (rows: number): string =>
  `INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, attempts, next_attempt_at, leased_by, created_at, updated_at, due_since, held_until, lease_until) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?)").join(', ')}`;
const INSERT_ONE_DELIVERY = deliveryInsert(1);
const INSERT_DELIVERY_ROWS = deliveryInsert(DELIVERY_ROWS_PER_INSERT);

/** A fan-out list read from the database, for the cache once its transaction has committed. */
export interface LoadedFanOut {
  projectId: string;
  version: number;
  endpoints: readonly FanOutEndpoint[];
}

/**
 * What one event of an accept will do, decided before anything is written: repeat an event already
 * stored (its key is held), repeat an earlier event of this accept (same key: read once that one is
 * written), or create an event with deliveries to `targets`.
 */
type Plan =
  | { kind: 'repeat'; result: AcceptedEvent }
  | { kind: 'again' }
  | { kind: 'new'; event: HeraldEvent; targets: readonly FanOutEndpoint[] };

/**
 * Stores `events` of one project and fans each out; results in input order. A list read from the
 * database comes back as `loaded`, and the caller puts it in the cache only after the transaction
 * commits: a version seen in a transaction that is rolled back can be reached again later by other
 * changes, and must not name this list then. Every event's fan-out is decided first: past
 * `maxDeliveries` new deliveries it throws StoreTooManyDeliveriesError before any insert.
 */
export function acceptEventsSqlite(
  db: DatabaseSync,
  fanOut: FanOutCache,
  projectId: string,
  events: NewEventInput[],
  now: number,
  lease?: AcceptLease,
  maxDeliveries?: number,
): { accepted: AcceptedEvent[]; loaded: LoadedFanOut | null } {
  const { endpoints, loaded, deleting } = fanOutList(db, fanOut, projectId);
  if (deleting) throw projectBeingDeleted(projectId);
  const count = new DeliveryCount(maxDeliveries);
  const keys = new Set<string>();
  const plans = events.map((input) => planOne(db, projectId, input, endpoints, now, keys, count));
  if (count.over) throw new StoreTooManyDeliveriesError(count.limit, count.deliveries);
  // What the lease still allows, across the events of this accept.
  const room = { left: lease ? Math.max(0, lease.max) : 0 };
  return {
    accepted: events.map((input, i) => writeOne(db, projectId, input, plans[i]!, now, lease, room)),
    loaded,
  };
}

/**
 * Events for a project whose delete began after the route found it (`deleting`, project-delete.ts):
 * refused as the foreign key refuses them once its row is gone (SQLITE_CONSTRAINT_FOREIGNKEY, which
 * the API answers 404 for the project, errors.ts). Stored, their callbacks were claimed and sent
 * until the delete's history steps (or, after a stop, the next start) removed them.
 */
function projectBeingDeleted(projectId: string): Error {
  return Object.assign(
    new Error(`FOREIGN KEY constraint failed: the project is being deleted (${projectId})`),
    {
      code: 'ERR_SQLITE_ERROR',
      errcode: 787,
    },
  );
}

/**
 * The most deliveries an accept of `events` events can create (each to every endpoint, and a
 * callback), on the project's endpoints as they are now: what a group commit counts it as.
 */
export function acceptSizeSqlite(
  db: DatabaseSync,
  fanOut: FanOutCache,
  projectId: string,
  events: number,
): number {
  return events * (fanOutList(db, fanOut, projectId).endpoints.length + 1);
}

/** An event with its deliveries (in id order), or null. */
export function eventSqlite(db: DatabaseSync, projectId: string, eventId: string): HeraldEvent | null {
  const row = get(db, 'SELECT * FROM events WHERE project_id = ? AND id = ?', projectId, eventId);
  return row ? toEvent(row) : null;
}

export function eventWithDeliveriesSqlite(db: DatabaseSync, projectId: string, eventId: string) {
  const event = eventSqlite(db, projectId, eventId);
  if (!event) return null;
  const deliveries = all(
    db,
    'SELECT * FROM deliveries WHERE project_id = ? AND event_id = ? ORDER BY id',
    projectId,
    eventId,
  ).map(toDelivery);
  return { event, deliveries };
}

/**
 * The project's fan-out list: from memory while the project's `fan_out_version` (bumped by
 * triggers on every endpoint change, see migration 0005) is the one it was read under; else only
 * the columns fan-out needs, as arrays (a 10,000-endpoint project is ~10,000 rows).
 */
function fanOutList(
  db: DatabaseSync,
  fanOut: FanOutCache,
  projectId: string,
): { endpoints: readonly FanOutEndpoint[]; loaded: LoadedFanOut | null; deleting: boolean } {
  const project = get(db, 'SELECT fan_out_version, deleting FROM projects WHERE id = ?', projectId);
  const version = project ? Number(project.fan_out_version) : -1;
  const deleting = Boolean(project?.deleting);
  const cached = fanOut.get(projectId, version);
  if (cached) return { endpoints: cached, loaded: null, deleting };
  const endpoints = (fanOutStatement(db).all(projectId) as unknown as unknown[][]).map(
    ([id, url, status, dev, eventTypes]): FanOutEndpoint => ({
      id: String(id),
      url: String(url),
      status: String(status) as Endpoint['status'],
      dev: Number(dev) === 1,
      eventTypes: eventTypes === '[]' ? [] : (JSON.parse(String(eventTypes)) as string[]),
    }),
  );
  return { endpoints, loaded: project ? { projectId, version, endpoints } : null, deleting };
}

const arrayStatements = new WeakMap<DatabaseSync, StatementSync>();
function fanOutStatement(db: DatabaseSync): StatementSync {
  let statement = arrayStatements.get(db);
  if (!statement) {
    statement = db.prepare(FAN_OUT_SQL);
    statement.setReturnArrays(true);
    arrayStatements.set(db, statement);
  }
  return statement;
}

function planOne(
  db: DatabaseSync,
  projectId: string,
  input: NewEventInput,
  endpoints: readonly FanOutEndpoint[],
  now: number,
  keys: Set<string>,
  count: DeliveryCount,
): Plan {
  const key = input.idempotencyKey;
  if (key) {
    if (keys.has(key)) return { kind: 'again' };
    keys.add(key);
    const found = heldEvent(db, projectId, key, now);
    if (found) return { kind: 'repeat', result: { ...found, duplicate: true } };
  }
  const event = newEvent(newId(ID_PREFIX.event, now), projectId, input, now);
  // Past the limit the lists are not kept: the accept is refused before writeOne.
  return { kind: 'new', event, targets: count.add(endpoints, event, input.onlyEndpointId) ?? [] };
}

/** The event (with its deliveries) that holds `key` at `now`, or null. */
function heldEvent(db: DatabaseSync, projectId: string, key: string, now: number) {
  const hit = get(
    db,
    'SELECT event_id FROM idempotency_keys WHERE project_id = ? AND key = ? AND expires_at > ?',
    projectId,
    key,
    now,
  );
  return hit ? eventWithDeliveriesSqlite(db, projectId, String(hit.event_id)) : null;
}

function writeOne(
  db: DatabaseSync,
  projectId: string,
  input: NewEventInput,
  plan: Plan,
  now: number,
  lease: AcceptLease | undefined,
  room: { left: number },
): AcceptedEvent {
  if (plan.kind === 'repeat') return plan.result;
  if (plan.kind === 'again') {
    // The earlier event of this accept with the same key is written by now.
    const found = heldEvent(db, projectId, input.idempotencyKey!, now);
    if (!found) throw new Error('an idempotency key repeated in one accept was not stored');
    return { ...found, duplicate: true };
  }
  const { event, targets } = plan;
  const payloadJson = JSON.stringify(event.payload);
  const deliveries: Delivery[] = targets.map((ep) => newDelivery(projectId, event.id, ep.id, ep.url, now));
  if (event.callbackUrl) deliveries.push(newDelivery(projectId, event.id, null, event.callbackUrl, now));
  event.deliveryCount = deliveries.length;
  run(
    db,
    `INSERT INTO events (id, project_id, type, payload, test, idempotency_key, callback_url, callback_envelope, delivery_count, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    event.id,
    projectId,
    event.type,
    payloadJson,
    event.test ? 1 : 0,
    event.idempotencyKey,
    event.callbackUrl,
    event.callbackEnvelope ?? null,
    event.deliveryCount,
    now,
  );
  if (input.idempotencyKey) {
    run(
      db,
      `INSERT INTO idempotency_keys (project_id, key, event_id, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (project_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at`,
      projectId,
      input.idempotencyKey,
      event.id,
      now + IDEMPOTENCY_WINDOW_MS,
    );
  }
  if (!lease) {
    insertDeliveries(db, deliveries, null);
    return { event, deliveries, duplicate: false };
  }
  // The first ones the lease has room for are stored leased, as a claim would leave them.
  const leased = Math.min(room.left, deliveries.length);
  room.left -= leased;
  insertDeliveries(db, deliveries, { workerId: lease.workerId, until: now + lease.leaseMs, count: leased });
  // Each says its lease's end, as a claim's does: a hand-back names its claim by it (ReleaseItem.leasedUntil).
  for (let i = 0; i < leased; i++) deliveries[i]!.leasedUntil = now + lease.leaseMs;
  return { event, deliveries, duplicate: false, payloadJson, leased };
}

/** Parameters per delivery row of the inserts above. */
const PARAMS_PER_ROW = 12;
/**
 * The inserts' parameters, filled in place: a batch of 1,000 events to 100 endpoints each made an
 * array per row and grew one per statement, ~60 MiB per batch on the API thread (session 25).
 * Emptied after each accept, so they hold no ids meanwhile.
 */
const manyParams: SQLInputValue[] = new Array(PARAMS_PER_ROW * DELIVERY_ROWS_PER_INSERT).fill(null);
const oneParams: SQLInputValue[] = new Array(PARAMS_PER_ROW).fill(null);

/** Inserts `deliveries`, the first `lease.count` of them leased to `lease.workerId` until `lease.until`. */
function insertDeliveries(
  db: DatabaseSync,
  deliveries: Delivery[],
  lease: { workerId: string; until: number; count: number } | null,
): void {
  const leased = lease?.count ?? 0;
  const setRow = (params: SQLInputValue[], at: number, i: number): void => {
    const d = deliveries[i]!;
    params[at] = d.id;
    params[at + 1] = d.projectId;
    params[at + 2] = d.eventId;
    params[at + 3] = d.endpointId;
    params[at + 4] = d.url;
    params[at + 5] = i < leased ? lease!.until : d.nextAttemptAt;
    params[at + 6] = i < leased ? lease!.workerId : null;
    params[at + 7] = d.createdAt;
    params[at + 8] = d.updatedAt;
    // Due from its time whether or not it is stored leased (migration 0020).
    params[at + 9] = d.nextAttemptAt;
    // A lease as a claim leaves it (claims.ts leaseRows): its end in held_until and lease_until too.
    params[at + 10] = i < leased ? lease!.until : null;
    params[at + 11] = i < leased ? lease!.until : null;
  };
  let i = 0;
  // A fan-out to thousands of endpoints: most rows go in full multi-row statements.
  if (deliveries.length >= DELIVERY_ROWS_PER_INSERT) {
    const many = prepared(db, INSERT_DELIVERY_ROWS);
    for (; i + DELIVERY_ROWS_PER_INSERT <= deliveries.length; i += DELIVERY_ROWS_PER_INSERT) {
      for (let j = 0; j < DELIVERY_ROWS_PER_INSERT; j++) setRow(manyParams, j * PARAMS_PER_ROW, i + j);
      many.run(...manyParams);
    }
    manyParams.fill(null);
  }
  if (i < deliveries.length) {
    const one = prepared(db, INSERT_ONE_DELIVERY);
    for (; i < deliveries.length; i++) {
      setRow(oneParams, 0, i);
      one.run(...oneParams);
    }
    oneParams.fill(null);
  }
}
