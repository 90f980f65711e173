/**
 * The one storage interface Herald has. Every backend (SQLite, PostgreSQL) implements it and passes
 * the same conformance suite (test/store/). No SQL lives outside the store folders.
 *
 * Conventions:
 * - Every method that touches project data takes `projectId` and filters by it, so a resource of
 *   another project is simply "not found" (null / false / 0), never an error.
 * - Times are epoch milliseconds. `now` is passed in by the caller where it matters, so tests and
 *   the dispatcher agree on one clock.
 * - Lists are newest first (ids are time-sortable) except event types (by name); `cursor` is opaque.
 * - Writes on the hot path (`acceptEvents`, `recordAttempts`) are group-committed: concurrent
 *   calls are gathered into one transaction, and each call resolves only once its rows are durable.
 */
import type {
  ApiKey,
  Attempt,
  Delivery,
  DeliveryStatus,
  Endpoint,
  EndpointSecret,
  Envelope,
  EventType,
  HeraldEvent,
  Json,
  OperationalEvent,
  Project,
} from '../domain/types.ts';

/**
 * Secrets of one endpoint valid at once (the current one and those still in a rotation's grace
 * period): each is signed into every request of schemes that carry several signatures.
 */
export const MAX_VALID_SECRETS = 5;

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
}

export type ProjectPatch = Partial<Pick<Project, 'name' | 'uid' | 'retrySchedule' | 'enforceCatalog'>>;

export interface NewApiKey {
  projectId: string;
  name: string;
  prefix: string;
  keyHash: string;
}

export interface EventTypeInput {
  name: string;
  description?: string;
  schema?: Json | null;
  example?: Json | null;
  deprecated?: boolean;
}

/** Everything of an endpoint the caller chooses; ids, status and counters are the store's. */
export type NewEndpoint = Omit<
  Endpoint,
  'id' | 'status' | 'disabledReason' | 'disabledAt' | 'consecutiveFailures' | 'createdAt' | 'updatedAt'
> & { active: boolean };

export type EndpointPatch = Partial<
  Omit<NewEndpoint, 'projectId'> // `active: false` disables (parks pending deliveries); `active: true` enables
>;

export interface NewEventInput {
  type: string;
  payload: Json;
  test: boolean;
  idempotencyKey: string | null;
  callbackUrl: string | null;
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
  /** With a lease: how many of `deliveries` (the first ones) were leased. */
  leased?: number;
  /** True when the idempotency key matched an event of the last 24 h: that event is returned, nothing new is created. */
  duplicate: boolean;
}

export interface EventQuery extends PageQuery {
  type?: string;
  since?: number;
  until?: number;
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
}

export interface ClaimOptions {
  limit: number;
  /** The claim is the worker's for this long; if it has not recorded an outcome by then, the delivery is due again. */
  leaseMs: number;
  now: number;
  workerId: string;
  /** Endpoints this worker is saturated on: their deliveries are left for later. */
  excludeEndpointIds?: string[];
}

/** An endpoint as the dispatcher needs it: settings plus the secrets valid at `now`, newest first. */
export interface DispatchEndpoint {
  endpoint: Endpoint;
  secrets: EndpointSecret[];
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
  /** When it is due again. */
  nextAttemptAt: number;
  /** `parked` when the endpoint turned out to be disabled. Default `pending`. */
  status?: 'pending' | 'parked';
  /**
   * Put off because the endpoint's rate limit had no token for it (not a retry delay, a full
   * concurrency cap or a shutdown): removing or raising the limit makes it due at once (updateEndpoint).
   */
  rateLimited?: boolean;
}

export interface Backlog {
  pending: number;
  /** Due time of the oldest pending delivery that is due, or null when nothing is due. */
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

export interface Store {
  readonly capabilities: StoreCapabilities;

