/**
 * The one storage interface Herald has. Every backend (SQLite, PostgreSQL) implements it and passes
 * the same conformance suite (test/store/). No SQL lives outside the store folders.
 *
 * Conventions:
 * - Every method that touches project data takes `projectId` and filters by it, so a resource of
 *   another project is simply "not found" (null / false / 0), never an error.
 * - Times are epoch milliseconds. `now` is passed in by the caller where it matters, so tests and
 *   the dispatcher agree on one clock.
 * - Lists are newest first (ids are time-sortable) except event types (by name) and an event's
 *   deliveries (oldest first, as getEvent lists them); `cursor` is opaque.
 * - Writes on the hot path (`acceptEvents`, `recordAttempts`) are group-committed: concurrent
 *   calls are gathered into one transaction, and each call resolves only once its rows are durable.
 */
import type {
  ApiKey,
  Attempt,
  Delivery,
  Endpoint,
  EndpointSecret,
  EventType,
  HeraldEvent,
  OperationalEvent,
  Project,
} from '../domain/types.ts';
import type {
  AcceptedEvent,
  AcceptLease,
  AttemptQuery,
  AttemptRecord,
  Backlog,
  ClaimedDelivery,
  ClaimOptions,
  DispatchEndpoint,
  EndpointBacklogCounts,
  EndpointCheck,
  EndpointDeliveryQuery,
  EndpointPatch,
  EventDeliveryQuery,
  EventQuery,
  EventTypeChecked,
  EventTypeInput,
  NewApiKey,
  NewEndpoint,
  NewEventInput,
  NewProject,
  OperationalEventQuery,
  Page,
  PageQuery,
  ProjectPatch,
  PurgeResult,
  RateTokenGrant,
  RateTokenRequest,
  RecordOptions,
  RecordResult,
  RecoverResult,
  ReleaseItem,
  ReplayRequest,
  ReplayResult,
  StatsBucket,
  StatsQuery,
  StoreCapabilities,
} from './store-types.ts';

export type * from './store-types.ts';

/**
 * Secrets of one endpoint valid at once (the current one and those still in a rotation's grace
 * period): each is signed into every request of schemes that carry several signatures.
 */
export const MAX_VALID_SECRETS = 5;

/** What `Store.migrate` did: migration file names applied now, and recorded ones this version lacks. */
export interface MigrationResult {
  applied: string[];
  unknown: string[];
}

/** How `Store.migrate` tells of a long wait (PostgreSQL only: SQLite's waits end at its busy timeout). */
export interface MigrationOptions {
  /**
   * Called while a migration waits on a lock (the migration lock another process holds, a table's
   * that an open transaction holds) with a sentence saying what it waits for and who holds it.
   */
  onWait?: (line: string) => void;
  /** How often onWait is called during one wait (default postgres/migrate.ts MIGRATION_WAIT_REPORT_MS). */
  waitReportMs?: number;
  /**
   * Called with each migration's file before it is applied (before the lock it takes on SQLite), so
   * that a start held up by a long migration, or one waiting for a lock, says which.
   */
  onApplying?: (file: string) => void;
}

export interface Store {
  readonly capabilities: StoreCapabilities;

  /**
   * Creates or upgrades the schema. Safe to call from several processes at once. Returns the
   * migrations it applied, and those the database has that this version does not know (a newer
   * Herald migrated it: this one runs on a schema it was not written for).
   */
  migrate(options?: MigrationOptions): Promise<MigrationResult>;
  /**
   * The migrations recorded in the database that this version does not know, by name in order
   * (MigrationResult.unknown, without migrating): a newer Herald migrated it while this process
   * runs. One read of schema_migrations (src/schema-watch.ts reads it every 30 s).
   */
  unknownMigrations(): Promise<string[]>;
  /**
   * Opens every stored endpoint secret with this store's keys, writing nothing, and rejects with the
   * cipher's refusal (SecretKeyMismatchError) at the first that none of them opens. Reads only
   * endpoint_secrets' `secret` column, whose shape no migration has changed since the first, so it
   * may run before migrate(): serve's start does (openStore's secretsBeforeMigrations), and a start
   * refused for its key leaves an older schema as it was. Nothing to open when there is no such
   * table yet (a new database).
   */
  openAllSecrets(): Promise<void>;
  /** Flushes pending group commits and closes connections. */
  close(): Promise<void>;
  /** Throws when the database cannot be reached, or takes no writes (a PostgreSQL standby). */
  ping(): Promise<void>;

