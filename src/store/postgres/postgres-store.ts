/**
 * The shared store: PostgreSQL, several Herald processes at once. Claims are leased with
 * FOR UPDATE SKIP LOCKED, hot-path writes are group-committed with multi-row statements, and
 * LISTEN/NOTIFY wakes the dispatchers of every process. See src/store/store.ts for the contract.
 */

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { EndpointSecret, EventType, HeraldEvent } from '../../domain/types.ts';
import { markTurnCursor, newTurnCursor, resetTurnCursor } from '../claim-turns.ts';
import { eventTypeKept } from '../event-type-kept.ts';
import { finishEndpointDeletes } from '../finish-endpoint-deletes.ts';
import { finishProjectDeletes } from '../finish-project-deletes.ts';
import {
  databaseDueTime,
  databaseLeaseTimes,
  type LeaseClock,
  leaseJudgedAt,
  measureLeaseOffset,
  ownClockTime,
} from '../lease-clock.ts';
import { type LaterBatches, type LaterWriteReport, parkBatch } from '../park-batch.ts';
import { recoverBatch, recoverInBatches } from '../recover-batch.ts';
import { replayBatch, replayInBatches } from '../replay-batch.ts';
import { PLAINTEXT_SECRETS, type SecretCipher } from '../secret-cipher.ts';
import type {
  AcceptedEvent,
  AcceptLease,
  AttemptQuery,
  AttemptRecord,
  Backlog,
  ClaimedDelivery,
  ClaimOptions,
  EndpointCheck,
  EndpointDeliveryQuery,
  EndpointPatch,
  EventDeliveryQuery,
  EventQuery,
  EventTypeChecked,
  EventTypeInput,
  MigrationOptions,
  NewApiKey,
  NewEndpoint,
  NewEventInput,
  NewProject,
  OperationalEventQuery,
  Page,
  PageQuery,
  ProjectPatch,
  RateTokenRequest,
  RecordOptions,
  RecordResult,
  ReleaseItem,
  ReplayRequest,
  StatsBucket,
  StatsQuery,
  Store,
  StoreCapabilities,
} from '../store.ts';
import { ReadOnlyDatabaseError } from '../store-unavailable.ts';
import { TurnGate } from '../turn-gate.ts';
import { ACCEPT_WAIT_MS, eventsWithDeliveries } from './accept-batch.ts';
import {
  apiKeyByHashPostgres,
  apiKeyByIdPostgres,
  createApiKeyPostgres,
  deleteApiKeyPostgres,
  listApiKeysPostgres,
  touchApiKeyPostgres,
} from './api-keys.ts';
import type { RecordedPostgres } from './attempt-records.ts';
import {
  type ClaimState,
  claimSettingsAndDatabaseNow,
  databaseNowIn,
  leaseDue,
  noteEndpointChange,
  withEvents,
} from './claims.ts';
import { dispatchEndpointsPostgres } from './dispatch-endpoints.ts';
import {
  backlogPostgres,
  failedDeliveriesAfterPostgres,
  recoverDeliveriesPostgres,
  releaseClaimsPostgres,
  retryDeliveryPostgres,
} from './due-deliveries.ts';
import { countEndpointBacklogPostgres, listEndpointDeliveriesPostgres } from './endpoint-deliveries.ts';
import { enableEndpointPostgres } from './endpoint-parking.ts';
import { endpointPostgres, endpointRowPostgres } from './endpoint-reads.ts';
import {
  openAllSecretsPostgres,
  resealSecretsPostgres,
  rotateSecretPostgres,
  validSecretsPostgres,
} from './endpoint-secrets.ts';
import {
  applyEndpointPatchPostgres,
  closeDeliveriesPostgres,
  createEndpointPostgres,
  deletedWithBacklogPostgres,
  deleteEndpointPostgres,
  fenceAcceptsPostgres,
  patchEndpointSettingsPostgres,
} from './endpoint-writes.ts';
import { listEventDeliveriesPostgres } from './event-deliveries.ts';
import { eventTypePostgres, hasEventTypePostgres, upsertEventTypePostgres } from './event-types.ts';
import { GroupCommit } from './group-commit.ts';
import {
  endpointStatsPostgres,
  getAttemptPostgres,
  listAttemptsPostgres,
  listEventsPostgres,
  listOperationalEventsPostgres,
} from './history-reads.ts';
import { heldIdempotencyKeysPostgres } from './idempotency-keys.ts';
import { LaterBatchesPostgres } from './later-batches.ts';
import { migratePostgres, unknownMigrationsPostgres } from './migrate.ts';
import { DueListener, notifyDue } from './notify.ts';
import { listUnforwardedPostgres, markForwardedPostgres } from './operational-outbox.ts';
import { countPendingPostgres } from './pending-count.ts';
import {
  connectionConfig,
  connectWritable,
  createPool,
  POOL_BOUNDS,
  type PoolBounds,
  sawReadOnly,
  sawWritable,
  transaction,
} from './pool.ts';
import { deleteProjectPostgres, deletingProjectsPostgres } from './project-delete.ts';
import {
  createProjectPostgres,
  listProjectsPostgres,
  projectPostgres,
  revokePortalLinksPostgres,
  updateProjectPostgres,
} from './projects.ts';
import { takeRateTokensPostgres } from './rate-limit.ts';
import { replayMissingPostgres } from './replay-missing.ts';
import { purgeBeforePostgres } from './retention.ts';
import { type Row, toDelivery, toEndpoint, toEvent } from './rows.ts';
import { listEndpointsPostgres, listEventTypesPostgres } from './settings-lists.ts';
import { type Job, type JobResult, writeBatch } from './write-batch.ts';

