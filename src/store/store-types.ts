/**
 * The data the Store interface (store.ts) takes and returns: inputs, queries, pages, claim and
 * record shapes, results. Re-exported from store.ts, which importers use.
 */
import type {
  ApiKeyScope,
  Attempt,
  Delivery,
  DeliveryStatus,
  Endpoint,
  EndpointSecret,
  Envelope,
  EventType,
  HeraldEvent,
  Json,
  OperationalEventType,
  Project,
  RateLimit,
} from '../domain/types.ts';

/** Backend differences, declared as data (tests and callers branch on these, never on the backend's name). */
export interface StoreCapabilities {
  /** Several Herald processes may share this store (claims are leased and fenced). */
  multiProcess: boolean;
  /** `subscribeDue` is woken by writes made in other processes too (e.g. LISTEN/NOTIFY). */
  crossProcessWakeups: boolean;
  /** `acceptEvents` can lease the new deliveries to a worker as it stores them (the `lease` option of `acceptEvents`). */
  leaseOnAccept: boolean;
}

export interface PageQuery {
  limit: number;
  cursor?: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface NewProject {
  name: string;
  uid?: string | null;
  retrySchedule?: number[] | null;
  enforceCatalog?: boolean;
  backlogLimit?: number | null;
}

export type ProjectPatch = Partial<
  Pick<Project, 'name' | 'uid' | 'retrySchedule' | 'enforceCatalog' | 'backlogLimit'>
>;

export interface NewApiKey {
  projectId: string;
  name: string;
  prefix: string;
  keyHash: string;
  /** Default `full`. */
  scope?: ApiKeyScope;
}

export interface EventTypeInput {
  name: string;
  description?: string;
  schema?: Json | null;
  example?: Json | null;
  deprecated?: boolean;
}

/** Store.upsertEventType's `checked`: the entry as its caller read it (null: there was none). */
export interface EventTypeChecked {
  stored: EventType | null;
}

/** Everything of an endpoint the caller chooses; ids, status and counters are the store's. */
export type NewEndpoint = Omit<
  Endpoint,
  'id' | 'status' | 'disabledReason' | 'disabledAt' | 'consecutiveFailures' | 'createdAt' | 'updatedAt'
> & { active: boolean };

export type EndpointPatch = Partial<
  Omit<NewEndpoint, 'projectId'> // `active: false` disables (parks pending deliveries); `active: true` enables
>;

/**
 * A caller's check of a change against the endpoint as the write finds it (its settings, and its
 * current secret: null when it has none), run in the write's transaction with the endpoint locked,
 * so that no other write to the endpoint or its secrets comes between the check and the write (a
 * check run before, on the endpoint as read then, passed changes that together make an endpoint
 * the API refuses: a scheme and a secret it cannot use, a custom header named like the signature
 * header). It throws to refuse the change, and nothing of it is written.
 */
export type EndpointCheck = (current: Endpoint, currentSecret: string | null) => void;

export interface NewEventInput {
  type: string;
  payload: Json;
  test: boolean;
  idempotencyKey: string | null;
  callbackUrl: string | null;
  /** The callbackUrl delivery's envelope (absent: standard). */
  callbackEnvelope?: Envelope;
  /** Test sends: deliver to this endpoint only (whatever its filter or dev flag), no callback. */
  onlyEndpointId?: string;
}

/**
 * A lease taken as the deliveries are stored, for a dispatcher in the same process that is handed
 * them in memory (src/delivery/handoff.ts) instead of claiming them: at most `max` of an accept's new
 * deliveries, each until `now + leaseMs`, exactly as a claim by `workerId` would lease them.
 */
export interface AcceptLease {
  workerId: string;
  leaseMs: number;
  max: number;
}

export interface AcceptedEvent {
  event: HeraldEvent;
  /** Leased ones (AcceptLease) are returned due now: they are sent at once; the stored row holds the lease. */
  deliveries: Delivery[];
  /** With a lease: the payload's JSON text as stored, for the requests built from it. */
  payloadJson?: string;
  /** With a lease: how many of `deliveries` (the first ones) were leased; never on a duplicate. */
  leased?: number;
  /**
   * With a lease, on PostgreSQL: when this process is to count it over, on its own clock (the
   * accept's now plus the lease; ClaimedDelivery.leaseEndsAt). Absent: the deliveries' leasedUntil.
   */
  leaseEndsAt?: number;
  /** True when the idempotency key matched an event of the last 24 h: that event is returned, nothing new is created. */
  duplicate: boolean;
}

export interface EventQuery extends PageQuery {
  type?: string;
  since?: number;
  until?: number;
  /**
   * Only the events sent with this idempotency key, however long ago (the key is held against a
   * repeat for 24 h only, so several events may carry it). No index serves it: a page looks at
   * SCAN_ROWS events at most, as listAttempts by event type does.
   */
  idempotencyKey?: string;
  /** With `idempotencyKey`: events a page looks at (SCAN_ROWS unless a test sets fewer). */
  scanRows?: number;
}

/** A page of a project's operational events (Store.listOperationalEvents), newest first. */
export interface OperationalEventQuery extends PageQuery {
  /** Only the events of this type: no index serves it, so a page looks at SCAN_ROWS events at most. */
  type?: OperationalEventType;
  /**
   * Only the events about this endpoint (`data.endpointId`): no index serves it either, so a page
   * looks at SCAN_ROWS events at most, as with `type`.
   */
  endpointId?: string;
  /** With `type` or `endpointId`: operational events a page looks at (SCAN_ROWS unless a test sets fewer). */
  scanRows?: number;
}

/** A page of one event's deliveries (Store.listEventDeliveries): in id order, after the cursor. */
export interface EventDeliveryQuery extends PageQuery {
  /** Only the deliveries in this state. */
  status?: DeliveryStatus;
}

/**
 * A page of one endpoint's waiting deliveries (Store.listEndpointDeliveries): those in `status`, in
 * due order (next_attempt_at, then id), after the cursor (due-cursor.ts).
 */
export interface EndpointDeliveryQuery extends PageQuery {
  status: 'pending' | 'parked';
}

/** An endpoint's waiting deliveries counted (Store.countEndpointBacklog), each count capped at `atMost`. */
export interface EndpointBacklogCounts {
  pending: number;
  parked: number;
}

export interface AttemptQuery extends PageQuery {
  endpointId?: string;
  eventId?: string;
  deliveryId?: string;
  outcome?: 'succeeded' | 'failed';
  eventType?: string;
  since?: number;
  until?: number;
  /** With `eventType` or outcome `succeeded`: attempts a page looks at (SCAN_ROWS unless a test sets fewer). */
  scanRows?: number;
}

export interface StatsQuery {
  since: number;
  until: number;
  bucketMs: number;
  /**
   * Aborted when whoever asked has left (the API's client closed its connection): the reading stops
   * at its next step, and the buckets read so far are returned, for nobody to read. A chart reads
   * every attempt of its range, seconds of work for a busy endpoint.
   */
  signal?: AbortSignal;
}

export interface StatsBucket {
  /** Start of the bucket (epoch ms, a multiple of bucketMs). */
  start: number;
  succeeded: number;
  failed: number;
  avgDurationMs: number | null;
  p95DurationMs: number | null;
}

/** A delivery handed to one dispatcher, with what it needs to build the request. */
export interface ClaimedDelivery {
  delivery: Delivery;
  event: HeraldEvent;
  /**
   * The event's payload as stored (its `JSON.stringify`), when the store has the text: the request
   * body is built from it without parsing the payload (`event.payload` may then be decoded lazily).
   */
  payloadJson?: string;
  /**
   * When this process is to count the claim's lease over, on its own clock: the claim's `now` plus
   * its lease. On PostgreSQL `delivery.leasedUntil` is the end in the database's time, which other
   * workers judge it by (lease-clock.ts), and names the claim in a hand-back; absent (SQLite, one
   * process, and hand-offs): `delivery.leasedUntil`, the same time.
   */
  leaseEndsAt?: number;
}

export interface ClaimOptions {
  limit: number;
  /** The claim is the worker's for this long; if it has not recorded an outcome by then, the delivery is due again. */
  leaseMs: number;
  now: number;
  workerId: string;
  /** Endpoints this worker is saturated on: their deliveries are left for later. */
  excludeEndpointIds?: string[];
  /**
   * Projects at their cap on this worker, with a cap's worth of callbacks (callbackUrl, no
   * endpoint) queued, whose callbacks it has seen lately: their callback deliveries are left for
   * later too. Taken, they would be handed back 50 ms later, claim after claim while the project
   * stayed at its cap.
   */
  excludeCallbackProjectIds?: string[];
  /**
   * Endpoints whose due deliveries are claimed before any other, oldest first, up to `limit` each
   * (within the claim's `limit`): those a rate limit put back, whose tokens come now, would otherwise
   * wait behind an older backlog of other endpoints and miss them.
   */
  first?: ClaimFirst[];
  /**
   * The bytes of payload (UTF-8, as stored) the claim may read: events are taken in the claim's
   * order until those read hold this many, and the deliveries of the events left are not leased
   * (they stay due as they were). At least one event, with all its deliveries in the claim, so a
   * single event larger than this still goes. Without it only `limit` bounds the claim: 256
   * distinct 1 MiB events read at once ran a 160 MiB heap out.
   */
  maxBytes?: number;
}

/** An endpoint a claim takes first (ClaimOptions.first), and how many of its due deliveries at most. */
export interface ClaimFirst {
  projectId: string;
  /** The endpoint; CALLBACKS_ID (claim-turns.ts, ''): the project's callbacks (callbackUrl, no endpoint). */
  endpointId: string;
  limit: number;
}

/** An endpoint as the dispatcher needs it: settings plus the secrets valid at `now`, newest first. */
export interface DispatchEndpoint {
  endpoint: Endpoint;
  secrets: EndpointSecret[];
  /**
   * Its secrets did not open with this process's encryption key (SecretKeyMismatchError: sealed
   * with another key, or a stored value cut short): `secrets` is empty, and only this endpoint's
   * deliveries wait; the others of the batch go.
   */
  unopened?: Error;
}

/** What one finished attempt does to its endpoint's health. */
export type EndpointEffect =
  | 'success' // resets consecutive failures
  | 'failure' // counts one consecutive failure; may disable at the threshold
  | 'gone' // 410: disables at once
  | 'none'; // callback deliveries, or attempts that say nothing about the endpoint

export interface AttemptRecord {
  attempt: Attempt;
  /**
   * The request body is the event's envelope around its stored payload (BuiltRequest.bodyEnvelope):
   * stored as this reference and rebuilt when read (attempt-bodies.ts), not stored twice.
   */
  requestBodyEnvelope?: Envelope;
  /** The delivery's state after this attempt. A `pending` next state on a disabled endpoint is stored as `parked`. */
  next: { status: DeliveryStatus; nextAttemptAt: number | null };
  endpointEffect: EndpointEffect;
  /** Worker that holds the claim; a record from a worker whose lease was taken over still counts (at least once). */
  workerId: string;
}

export interface RecordOptions {
  now: number;
  /** Consecutive failed attempts that disable an endpoint. */
  failureThreshold: number;
  /**
   * When a disable by these records is stored (the endpoint's disabledAt and updatedAt, the
   * deliveries it parks, `endpoint.disabled`), in the store's time: on PostgreSQL `now` in the
   * database's (Store.databaseTime, worked out once, before the first try), so a replay from
   * disabledAt takes events by their createdAt as meant. Every try of a write passes the same: a try
   * again finds its disables by it (`retried`). Left out, `now` (SQLite always: one process, one clock).
   */
  disabledAt?: number;
  /**
   * The same records, with the same `now` and `disabledAt`, were written before and the answer did
   * not come back (the connection cut while committing): if the first write was stored (its
   * attempts are), it is not written again and the result says what it did (its disables are found
   * by `disabledAt`, disabled_at), so its attempts and disables are counted once. Not set, records
   * are not looked up.
   */
  retried?: boolean;
}

export interface RecordResult {
  /** Endpoints this batch disabled (an `endpoint.disabled` operational event was stored for each). */
  disabledEndpoints: { projectId: string; endpointId: string; reason: string }[];
  /**
   * Per record, in order: its delivery's status once the batch is written, as the store wrote it
   * (a `pending` next state on an endpoint that is or got disabled is `parked`; a late record leaves
   * a finished delivery as it was). Null when the delivery is gone (no attempt row was stored).
   */
  statuses: (DeliveryStatus | null)[];
}

export interface ReleaseItem {
  projectId: string;
  deliveryId: string;
  /**
   * No claim takes it before this time; it keeps its place in the due order, its due time from
   * before the claim (held_until: the stores' releaseDeliveries), so once free it goes before what
   * became due after it. With `rateLimited`, it is due at this time instead, as a retry is.
   */
  nextAttemptAt: number;
  /**
   * `parked` when the endpoint turned out to be disabled. Default `pending`. The store parks it only
   * if the endpoint is disabled as it writes (the caller's view may predate an enable); otherwise
   * it is pending, due at `nextAttemptAt`.
   */
  status?: 'pending' | 'parked';
  /**
   * The worker handing it back: the delivery changes only while leased to it (or to none). A worker
   * paused past its lease must not free a delivery another worker claimed since and is sending.
   */
  heldBy?: string;
  /**
   * With `heldBy`: the end of the lease of the claim handed back (its delivery's `leasedUntil` as
   * claimed), which names that claim. The delivery changes only while this is still the end of its
   * last lease (lease_until, which both stores keep once the lease is over), leased to `heldBy` or
   * to none: one process may hold two claims of a delivery (the older one's lease ran out while it
   * waited there, and the same process claimed it again), and the older one handed back must not
   * free the newer one's row while it is sent; nor may it undo what another worker's later claim
   * did (a hand-back put off by a rate limit or held while its endpoint is paused, which leaves the
   * attempts as they were). A later lease always ends later: it is taken once this one has ended.
   * Not given (null): any lease.
   */
  leasedUntil?: number | null;
  /**
   * With `heldBy`: the delivery's attempts as the claim handed back read them. A delivery leased to
   * nobody changes only while its attempts are still these: another worker that claimed it once this
   * claim's lease ran out, and recorded a failed attempt, scheduled a retry (the row left leased to
   * nobody), which a late hand-back of this claim would make due at its own time, before the
   * retry's backoff. Not given (null): any attempts.
   */
  attempts?: number | null;
  /**
   * Put off because the endpoint's rate limit had no token for it (not a retry delay, a full
   * concurrency cap or a shutdown): removing or raising the limit makes it due at once (updateEndpoint).
   */
  rateLimited?: boolean;
  /**
   * With `rateLimited`: the limit that put it off, as the caller read the endpoint. When the
   * endpoint's limit was removed or raised since that read, as the store writes (the change came
   * while the delivery was in flight, and updateEndpoint left it alone), it is due as of that
   * change (the endpoint's updatedAt) at the latest, as the change made the others: the new limit
   * paces it when it is claimed.
   */
  rateLimit?: RateLimit | null;
}

export interface Backlog {
  pending: number;
  /**
   * When the pending delivery that became due first became due (claimed or not: claims and unsent
   * hand-backs do not move it), or null when nothing is due.
   */
  oldestDueAt: number | null;
}

/** Tokens wanted from one endpoint's shared rate limit (`rateLimit` of the endpoint). */
export interface RateTokenRequest {
  projectId: string;
  endpointId: string;
  perSecond: number;
  burst?: number;
  /** How many deliveries would go now. */
  want: number;
}

export interface RateTokenGrant {
  /** Tokens taken, 0..want: that many deliveries may be sent now. */
  granted: number;
  /** When the next token will be there (epoch ms; ≤ now when tokens are left). */
  nextAt: number;
}

/** What one purge batch deleted. */
export interface PurgeResult {
  events: number;
  deliveries: number;
  attempts: number;
  operationalEvents: number;
  /** Where the next batch starts (pass it as `after`), or null when this project is done. Opaque. */
  next: string | null;
}

/** What Store.recoverDeliveries did. */
export interface RecoverResult {
  /** Failed deliveries made pending. */
  recovered: number;
  /**
   * Null when every failed delivery of the range was looked at. Otherwise the request ran out of
   * time: the creation time of the last delivery it looked at, from which a recover goes on (those
   * it recovered are pending now, and passed over); or a batch found the endpoint disabled: where
   * that batch began.
   */
  nextSince: number | null;
}

/** What to replay to one endpoint (Store.replayMissing). */
export interface ReplayRequest {
  /** Events created in [since, until], epoch ms. */
  since: number;
  until: number;
  /** The new deliveries are due at this time. */
  now: number;
  /** At most this many deliveries in one call (HERALD_MAX_DELIVERIES_PER_REQUEST). */
  maxDeliveries: number;
}

/** What one replay did. */
export interface ReplayResult {
  /** Deliveries created. */
  replayed: number;
  /**
   * Null when every event of the range was looked at. Otherwise the creation time of the first event
   * left for lack of room (maxDeliveries), or, when the endpoint was disabled meanwhile, that of the
   * last event looked at (`since` when none was): replaying again from it goes on where this one
   * stopped (events already replayed have their delivery now, and are passed over).
   */
  nextSince: number | null;
}