  // ── projects ──────────────────────────────────────────────────────────────
  /** Throws StoreConflictError when the uid is taken. */
  createProject(input: NewProject, now: number): Promise<Project>;
  /** By id, or by uid when no project has that id. */
  getProject(idOrUid: string): Promise<Project | null>;
  listProjects(query: PageQuery): Promise<Page<Project>>;
  /** Throws StoreConflictError when the new uid is taken. */
  updateProject(projectId: string, patch: ProjectPatch, now: number): Promise<Project | null>;
  /**
   * Deletes the project and everything it owns, in steps (project-delete.ts): from the first, the
   * project is neither found nor listed; a stop before the last leaves it to finishProjectDeletes.
   * Run again on a project whose delete began, it goes on from there.
   */
  deleteProject(projectId: string): Promise<boolean>;
  /**
   * Finishes the deletes of projects a stop cut short (between the first step and the last): their
   * history and the project row, in the delete's steps. Safe to run from several processes and
   * beside a delete under way. Run at every start (background-jobs.ts). Resolves with how many it
   * finished.
   */
  finishProjectDeletes(): Promise<number>;
  /**
   * Revokes the project's portal links: its `portalLinksGeneration` is incremented, in one statement
   * (links carry the generation they were made in, and are refused once it is lower: no clock
   * involved); its `portalLinksNotBefore` becomes `now` (never earlier than it was), for links made
   * before links carried a generation. `updatedAt` is left as it is. False when there is no such
   * project.
   */
  revokePortalLinks(projectId: string, now: number): Promise<boolean>;

  // ── API keys ──────────────────────────────────────────────────────────────
  createApiKey(input: NewApiKey, now: number): Promise<ApiKey>;
  /** Looks a key up by the SHA-256 hex of the presented token. */
  findApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
  listApiKeys(projectId: string): Promise<ApiKey[]>;
  /** One key of the project by its id (a portal link made with it names it), or null. */
  getApiKey(projectId: string, keyId: string): Promise<ApiKey | null>;
  deleteApiKey(projectId: string, keyId: string): Promise<boolean>;
  /**
   * Sets the key's `lastUsedAt` to `at` unless it already says `at - coarseMs` or later (a key used
   * many times a second is written at most once per `coarseMs`, whichever process saw it).
   */
  touchApiKey(projectId: string, keyId: string, at: number, coarseMs: number): Promise<void>;

  // ── event-type catalog (global to the installation) ───────────────────────
  /**
   * Creates the entry or changes the fields `input` gives, the others kept. `checked`: the entry as
   * the caller read it to check what `input` gives against what it leaves out (a new schema
   * against the stored example, or the other way round; null: there was none); the write goes
   * ahead only if the schema and example it leaves out are still those (eventTypeKept), else it
   * writes nothing and answers null, for the caller to read and check again.
   */
  upsertEventType(input: EventTypeInput, now: number): Promise<EventType>;
  upsertEventType(input: EventTypeInput, now: number, checked: EventTypeChecked): Promise<EventType | null>;
  getEventType(name: string): Promise<EventType | null>;
  /**
   * Whether the catalog has `name`, without reading its schema and example: an enforced catalog
   * asks for every event sent, and a schema may be most of a MiB.
   */
  hasEventType(name: string): Promise<boolean>;
  listEventTypes(query: PageQuery): Promise<Page<EventType>>;