/** How many of a pool's `max` connections may read charts at once: a quarter, at least one. */
export const statsConnections = (max: number) => Math.max(1, Math.floor(max / 4));

/** Anything `query` can be called on: the pool, or a client inside a transaction. */
type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PostgresStoreOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Encrypts endpoint secrets at rest; plaintext when absent. */
  cipher?: SecretCipher;
  /** Bounds on database calls (default POOL_BOUNDS, pool.ts); tests shorten them. */
  bounds?: PoolBounds;
  /** An accept's wait in the group-commit queue (default ACCEPT_WAIT_MS, accept-batch.ts); tests shorten it. */
  acceptWaitMs?: number;
  /** New deliveries a group takes past its first accept (default GROUP_DELIVERIES, accept-group.ts); tests lower it. */
  groupDeliveries?: number;
  /** Told of later transactions that fail and go through again (park-batch.ts; src/later-write-log.ts). */
  laterWrites?: LaterWriteReport;
  /**
   * The clock a claim measures this process's against the database's with (lease-clock.ts); default
   * Date.now. Tests pass one set off to be a process whose clock is wrong.
   */
  clock?: () => number;
}

/** lock_not_available: a statement waited for a lock past lock_timeout (pool.ts PoolBounds.lockMs). */
const LOCK_NOT_AVAILABLE = '55P03';