  /** Creates or upgrades the schema. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Flushes pending group commits and closes connections. */
  close(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;

  // ── projects ──────────────────────────────────────────────────────────────
  /** Throws StoreConflictError when the uid is taken. */
  createProject(input: NewProject, now: number): Promise<Project>;
  /** By id, or by uid when no project has that id. */
  getProject(idOrUid: string): Promise<Project | null>;
  listProjects(query: PageQuery): Promise<Page<Project>>;
  /** Throws StoreConflictError when the new uid is taken. */
  updateProject(projectId: string, patch: ProjectPatch, now: number): Promise<Project | null>;
  /** Deletes the project and everything it owns. */
  deleteProject(projectId: string): Promise<boolean>;

  // ── API keys ──────────────────────────────────────────────────────────────
  createApiKey(input: NewApiKey, now: number): Promise<ApiKey>;
  /** Looks a key up by the SHA-256 hex of the presented token. */
  findApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
  listApiKeys(projectId: string): Promise<ApiKey[]>;
  deleteApiKey(projectId: string, keyId: string): Promise<boolean>;

  // ── event-type catalog (global to the installation) ───────────────────────
  upsertEventType(input: EventTypeInput, now: number): Promise<EventType>;
  getEventType(name: string): Promise<EventType | null>;
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
   */
  updateEndpoint(
    projectId: string,
    endpointId: string,
    patch: EndpointPatch,
    now: number,
  ): Promise<Endpoint | null>;
  deleteEndpoint(projectId: string, endpointId: string): Promise<boolean>;
  /** Secrets valid at `now` (current first, then retired ones still in their grace period). */
  getEndpointSecrets(projectId: string, endpointId: string, now: number): Promise<EndpointSecret[]>;
  /**
   * Makes `secret` current. Every older secret still valid stays valid until now + graceMs at the
   * latest (one already expiring sooner keeps its time), so graceMs 0 leaves only the new secret:
   * an emergency rotation after a leak cuts every earlier secret off. At most MAX_VALID_SECRETS
   * stay valid: past that, the oldest expire now. `'same-as-current'` (nothing changed) when
   * `secret` is the current secret already (domain sameSecret, under the endpoint's scheme),
   * checked in the rotation's own transaction, so of concurrent rotations to one secret only the
   * first goes through. Null when the endpoint does not exist.
   */
  rotateEndpointSecret(
    projectId: string,
    endpointId: string,
    secret: string,
    graceMs: number,
    now: number,
  ): Promise<EndpointSecret[] | 'same-as-current' | null>;
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
   * transaction, plus one delivery per callbackUrl. Results are in input order.
   */
  acceptEvents(
    projectId: string,
    events: NewEventInput[],
    now: number,
    options?: { lease?: AcceptLease },
  ): Promise<AcceptedEvent[]>;
  getEvent(
    projectId: string,
    eventId: string,
  ): Promise<{ event: HeraldEvent; deliveries: Delivery[] } | null>;
  listEvents(projectId: string, query: EventQuery): Promise<Page<HeraldEvent>>;
  getDelivery(projectId: string, deliveryId: string): Promise<Delivery | null>;
  /**
   * Makes one delivery (in any state) pending and due at `now`; `'in-flight'` (nothing changed)
   * while a worker's lease on it runs (an attempt is being sent: a second one would go out at the
   * same time and take the same number); null when there is no such delivery.
   */
  retryDelivery(projectId: string, deliveryId: string, now: number): Promise<Delivery | 'in-flight' | null>;
  /** Makes the endpoint's failed deliveries created in [since, until] pending and due at `now`; returns how many. */
  recoverDeliveries(
    projectId: string,
    endpointId: string,
    since: number,
    until: number,
    now: number,
  ): Promise<number>;

  // ── attempts ──────────────────────────────────────────────────────────────
  listAttempts(projectId: string, query: AttemptQuery): Promise<Page<Attempt>>;
  getAttempt(projectId: string, attemptId: string): Promise<Attempt | null>;
  endpointStats(projectId: string, endpointId: string, query: StatsQuery): Promise<StatsBucket[]>;

  // ── operational events ───────────────────────────────────────────────────
  listOperationalEvents(projectId: string, query: PageQuery): Promise<Page<OperationalEvent>>;

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
   * Makes every claim held by `workerId` (or, with `'*'`, every claim) due at `now`. A single-process
   * store calls this with '*' at start, so work claimed before a crash comes back at once.
   */
  releaseClaims(workerId: string, now: number): Promise<number>;
  /** Called whenever new work may be due (in this process; other processes too with crossProcessWakeups). */
  subscribeDue(listener: () => void): () => void;
  /**
   * Seals again, with the current encryption key, every stored secret that is not sealed with it
   * (plaintext, or a previous key during a rotation). Returns how many were rewritten.
   */
  resealSecrets(): Promise<number>;
  /** Operator-wide: pending deliveries and the oldest due one (for /metrics). */
  backlog(now: number): Promise<Backlog>;

  // ── limits, retention, operational events delivery ───────────────────────
  /**
   * Takes tokens from each endpoint's rate limit (GCRA, src/domain/gcra.ts), atomically and shared
   * by every process on the store. Keyed by endpoint id.
   */
  takeRateTokens(requests: RateTokenRequest[], now: number): Promise<Map<string, RateTokenGrant>>;
  /**
   * One bounded batch of retention for a project, in its own short transaction. It looks at the next
   * `limit` events created before `cutoff` (oldest first, after the cursor `after`): those whose
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