  // ── endpoints ─────────────────────────────────────────────────────────────
  createEndpoint(input: NewEndpoint, secret: string, now: number): Promise<Endpoint>;
  getEndpoint(projectId: string, endpointId: string): Promise<Endpoint | null>;
  listEndpoints(projectId: string, query: PageQuery): Promise<Page<Endpoint>>;
  /**
   * `active: false` disables (reason "manual") and parks pending deliveries; `active: true` on a
   * disabled endpoint behaves like `enableEndpoint`. A `rateLimit` removed or raised
   * (rateLimitLoosened) makes the endpoint's deliveries the old limit put off (released with
   * `rateLimited`, not in flight) due at `now`; those waiting out a retry delay keep their time.
   * `check` runs first, in the write (EndpointCheck): a throw refuses the patch.
   */
  updateEndpoint(
    projectId: string,
    endpointId: string,
    patch: EndpointPatch,
    now: number,
    check?: EndpointCheck,
  ): Promise<Endpoint | null>;
  /**
   * Deletes the endpoint (false when there was none) and closes its pending and parked deliveries
   * as failed at `now` (their updatedAt: retention keeps their events a full period from then).
   */
  deleteEndpoint(projectId: string, endpointId: string, now: number): Promise<boolean>;
  /** Secrets valid at `now` (current first, then retired ones still in their grace period). */
  getEndpointSecrets(projectId: string, endpointId: string, now: number): Promise<EndpointSecret[]>;
  /**
   * Makes `secret` current. Every older secret still valid stays valid until now + graceMs at the
   * latest (one already expiring sooner keeps its time), so graceMs 0 leaves only the new secret:
   * an emergency rotation after a leak cuts every earlier secret off. At most MAX_VALID_SECRETS
   * stay valid: past that, the oldest expire now. `'same-as-current'` (nothing changed) when
   * `secret` is the current secret already (domain sameSecret, under the endpoint's scheme),
   * checked in the rotation's own transaction, so of concurrent rotations to one secret only the
   * first goes through. Null when the endpoint does not exist. `check` runs first, in the same
   * transaction (EndpointCheck, given the secret current before the rotation): a throw refuses it.
   * Rotated: the endpoint and its valid secrets as the rotation's transaction left them (a PATCH
   * comes before or after it, and the answer is not older than the rotation).
   */
  rotateEndpointSecret(
    projectId: string,
    endpointId: string,
    secret: string,
    graceMs: number,
    now: number,
    check?: EndpointCheck,
  ): Promise<{ endpoint: Endpoint; secrets: EndpointSecret[] } | 'same-as-current' | null>;
  /**
   * Activates the endpoint, resets its failure count and makes its parked deliveries due at `now`.
   * Records `endpoint.recovered` when it was disabled. Null when the endpoint does not exist.
   */
  enableEndpoint(
    projectId: string,
    endpointId: string,
    now: number,
  ): Promise<{ endpoint: Endpoint; resumed: number } | null>;

  // ── events and deliveries ─────────────────────────────────────────────────
  /**
   * Stores events and fans each out (domain `selectEndpoints`) to the project's endpoints in one
   * transaction, plus one delivery per callbackUrl. Results are in input order. With
   * `maxDeliveries`, an accept whose new events would create more deliveries than that (counted on
   * the same fan-out it would write; a repeated idempotency key counts none) throws
   * StoreTooManyDeliveriesError and stores nothing; other accepts of its group commit are written.
   */
  acceptEvents(
    projectId: string,
    events: NewEventInput[],
    now: number,
    options?: { lease?: AcceptLease; maxDeliveries?: number },
  ): Promise<AcceptedEvent[]>;
  getEvent(
    projectId: string,
    eventId: string,
  ): Promise<{ event: HeraldEvent; deliveries: Delivery[] } | null>;
  /**
   * The event alone, as listEvents answers it (with its deliveryCount): where getEvent also reads
   * every delivery, up to 100,000 of them. Null when the project holds no such event.
   */
  getEventWithoutDeliveries(projectId: string, eventId: string): Promise<HeraldEvent | null>;
  listEvents(projectId: string, query: EventQuery): Promise<Page<HeraldEvent>>;
  /** Whether the project holds the event: one key lookup, where getEvent reads all its deliveries. */
  eventExists(projectId: string, eventId: string): Promise<boolean>;
  /**
   * A page of the event's deliveries in id order (the order getEvent lists them in, oldest first,
   * unlike the other lists), after `cursor`; with `status`, only those in that state. Null when the
   * project holds no such event. An event may have fanned out to 100,000 deliveries: a screen
   * reads them a page at a time instead of the whole event.
   */
  listEventDeliveries(
    projectId: string,
    eventId: string,
    query: EventDeliveryQuery,
  ): Promise<Page<Delivery> | null>;
  /**
   * A page of what waits for one endpoint: its deliveries in `query.status` (pending, leased ones
   * included, or parked) in due order (next_attempt_at, then id), after `cursor`. Read live: a
   * delivery whose due time moves between two pages moves in the order. Empty for an endpoint the
   * project does not hold (the caller looks it up first).
   */
  listEndpointDeliveries(
    projectId: string,
    endpointId: string,
    query: EndpointDeliveryQuery,
  ): Promise<Page<Delivery>>;
  /** The endpoint's pending and parked deliveries, each counted up to `atMost` index entries. */
  countEndpointBacklog(projectId: string, endpointId: string, atMost: number): Promise<EndpointBacklogCounts>;
  getDelivery(projectId: string, deliveryId: string): Promise<Delivery | null>;
  /**
   * Makes one delivery (in any state) pending and due at `now`; `'in-flight'` (nothing changed)
   * while a worker's lease on it runs (an attempt is being sent: a second one would go out at the
   * same time and take the same number); `'endpoint-deleted'` or `'endpoint-disabled'` (nothing
   * changed) when its endpoint is, as the write finds it (a delete or disable at the same time
   * comes wholly before or after it); null when there is no such delivery, or its project's delete
   * has begun (which closed the project's callbacks: one reopened would be sent).
   */
  retryDelivery(
    projectId: string,
    deliveryId: string,
    now: number,
  ): Promise<Delivery | 'in-flight' | 'endpoint-deleted' | 'endpoint-disabled' | null>;
  /**
   * Makes the endpoint's failed deliveries created in [since, until] pending and due at `now`,
   * oldest first; answers how many. In batches of recoverBatch.rows (recover-batch.ts), each its own
   * short transaction: none is recovered twice, one that fails while it runs may or may not be.
   * Stops after the batch that ends past recoverBatch.requestMs: nextSince is then where a recover
   * goes on (null when the range is done). A batch that finds the endpoint disabled (a disable after
   * the caller found it active) recovers none and stops there, nextSince where it began; one that
   * finds it deleted recovers none and stops, nextSince null.
   */
  recoverDeliveries(
    projectId: string,
    endpointId: string,
    since: number,
    until: number,
    now: number,
  ): Promise<RecoverResult>;
  /**
   * Gives the endpoint the events of [since, until] it missed: for each event of the project created
   * then that it would receive now (its filter; not test events) and has no delivery for, a pending
   * delivery due at `now`, the event's deliveryCount one more. Oldest first, in batches of
   * replayBatch.events (replay-batch.ts), each its own short transaction that stops when the endpoint
   * is no longer active (the rest of the range is then left, as past maxDeliveries: nextSince); none
   * is replayed twice, also by two replays at once. Null when the endpoint does not exist.
   */
  replayMissing(projectId: string, endpointId: string, request: ReplayRequest): Promise<ReplayResult | null>;