export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities = {
    multiProcess: true,
    crossProcessWakeups: true,
    leaseOnAccept: true,
  };
  readonly #cipher: SecretCipher;
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #listeners = new Set<() => void>();
  readonly #writes: GroupCommit<Job, JobResult>;
  readonly #acceptWaitMs: number;
  readonly #due: DueListener;
  /** Tags this store's NOTIFYs so its own listener ignores them (local listeners are called directly). */
  readonly #instanceId = randomUUID();
  /** What claims keep between calls (claims.ts). */
  readonly #claimState: ClaimState = { turns: newTurnCursor(), skipWindow: null, activeEndpoints: 0 };
  #closed = false;
  /** Parking and resuming left to later transactions (later-batches.ts). */
  readonly #later: LaterBatchesPostgres;
  /**
   * Charts read every attempt of their range, in steps on one connection, seconds for a busy endpoint
   * (30 days of 3M attempts: 3.5-6 s). Without a bound, ten at once (a few dashboards; the endpoints list asks
   * for up to 100) held the pool's ten connections, and events waited for one: 10 s and a 503.
   */
  readonly #statsTurns: TurnGate;
  /** This process's clock, and its offset from the database's as the last claim or leasing accept proved it (lease-clock.ts). */
  readonly #leaseClock: LeaseClock;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#cipher = options.cipher ?? PLAINTEXT_SECRETS;
    this.#url = url;
    this.#acceptWaitMs = options.acceptWaitMs ?? ACCEPT_WAIT_MS;
    this.#leaseClock = { clock: options.clock ?? Date.now, offsetMs: 0 };
    const max = options.max ?? 10;
    this.#pool = createPool(url, max, options.bounds ?? POOL_BOUNDS); // pool.ts
    this.#statsTurns = new TurnGate(statsConnections(max));
    this.#writes = new GroupCommit<Job, JobResult>(
      this.#pool,
      (client, jobs) => writeBatch(client, jobs, this.#instanceId, options.groupDeliveries, this.#leaseClock), // write-batch.ts
      // Attempt records make nothing due now (retries wait at least seconds): waking the
      // dispatchers after each would only make them claim again for nothing. Neither does an
      // accept with a lease: its caller hands the leased deliveries over and wakes this process's
      // dispatcher for any beyond the lease (src/api/accept-events.ts).
      (jobs) => {
        if (jobs.some((j) => j.kind === 'release' || (j.kind === 'accept' && !j.lease))) this.#notifyLocal();
      },
    );
    this.#due = new DueListener(
      connectionConfig(url),
      this.#instanceId,
      () => this.#notifyLocal(),
      (listening, projectId) => {
        // The active endpoints kept by claims are read again, the project's or all (claims.ts activeEndpoints).
        noteEndpointChange(this.#claimState, projectId);
        this.#claimState.endpointsWatched = listening;
      },
    );
    this.#later = new LaterBatchesPostgres({
      pool: this.#pool,
      tx: (fn) => this.#tx(fn),
      notifyOthers: (c) => this.#notifyOthers(c),
      notifyLocal: () => this.#notifyLocal(),
      closed: () => this.#closed,
      ...(options.laterWrites ? { report: options.laterWrites } : {}),
    });
  }

  /** Group transactions committed so far (tests check that a burst shares one). */
  get groupCommits(): number {
    return this.#writes.commits;
  }
  /** Resolves once the cross-process listener is connected (tests wait on it). */
  async listening(): Promise<void> {
    this.#due.start();
    await this.#due.ready();
  }

  async #one(sql: string, params: unknown[] = [], db: Queryable = this.#pool): Promise<Row | undefined> {
    return ((await db.query(sql, params)).rows as Row[])[0];
  }
  #tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.#pool, fn); // pool.ts
  }
  #notifyLocal(): void {
    for (const l of this.#listeners) l();
  }
  /** Wakes this process's listeners now and other processes' on commit (NOTIFY is transactional). */
  async #notifyOthers(db: Queryable): Promise<void> {
    await notifyDue(db, this.#instanceId); // notify.ts
  }

  /**
   * On a connection of its own without the pool's bounds: a migration may build an index on a big
   * table. A second one says what a wait on a lock is for (options.onWait).
   */
  async migrate(options: MigrationOptions = {}) {
    const pool = createPool(this.#url, 2, null);
    try {
      return await migratePostgres(pool, options);
    } finally {
      await pool.end();
    }
  }
  async unknownMigrations(): Promise<string[]> {
    return unknownMigrationsPostgres(this.#pool); // migrate.ts
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes.drain();
    await this.#later.drain(); // each stops after its current batch
    await this.#due.stop();
    await this.#pool.end();
  }
  /**
   * Also fails, as a write would (SQLSTATE 25006), on a server that takes no writes: a standby that
   * HERALD_DATABASE_URL leads to before its promotion answers reads, but this process can store
   * nothing there, so /readyz must not say ready.
   */
  async ping(): Promise<void> {
    const client = await connectWritable(this.#pool);
    let readOnly = false;
    try {
      const row = await this.#one("SELECT current_setting('transaction_read_only') AS read_only", [], client);
      readOnly = row?.read_only === 'on';
    } catch (error) {
      client.release(true); // as pool.query does with a connection whose query failed
      throw error;
    }
    client.release(readOnly);
    if (!readOnly) {
      sawWritable(this.#pool, client); // pool.ts says why
      return;
    }
    sawReadOnly(this.#pool); // the pool's other connections may lead there too (pool.ts)
    throw new ReadOnlyDatabaseError();
  }

  // ── projects, API keys, event types (projects.ts, api-keys.ts, event-types.ts) ──
  async createProject(input: NewProject, now: number) {
    return createProjectPostgres(this.#pool, input, now);
  }
  async getProject(idOrUid: string) {
    return projectPostgres(this.#pool, idOrUid);
  }
  async listProjects(q: PageQuery) {
    return listProjectsPostgres(this.#pool, q);
  }
  async updateProject(projectId: string, patch: ProjectPatch, now: number) {
    return this.#tx((c) => updateProjectPostgres(c, projectId, patch, now)); // reads the row FOR UPDATE
  }

  async revokePortalLinks(projectId: string, now: number) {
    return revokePortalLinksPostgres(this.#pool, projectId, now);
  }
  async deleteProject(projectId: string) {
    await this.#writes.drain();
    return deleteProjectPostgres(this.#pool, (fn) => this.#tx(fn), projectId); // project-delete.ts
  }
  async finishProjectDeletes() {
    return finishProjectDeletes({
      deleting: () => deletingProjectsPostgres(this.#pool), // project-delete.ts
      deleteProject: (projectId) => this.deleteProject(projectId),
      closed: () => this.#closed,
    });
  }

  async createApiKey(input: NewApiKey, now: number) {
    return createApiKeyPostgres(this.#pool, input, now);
  }
  async findApiKeyByHash(keyHash: string) {
    return apiKeyByHashPostgres(this.#pool, keyHash);
  }
  async listApiKeys(projectId: string) {
    return listApiKeysPostgres(this.#pool, projectId);
  }
  async getApiKey(projectId: string, keyId: string) {
    return apiKeyByIdPostgres(this.#pool, projectId, keyId);
  }
  async deleteApiKey(projectId: string, keyId: string) {
    return deleteApiKeyPostgres(this.#pool, projectId, keyId);
  }
  async touchApiKey(projectId: string, keyId: string, at: number, coarseMs: number) {
    await touchApiKeyPostgres(this.#pool, projectId, keyId, at, coarseMs);
  }

  upsertEventType(input: EventTypeInput, now: number): Promise<EventType>;
  upsertEventType(input: EventTypeInput, now: number, checked: EventTypeChecked): Promise<EventType | null>;
  async upsertEventType(input: EventTypeInput, now: number, checked?: EventTypeChecked) {
    if (!checked) return upsertEventTypePostgres(this.#pool, input, now);
    // Read locked and compared with what the caller checked; an entry there was none of (none to
    // lock) is only inserted, never merged into one a concurrent PUT made meanwhile.
    return this.#tx(async (c) => {
      const found = await eventTypePostgres(c, input.name, true);
      if (!eventTypeKept(checked.stored, found, input)) return null;
      return upsertEventTypePostgres(c, input, now, { insertOnly: found === null });
    });
  }
  async getEventType(name: string) {
    return eventTypePostgres(this.#pool, name);
  }
  async hasEventType(name: string) {
    return hasEventTypePostgres(this.#pool, name);
  }
  async listEventTypes(q: PageQuery) {
    return listEventTypesPostgres(this.#pool, q);
  }

  // ── endpoints ─────────────────────────────────────────────────────────────
  async createEndpoint(input: NewEndpoint, secret: string, now: number) {
    const id = newId(ID_PREFIX.endpoint, now);
    return toEndpoint(await createEndpointPostgres(this.#pool, id, input, this.#cipher.seal(secret), now));
  }
  async getEndpoint(projectId: string, endpointId: string, db: Queryable = this.#pool) {
    return endpointPostgres(db, projectId, endpointId); // endpoint-reads.ts
  }
  async listEndpoints(projectId: string, q: PageQuery) {
    return listEndpointsPostgres(this.#pool, projectId, q);
  }
  async updateEndpoint(
    projectId: string,
    endpointId: string,
    patch: EndpointPatch,
    now: number,
    check?: EndpointCheck,
  ) {
    await this.#writes.drain();
    const { active, ...fields } = patch;
    // Settings alone (neither `active` nor a rate limit, which may move deliveries) and nothing to
    // check: one statement that locks, writes and returns the row (endpoint-writes.ts), atomic
    // without a transaction.
    // Its updated_at as claims count time (lease-clock.ts databaseDueTime): a put-back whose limit
    // was loosened while in flight is due as of it (rate-deferred.ts). Until 2026-12-07 on this
    // process's clock: one S ahead left such a put-back due S late for every worker.
    const changedAt = this.#dueAt(now);
    if (!check && active === undefined && fields.rateLimit === undefined) {
      const out = await patchEndpointSettingsPostgres(this.#pool, projectId, endpointId, fields, changedAt);
      return out ? toEndpoint(out.row) : null;
    }
    let resumed = false;
    const later: LaterBatches[] = [];
    const updated = await this.#tx(async (c) => {
      // Checked on the row as locked: a rotation (which locks it too) or another PATCH comes
      // before, and is seen, or after.
      if (check && !(await this.#checkLocked(c, projectId, endpointId, now, check))) return null;
      const out = await patchEndpointSettingsPostgres(c, projectId, endpointId, fields, changedAt);
      if (!out) return null;
      later.length = 0;
      // A disable leaves deliveries in flight to their records, their leases judged in the
      // database's time (lease-clock.ts leaseJudgedAt; one more round trip, on a disable only).
      const leaseNow =
        active === false && out.before.status === 'active'
          ? leaseJudgedAt(now, await measureLeaseOffset(this.#leaseClock, () => databaseNowIn(c)))
          : now;
      const applied = await applyEndpointPatchPostgres(
        c,
        out.before,
        patch,
        now,
        later,
        leaseNow,
        this.#dueAt(now),
      ); // endpoint-writes.ts
      resumed = applied.resumed;
      if (resumed) await this.#notifyOthers(c);
      // Disabled or enabled since the settings were written: read again.
      return applied.statusChanged ? this.getEndpoint(projectId, endpointId, c) : toEndpoint(out.row);
    });
    if (resumed) this.#notifyLocal();
    this.#later.start(later);
    return updated;
  }
  async deleteEndpoint(projectId: string, endpointId: string, now: number) {
    await this.#writes.drain();
    // Its backlog is closed at `now` in the database's time, the time retention's cutoff is in.
    const at = this.#dueAt(now);
    // The endpoint goes in the first transaction (nothing new fans out to it, the dispatcher sends
    // no more); then the accept batches in flight that may have fanned out to it are waited for
    // (fenceAcceptsPostgres); its backlog, theirs with it, closes a batch per statement after that
    // (endpoint-writes.ts). Not in the first transaction: accepts of the project would wait for
    // all of it, and it locks the endpoint before the project, a project delete the other way.
    const limit = parkBatch.rows;
    const first = await this.#tx((c) => deleteEndpointPostgres(c, projectId, endpointId, limit, at));
    // A fence that waits past lock_timeout (a project whose accepts overlap without a gap: KEY SHARE
    // locks go past a waiting FOR UPDATE) is given up: the endpoint is gone, and what such an accept
    // made for it the dispatcher closes ("endpoint deleted"); failing the delete answered 503 for it.
    if (first.deleted)
      await fenceAcceptsPostgres(this.#pool, projectId).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      });
    if (first.deleted || first.picked === limit) await this.#closeBacklog(projectId, endpointId, at);
    return first.deleted;
  }
  /**
   * A deleted endpoint's pending and parked deliveries closed at `at` (in the database's time), a
   * batch per statement, until none are left.
   */
  async #closeBacklog(projectId: string, endpointId: string, at: number): Promise<void> {
    for (;;) {
      const limit = parkBatch.rows;
      if ((await closeDeliveriesPostgres(this.#pool, projectId, endpointId, limit, at)) < limit) return;
    }
  }
  async finishEndpointDeletes(now: number) {
    const at = this.#dueAt(now);
    return finishEndpointDeletes({
      projects: async () => {
        const { rows } = await this.#pool.query('SELECT id FROM projects ORDER BY id');
        return (rows as { id: string }[]).map((r) => r.id);
      },
      deletedWithBacklog: (projectId) => deletedWithBacklogPostgres(this.#pool, projectId), // endpoint-writes.ts
      closeBacklog: (projectId, endpointId) => this.#closeBacklog(projectId, endpointId, at),
      closed: () => this.#closed,
    });
  }
  async getEndpointSecrets(
    projectId: string,
    endpointId: string,
    now: number,
    db: Queryable = this.#pool,
  ): Promise<EndpointSecret[]> {
    return validSecretsPostgres(db, this.#cipher, projectId, endpointId, now); // endpoint-secrets.ts
  }
  /** Locks the endpoint's row and runs `check` on it and its current secret; false when there is none. */
  async #checkLocked(c: Queryable, projectId: string, endpointId: string, now: number, check: EndpointCheck) {
    const row = await endpointRowPostgres(c, projectId, endpointId, true);
    if (!row) return false;
    const [current] = await validSecretsPostgres(c, this.#cipher, projectId, endpointId, now);
    check(toEndpoint(row), current?.secret ?? null);
    return true;
  }
  async rotateEndpointSecret(
    projectId: string,
    endpointId: string,
    secret: string,
    graceMs: number,
    now: number,
    check?: EndpointCheck,
  ) {
    return this.#tx((c) =>
      rotateSecretPostgres(c, this.#cipher, projectId, endpointId, {
        secret,
        graceMs,
        now,
        ...(check ? { check } : {}),
      }),
    );
  }
  async enableEndpoint(projectId: string, endpointId: string, now: number) {
    await this.#writes.drain();
    const out = await this.#tx(async (c) => {
      const exists = await this.#one(
        'SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE',
        [projectId, endpointId],
        c,
      );
      if (!exists) return null;
      // Written in the database's time, the endpoint's updatedAt too (endpoint-writes.ts applyEndpointPatchPostgres).
      const at = this.#dueAt(now);
      const on = await enableEndpointPostgres(c, projectId, endpointId, at, parkBatch.rows, at);
      if (on.resumed > 0) await this.#notifyOthers(c);
      return { endpoint: (await this.getEndpoint(projectId, endpointId, c))!, ...on };
    });
    if (!out) return null;
    this.#notifyLocal();
    if (out.rest) void this.#later.resume({ projectId, endpointId, enabledAt: this.#dueAt(now) });
    return { endpoint: out.endpoint, resumed: out.resumed };
  }

  // ── events ────────────────────────────────────────────────────────────────
  async acceptEvents(
    projectId: string,
    events: NewEventInput[],
    now: number,
    options: { lease?: AcceptLease; maxDeliveries?: number } = {},
  ): Promise<AcceptedEvent[]> {
    if (events.length === 0) return [];
    return (await this.#writes.submit(
      {
        kind: 'accept',
        projectId,
        events,
        now,
        ...(options.lease ? { lease: options.lease } : {}),
        ...(options.maxDeliveries !== undefined ? { maxDeliveries: options.maxDeliveries } : {}),
      },
      this.#acceptWaitMs, // past it, 503 HERALD_ERR_BUSY, nothing stored (ACCEPT_WAIT_MS says why)
    )) as AcceptedEvent[];
  }
  async getEvent(projectId: string, eventId: string) {
    return (
      (await eventsWithDeliveries(this.#pool, [{ projectId, eventId }])).get(`${projectId}/${eventId}`) ??
      null
    );
  }
  async getEventWithoutDeliveries(projectId: string, eventId: string) {
    const row = await this.#one('SELECT * FROM events WHERE project_id = $1 AND id = $2', [
      projectId,
      eventId,
    ]);
    return row ? toEvent(row) : null;
  }
  async listEvents(projectId: string, q: EventQuery): Promise<Page<HeraldEvent>> {
    return listEventsPostgres(this.#pool, projectId, q);
  }
  async eventExists(projectId: string, eventId: string) {
    return (
      (await this.#one('SELECT 1 FROM events WHERE project_id = $1 AND id = $2', [projectId, eventId])) !==
      undefined
    );
  }
  async listEventDeliveries(projectId: string, eventId: string, q: EventDeliveryQuery) {
    return listEventDeliveriesPostgres(this.#pool, projectId, eventId, q); // event-deliveries.ts
  }
  async listEndpointDeliveries(projectId: string, endpointId: string, q: EndpointDeliveryQuery) {
    return listEndpointDeliveriesPostgres(this.#pool, projectId, endpointId, q); // endpoint-deliveries.ts
  }
  async countEndpointBacklog(projectId: string, endpointId: string, atMost: number) {
    return countEndpointBacklogPostgres(this.#pool, projectId, endpointId, atMost); // endpoint-deliveries.ts
  }
  async getDelivery(projectId: string, deliveryId: string) {
    const row = await this.#one('SELECT * FROM deliveries WHERE project_id = $1 AND id = $2', [
      projectId,
      deliveryId,
    ]);
    return row ? toDelivery(row) : null;
  }
  async retryDelivery(projectId: string, deliveryId: string, now: number) {
    const row = await this.#tx(async (c) => {
      // A lease is judged in the database's time, as claims judge it, whichever way this clock is
      // off (lease-clock.ts leaseJudgedAt: the API's inFlight says the same).
      const offsetMs = await measureLeaseOffset(this.#leaseClock, () => databaseNowIn(c));
      const leaseNow = leaseJudgedAt(now, offsetMs);
      // Due at once as claims count it (lease-clock.ts databaseDueTime), by the same offset.
      const due = databaseDueTime(now, offsetMs);
      const r = await retryDeliveryPostgres(c, projectId, deliveryId, due, leaseNow); // due-deliveries.ts
      if (typeof r !== 'string') await this.#notifyOthers(c);
      return r;
    });
    if (row === 'gone') return null;
    if (typeof row === 'string') return row;
    this.#notifyLocal();
    return toDelivery(row);
  }
  async recoverDeliveries(projectId: string, endpointId: string, since: number, until: number, now: number) {
    const due = this.#dueAt(now);
    // In batches, each its own short transaction (recover-batch.ts): the endpoint's attempt records
    // wait for one batch, not for all of them. due-deliveries.ts
    return recoverInBatches(since, async (from) => {
      const rows = await failedDeliveriesAfterPostgres(
        this.#pool,
        projectId,
        endpointId,
        until,
        from,
        recoverBatch.rows,
      );
      const ids = rows.map((r) => r.id);
      const recovered = ids.length
        ? await this.#tx(async (c) => {
            const changed = await recoverDeliveriesPostgres(c, projectId, endpointId, ids, due);
            if (changed) await this.#notifyOthers(c);
            return changed;
          })
        : 0;
      // The endpoint gone or disabled: none of the rest is recovered either.
      if (recovered === 'gone') return { recovered: 0, next: null };
      if (recovered === 'disabled') return { recovered: 0, next: null, disabled: true };
      if (recovered) this.#notifyLocal();
      return { recovered, next: rows.length === recoverBatch.rows ? rows.at(-1)! : null };
    });
  }

  async replayMissing(projectId: string, endpointId: string, request: ReplayRequest) {
    const { until } = request;
    // The replayed deliveries are written at the time claims count (created and due).
    const now = this.#dueAt(request.now);
    return replayInBatches(request, (from, room) =>
      this.#tx(async (c) => {
        const batch = await replayMissingPostgres(
          c,
          projectId,
          endpointId,
          until,
          now,
          from,
          replayBatch.events,
          room,
        );
        if (batch?.replayed) await this.#notifyOthers(c);
        return batch;
      }).then((batch) => {
        if (batch?.replayed) this.#notifyLocal();
        return batch;
      }),
    ); // replay-missing.ts
  }

  // ── attempts ──────────────────────────────────────────────────────────────
  async listAttempts(projectId: string, q: AttemptQuery) {
    return listAttemptsPostgres(this.#pool, projectId, q);
  }
  async getAttempt(projectId: string, attemptId: string) {
    return getAttemptPostgres(this.#pool, projectId, attemptId);
  }
  async endpointStats(projectId: string, endpointId: string, q: StatsQuery): Promise<StatsBucket[]> {
    // A chart whose caller left while it waited for its turn is not read; one being read stops at its next step.
    return this.#statsTurns.run(async () =>
      q.signal?.aborted ? [] : endpointStatsPostgres(this.#pool, projectId, endpointId, q),
    );
  }

  async listOperationalEvents(projectId: string, q: OperationalEventQuery) {
    return listOperationalEventsPostgres(this.#pool, projectId, q);
  }

  // ── dispatcher ───────────────────────────────────────────────────────────
  async claimDueDeliveries(o: ClaimOptions): Promise<ClaimedDelivery[]> {
    // One transaction whose plans walk the due index in order and stop at the limit, whatever the
    // statistics say: right after a bulk accept they can put a million due rows at a few hundred,
    // and the planner then reads every due row (a bitmap scan and a sort, or the whole due range
    // hashed for the window's join: 60-105 ms per statement at 300,000 pending, growing with the
    // backlog). Claims only ever want index order and key lookups.
    const inTurn: Row[] = [];
    // The turns move on only with a claim that commits: one rolled back (a deadlock, a statement
    // timeout, a connection cut) leased nothing, and the dispatcher's next claim gives the turns
    // it would have given. Moved before the commit and kept, they were skipped: a project or an
    // endpoint whose turn it was lost it (postgres-claim-rollback.test.ts).
    const turns = this.#claimState.turns;
    const start = markTurnCursor(turns);
    let claimed: Row[];
    // Its times in the database's (lease-clock.ts): other workers judge its leases, it theirs.
    let inDatabaseTime = o;
    try {
      claimed = await this.#tx(async (client) => {
        inTurn.length = 0; // a transaction tried again starts over
        const offsetMs = await measureLeaseOffset(this.#leaseClock, () =>
          claimSettingsAndDatabaseNow(client),
        );
        inDatabaseTime = { ...o, ...databaseLeaseTimes(o.now, o.leaseMs, offsetMs) };
        return leaseDue(client, inDatabaseTime, this.#claimState, inTurn); // claims.ts
      });
    } catch (error) {
      resetTurnCursor(turns, start);
      throw error;
    }
    const out = await withEvents(this.#pool, claimed, inDatabaseTime, inTurn); // claims.ts
    // This process counts its lease from the now it passed, on its own clock.
    for (const c of out) c.leaseEndsAt = o.now + o.leaseMs;
    return out;
  }
  async getDispatchEndpoints(refs: { projectId: string; endpointId: string }[], now: number) {
    return dispatchEndpointsPostgres(this.#pool, this.#cipher, refs, now); // dispatch-endpoints.ts
  }
  async recordAttempts(records: AttemptRecord[], options: RecordOptions): Promise<RecordResult> {
    if (records.length === 0) return { disabledEndpoints: [], statuses: [] };
    const { later, ...result } = (await this.#writes.submit({
      kind: 'record',
      records,
      options,
    })) as RecordedPostgres;
    this.#later.park(later);
    return result;
  }
  async resumeStrandedParked(now: number) {
    return this.#later.resumeStranded(this.#dueAt(now)); // later-batches.ts
  }
  async releaseDeliveries(items: ReleaseItem[]) {
    if (items.length === 0) return;
    await this.#writes.submit({ kind: 'release', items });
  }
  async releaseClaims(workerId: string, now: number) {
    const n = await this.#tx(async (c) => {
      const changed = await releaseClaimsPostgres(c, workerId, this.#dueAt(now));
      if (changed) await this.#notifyOthers(c);
      return changed;
    });
    if (n) this.#notifyLocal();
    return n;
  }
  subscribeDue(listener: () => void) {
    this.#listeners.add(listener);
    if (!this.#closed) this.#due.start();
    return () => {
      this.#listeners.delete(listener);
    };
  }
  async openAllSecrets(): Promise<void> {
    return openAllSecretsPostgres(this.#pool, this.#cipher);
  }
  async resealSecrets(): Promise<number> {
    return resealSecretsPostgres(this.#pool, this.#cipher);
  }
  /**
   * Read in the database's time, where due times and leases are written (`now` moved by the offset
   * last proved, lease-clock.ts leaseJudgedAt: no round trip), the oldest due time answered on this
   * process's clock, as `now` is (ownClockTime). Until 2026-12-07 read with `now` as given: the age
   * metrics.ts works out from it read S too old from a process S ahead (20 s: 22.1 s for a
   * delivery due 2 s before), and from one S behind a delivery due less than S before was not due
   * yet (0).
   */
  async backlog(now: number): Promise<Backlog> {
    const { offsetMs } = this.#leaseClock;
    const read = await backlogPostgres(this.#pool, leaseJudgedAt(now, offsetMs));
    return read.oldestDueAt === null
      ? read
      : { ...read, oldestDueAt: ownClockTime(read.oldestDueAt, offsetMs) };
  }
  async databaseNow(): Promise<number> {
    let ms = Number.NaN;
    // The clock check's reading (every minute) is the store's too: what leaseNow judges leases by
    // in a process that claims nothing (an API process).
    await measureLeaseOffset(this.#leaseClock, async () => {
      const { rows } = await this.#pool.query<{ ms: string }>(
        'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms',
      );
      ms = Number(rows[0]!.ms);
      return ms;
    });
    return ms;
  }
  /**
   * `now` on this process's clock as a due time claims count (lease-clock.ts databaseDueTime): by
   * the offset the clock check, a claim or a leasing accept last proved; no round trip.
   */
  #dueAt(now: number): number {
    return databaseDueTime(now, this.#leaseClock.offsetMs);
  }
  databaseTime(at: number): number {
    return this.#dueAt(at);
  }
  leaseNow(): number {
    return leaseJudgedAt(this.#leaseClock.clock(), this.#leaseClock.offsetMs);
  }
  async countPendingDeliveries(projectId: string, atMost: number): Promise<number> {
    return countPendingPostgres(this.#pool, projectId, atMost); // pending-count.ts
  }
  async heldIdempotencyKeys(projectId: string, keys: readonly string[], now: number) {
    return heldIdempotencyKeysPostgres(this.#pool, projectId, keys, now);
  }

  // ── limits, retention, operational-event outbox (rate-limit.ts, retention.ts, operational-outbox.ts) ──
  async takeRateTokens(requests: RateTokenRequest[], now: number | (() => number)) {
    // The bucket in the database's time, by the offset the last reading proved (the claim before
    // this take measured it); the next token's time back in this process's (lease-clock.ts).
    return takeRateTokensPostgres(this.#pool, requests, now, this.#leaseClock.offsetMs);
  }
  async purgeBefore(projectId: string, cutoff: number, limit: number, after: string | null = null) {
    return purgeBeforePostgres((fn) => this.#tx(fn), projectId, cutoff, limit, after);
  }
  async listUnforwardedOperationalEvents(limit: number) {
    return listUnforwardedPostgres(this.#pool, limit);
  }
  async markOperationalEventsForwarded(refs: { projectId: string; id: string }[], now: number) {
    await markForwardedPostgres(this.#pool, refs, now);
  }
}