  // ── attempts ──────────────────────────────────────────────────────────────
  listAttempts(projectId: string, query: AttemptQuery): Promise<Page<Attempt>>;
  getAttempt(projectId: string, attemptId: string): Promise<Attempt | null>;
  endpointStats(projectId: string, endpointId: string, query: StatsQuery): Promise<StatsBucket[]>;

  // ── operational events ───────────────────────────────────────────────────
  listOperationalEvents(projectId: string, query: OperationalEventQuery): Promise<Page<OperationalEvent>>;

  // ── dispatcher ───────────────────────────────────────────────────────────
  /** Leases up to `limit` due pending deliveries, oldest due first. Claim cost must not grow with the backlog. */
  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Settings and valid secrets of the given endpoints (missing ones are absent from the map). */
  getDispatchEndpoints(
    refs: { projectId: string; endpointId: string }[],
    now: number,
  ): Promise<Map<string, DispatchEndpoint>>;
  /**
   * Stores attempts and applies their effects on deliveries and endpoints (group-committed); returns
   * each delivery's resulting status (RecordResult.statuses) and the endpoints disabled.
   */
  recordAttempts(records: AttemptRecord[], options: RecordOptions): Promise<RecordResult>;
  /** Hands claimed deliveries back without an attempt (deferred, parked, or shutting down). */
  releaseDeliveries(items: ReleaseItem[]): Promise<void>;
  /**
   * Makes every claim held by `workerId` (or, with `'*'`, every claim) due at `now` at the latest, in
   * its place in the due order (before what became due after it). A single-process store calls this
   * with '*' at start, so work claimed before a crash comes back at once.
   */
  releaseClaims(workerId: string, now: number): Promise<number>;
  /**
   * Resumes (pending, due at `now`) the parked deliveries of endpoints that are active: those an
   * enable's later batches never reached (the process stopped mid-resume; park-batch.ts ResumeRest).
   * In the same batches, while each endpoint stays active; safe to run from several processes at
   * once. The dispatcher runs it as it starts. Resolves when done, with how many endpoints had some.
   */
  resumeStrandedParked(now: number): Promise<number>;
  /**
   * Closes as failed, in a delete's batches, the pending and parked deliveries of endpoints that no
   * longer exist: those of a delete cut short by a stop after its first write (the endpoint gone,
   * its backlog closed in later writes that never ran). Nothing sends them, and parked ones stayed
   * parked for good (and kept their events from retention). Safe to run from several processes and
   * beside a delete under way. Run at every start (background-jobs.ts). Closed at `now`, as a
   * delete closes them. Resolves with how many endpoints had some.
   */
  finishEndpointDeletes(now: number): Promise<number>;
  /** Called whenever new work may be due (in this process; other processes too with crossProcessWakeups). */
  subscribeDue(listener: () => void): () => void;
  /**
   * Seals again, with the current encryption key, every stored secret that is not sealed with it
   * (plaintext, or a previous key during a rotation). Returns how many were rewritten.
   */
  resealSecrets(): Promise<number>;
  /**
   * Operator-wide: pending deliveries and the oldest due one (for /metrics), `now` and the answer's
   * oldestDueAt on the caller's clock (PostgreSQL reads them in the database's time, by the offset
   * this process last proved).
   */
  backlog(now: number): Promise<Backlog>;
  /**
   * The database server's clock, epoch ms (PostgreSQL only): the processes sharing it compare the
   * times each wrote with its own clock, so they check theirs against it (src/clock-check.ts).
   */
  databaseNow?(): Promise<number>;
  /**
   * Now, in the time leases are stored in, for judging whether one runs (the API's `inFlight`):
   * on PostgreSQL the database server's, this process's clock moved by the offset its last reading
   * proved (lease-clock.ts leaseJudgedAt; the clock check reads it every minute, databaseNow).
   * Absent (SQLite, one process): Date.now().
   */
  leaseNow?(): number;
  /**
   * `at`, a time on this process's clock, in the database server's time, by the offset this
   * process last proved (lease-clock.ts databaseDueTime; no round trip; PostgreSQL only): what a
   * record write stores its disables at (RecordOptions.disabledAt), worked out once for all its tries.
   */
  databaseTime?(at: number): number;
  /**
   * The project's pending deliveries, counted up to `atMost` (a backlog past it answers `atMost`),
   * for intake backpressure (src/api/backlog-gate.ts). Walks an index entry per delivery counted:
   * called rarely, and never on the delivery path.
   */
  countPendingDeliveries(projectId: string, atMost: number): Promise<number>;
  /**
   * Which of `keys` hold an event of the project accepted within the idempotency window (24 h)
   * before `now`: a request repeating only such events is answered while its project's backlog
   * is full (it creates nothing).
   */
  heldIdempotencyKeys(projectId: string, keys: readonly string[], now: number): Promise<Set<string>>;

  // ── limits, retention, operational events delivery ───────────────────────
  /**
   * Takes tokens from each endpoint's rate limit (GCRA, src/domain/gcra.ts), atomically and shared
   * by every process on the store. Keyed by endpoint id. `now` may be a clock: it is then read when
   * the store takes the tokens, after any wait for the write lock, so tokens are not granted as of a
   * moment already past (the requests they allow would go out later, closer together than the
   * limit allows).
   */
  takeRateTokens(
    requests: RateTokenRequest[],
    now: number | (() => number),
  ): Promise<Map<string, RateTokenGrant>>;
  /**
   * One bounded batch of retention for a project, in its own short transaction. It looks at the next
   * `limit` events created before `cutoff` (oldest first, after the cursor `after`; fewer when a store
   * bounds its batches by time too, as SQLite's does, and at the event whose payload brings the
   * bytes deleted to purgeBytes (purge-bytes.ts), with `next` set to go on): those whose
   * deliveries are all finished (succeeded/failed, last touched before `cutoff`; never pending,
   * parked or claimed) go with their deliveries, attempts and idempotency keys; of the others only
   * the attempts made before `cutoff` go. Also up to `limit` operational events older than `cutoff`.
   * Call again with `after: result.next` until `next` is null.
   */
  purgeBefore(projectId: string, cutoff: number, limit: number, after?: string | null): Promise<PurgeResult>;
  /** Operator-wide: operational events not yet handed to the operator webhook, oldest first. */
  listUnforwardedOperationalEvents(limit: number): Promise<OperationalEvent[]>;
  markOperationalEventsForwarded(refs: { projectId: string; id: string }[], now: number): Promise<void>;
}

/** A unique constraint was violated (uid taken, …). */
export class StoreConflictError extends Error {
  readonly code = 'HERALD_ERR_CONFLICT';
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreConflictError';
    this.field = field;
  }
}

/**
 * An accept whose new events would create more than its `maxDeliveries` deliveries (the endpoints
 * each matches, plus one per callbackUrl; repeated idempotency keys count none). Thrown before
 * anything of the accept is written: nothing of it is stored. The API answers 413.
 */
export class StoreTooManyDeliveriesError extends Error {
  readonly limit: number;
  readonly deliveries: number;
  constructor(limit: number, deliveries: number) {
    super(`these events would create ${deliveries} deliveries, over the limit of ${limit} per accept`);
    this.name = 'StoreTooManyDeliveriesError';
    this.limit = limit;
    this.deliveries = deliveries;
  }
}
