/**
 * The embedded store: one process, one SQLite file (WAL; accepted events fsynced), hot-path writes
 * group-committed. See src/store/store.ts for the contract every method follows.
 */

import type { DatabaseSync } from 'node:sqlite';
import { rateLimitLoosened } from '../../domain/gcra.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { EndpointSecret, EventType, HeraldEvent } from '../../domain/types.ts';
import { ACCEPT_WAIT_MS } from '../accept-group.ts';
import { markTurnCursor, newTurnCursor, resetTurnCursor, type TurnCursorMark } from '../claim-turns.ts';
import { DispatchCache, type DispatchCacheOptions } from '../dispatch-cache.ts';
import { FanOutCache } from '../fan-out-cache.ts';
import { finishEndpointDeletes } from '../finish-endpoint-deletes.ts';
import { finishProjectDeletes } from '../finish-project-deletes.ts';
import { type LaterBatches, type LaterWriteReport, type ParkRest, parkBatch } from '../park-batch.ts';
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
  RateTokenGrant,
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
import { storedDisablesLater } from '../stored-records.ts';
import {
  acceptEventsSqlite,
  acceptSizeSqlite,
  eventSqlite,
  eventWithDeliveriesSqlite,
} from './accept-events.ts';
import {
  apiKeyByHashSqlite,
  apiKeyByIdSqlite,
  deleteApiKeySqlite,
  insertApiKeySqlite,
  insertedApiKeySqlite,
  listApiKeysSqlite,
  touchApiKeySqlite,
} from './api-keys.ts';
import { storedRecordsSqlite, writeAttemptRecords } from './attempt-records.ts';
import { checkpointAfterCommit } from './checkpoint-after-commit.ts';
import { claimDue, type LeasedClaim, type ProbeCursor, unleaseUnread, withEvents } from './claims.ts';
import { type DatabaseFileWatch, watchDatabaseFile } from './database-file-watch.ts';
import { all, get } from './db-helpers.ts';
import { dispatchEndpointsSqlite } from './dispatch-endpoints.ts';
import {
  backlogSqlite,
  recoverDeliveriesSqlite,
  releaseClaimsSqlite,
  releaseDeliveriesSqlite,
  retryDeliverySqlite,
} from './due-deliveries.ts';
import { countEndpointBacklogSqlite, listEndpointDeliveriesSqlite } from './endpoint-deliveries.ts';
import { dispatchEndpointSqlite, endpointSqlite } from './endpoint-reads.ts';
import {
  openAllSecretsSqlite,
  resealSecretsSqlite,
  rotateSecretSqlite,
  validSecretsSqlite,
} from './endpoint-secrets.ts';
import {
  applyEndpointPatchSqlite,
  closeDeliveriesSqlite,
  deletedWithBacklogSqlite,
  deleteEndpointSqlite,
  enableEndpointSqlite,
  insertEndpointSqlite,
  insertSecretSqlite,
} from './endpoint-writes.ts';
import { listEventDeliveriesSqlite } from './event-deliveries.ts';
import { eventTypeSqlite, hasEventTypeSqlite, upsertEventTypeSqlite } from './event-types.ts';
import { GroupCommit } from './group-commit.ts';
import {
  endpointStatsSqlite,
  getAttemptSqlite,
  listAttemptsSqlite,
  listEventsSqlite,
  listOperationalEventsSqlite,
} from './history-reads.ts';
import { heldIdempotencyKeysSqlite } from './idempotency-keys.ts';
import { LaterBatchesSqlite } from './later-batches.ts';
import { migrateSqlite, unknownMigrationsSqlite } from './migrate.ts';
import { openDatabaseSqlite } from './open-database.ts';
import { listUnforwardedSqlite, markForwardedSqlite } from './operational-outbox.ts';
import { countPendingSqlite } from './pending-count.ts';
import { deleteProjectSqlite, deletingProjectsSqlite } from './project-delete.ts';
import {
  createProjectSqlite,
  listProjectsSqlite,
  projectSqlite,
  revokePortalLinksSqlite,
  updateProjectSqlite,
} from './projects.ts';
import { takeRateTokensSqlite } from './rate-limit.ts';
import { replayMissingSqlite } from './replay-missing.ts';
import { purgeBeforeSqlite } from './retention.ts';
import { toDelivery } from './rows.ts';
import { listEndpointsSqlite, listEventTypesSqlite } from './settings-lists.ts';
import { type WriteTurns, writeTurnsFor } from './write-turns.ts';

export interface SqliteStoreOptions {
  /**
   * The WAL size, in pages, at which this connection's commits checkpoint it (`wal_autocheckpoint`).
   * A checkpoint copies the WAL into the database file and fsyncs it, blocking the committing
   * thread meanwhile. Without it, commits schedule a checkpoint for after their callers are
   * answered, at most one per 250 ms (checkpoint-after-commit.ts).
   */
  checkpointPages?: number;
  /** An accept's wait for a group transaction (default ACCEPT_WAIT_MS, accept-group.ts); tests shorten it. */
  acceptWaitMs?: number;
  /** New deliveries a group takes past its first accept (default GROUP_DELIVERIES); tests lower it. */
  groupDeliveries?: number;
  /** The dispatcher's cache of endpoint views (dispatch-cache.ts); tests shorten its ages. */
  dispatchCache?: DispatchCacheOptions;
  /** Told of later writes that fail and go through again (park-batch.ts; src/later-write-log.ts). */
  laterWrites?: LaterWriteReport;
}

export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = {
    multiProcess: false,
    crossProcessWakeups: false,
    leaseOnAccept: true,
  };
  readonly #cipher: SecretCipher;
  readonly #db: DatabaseSync;
  readonly #listeners = new Set<() => void>();
  readonly #writes: GroupCommit;
  /** Turns at the write lock with the process's other connections to the file (write-turns.ts). */
  readonly #turns: WriteTurns | null;
  /** Whether the file opened is still at its path (database-file-watch.ts). */
  readonly #file: DatabaseFileWatch;
  readonly #fanOut = new FanOutCache();
  /** The dispatcher's view of endpoints, by dispatch_version (dispatch-endpoints.ts). */
  readonly #dispatch: DispatchCache;
  /** Where the next per-endpoint probe of a claim starts (claims.ts). */
  readonly #probe: ProbeCursor = { turns: newTurnCursor() };
  #closed = false;
  /** Parking and resuming left to later writes (later-batches.ts). */
  readonly #later: LaterBatchesSqlite;
  readonly #acceptWaitMs: number;

  constructor(path: string, cipher: SecretCipher = PLAINTEXT_SECRETS, options: SqliteStoreOptions = {}) {
    this.#cipher = cipher;
    this.#acceptWaitMs = options.acceptWaitMs ?? ACCEPT_WAIT_MS;
    this.#dispatch = new DispatchCache(options.dispatchCache);
    const afterCommit = options.checkpointPages === undefined;
    this.#db = openDatabaseSqlite(path, afterCommit ? 0 : options.checkpointPages); // open-database.ts
    this.#later = new LaterBatchesSqlite(
      this.#db,
      (fn, o) => this.#write(fn, o),
      () => this.#closed,
      options.laterWrites,
    );
    this.#file = watchDatabaseFile(path === ':memory:' || path === '' ? null : path);
    this.#turns = writeTurnsFor(path);
    this.#writes = new GroupCommit(
      this.#db,
      () => this.#notify(),
      afterCommit ? checkpointAfterCommit(this.#db, () => this.#closed) : undefined,
      options.groupDeliveries,
      // Shared with the process's other connections to the file: the dispatcher thread's
      // claims get the lock between the API thread's commits (write-turns.ts).
      this.#turns,
    );
  }

  /**
   * Every write goes through the group commit, in order with the others: the write lock is tried
   * without blocking the thread (a busy handler would stall every request on this thread while
   * the other thread commits), and `fn` runs in a savepoint of its own, so a throw undoes only it.
   * `durable` (the default: management writes a caller is told are stored) fsyncs the batch;
   * bookkeeping passes false. `wakes`: the write can make deliveries due now.
   */
  #write<T>(fn: () => T, options: { durable?: boolean; wakes?: boolean } = {}): Promise<T> {
    return this.#submit(fn, { durable: options.durable ?? true, wakes: options.wakes ?? false });
  }
  /** GroupCommit.submit, refused once the file is deleted or replaced: nothing is stored that a restart would lose. */
  #submit<T>(fn: () => T, options: Parameters<GroupCommit['submit']>[1]): Promise<T> {
    try {
      this.#file.check();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#writes.submit(fn, options);
  }
  #notify(): void {
    for (const l of this.#listeners) l();
  }

  async migrate(options: MigrationOptions = {}) {
    return migrateSqlite(this.#db, options);
  }
  async unknownMigrations(): Promise<string[]> {
    return unknownMigrationsSqlite(this.#db); // migrate.ts
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#writes.queued > 0) this.#writes.flush(); // a group at a time (GROUP_DELIVERIES)
    this.#closed = true;
    this.#dispatch.clear();
    this.#turns?.release(); // the file's entry in the thread's environment data, with the last store
    this.#db.close();
  }
  async ping(): Promise<void> {
    this.#file.check();
    get(this.#db, 'SELECT 1');
  }

  // ── projects, API keys, event types (projects.ts, api-keys.ts, event-types.ts) ──
  async createProject(input: NewProject, now: number) {
    return createProjectSqlite(this.#db, (job) => this.#write(job), input, now);
  }
  async getProject(idOrUid: string) {
    return projectSqlite(this.#db, idOrUid);
  }
  async listProjects(q: PageQuery) {
    return listProjectsSqlite(this.#db, q);
  }
  async updateProject(projectId: string, patch: ProjectPatch, now: number) {
    return updateProjectSqlite(this.#db, (job) => this.#write(job), projectId, patch, now);
  }

  async revokePortalLinks(projectId: string, now: number) {
    return revokePortalLinksSqlite(this.#db, (job) => this.#write(job), projectId, now);
  }
  async deleteProject(projectId: string) {
    const deleted = await deleteProjectSqlite(this.#db, (job) => this.#write(job), projectId);
    // Its fan-out list would otherwise stay until pushed out by others' (up to the cache's bound).
    this.#fanOut.delete(projectId);
    // And its endpoints' decrypted secrets, if this store's dispatcher held them (another
    // thread's, or process's, are dropped by their cache's sweep: dispatch-cache.ts).
    this.#dispatch.deleteProject(projectId);
    return deleted;
  }
  async finishProjectDeletes() {
    return finishProjectDeletes({
      deleting: async () => deletingProjectsSqlite(this.#db), // project-delete.ts
      deleteProject: (projectId) => this.deleteProject(projectId),
      closed: () => this.#closed,
    });
  }

  /** Endpoints the fan-out cache holds, a project with none counting as one (for tests). */
  get fanOutHeld(): number {
    return this.#fanOut.size;
  }
  /** Endpoint views, with their decrypted secrets, the dispatcher's cache holds (for tests). */
  get dispatchHeld(): number {
    return this.#dispatch.size;
  }

  async createApiKey(input: NewApiKey, now: number) {
    const id = newId(ID_PREFIX.apiKey, now);
    // Read back in the write: after its commit a project delete may already have removed it.
    return this.#write(() => {
      insertApiKeySqlite(this.#db, id, input, now);
      return insertedApiKeySqlite(this.#db, id);
    });
  }
  async findApiKeyByHash(keyHash: string) {
    return apiKeyByHashSqlite(this.#db, keyHash);
  }
  async listApiKeys(projectId: string) {
    return listApiKeysSqlite(this.#db, projectId);
  }
  async getApiKey(projectId: string, keyId: string) {
    return apiKeyByIdSqlite(this.#db, projectId, keyId);
  }
  async deleteApiKey(projectId: string, keyId: string) {
    return this.#write(() => deleteApiKeySqlite(this.#db, projectId, keyId));
  }
  async touchApiKey(projectId: string, keyId: string, at: number, coarseMs: number) {
    // A time of use: a crash may lose the last one, so it is not worth an fsync of its own.
    await this.#write(() => touchApiKeySqlite(this.#db, projectId, keyId, at, coarseMs), { durable: false });
  }

  upsertEventType(input: EventTypeInput, now: number): Promise<EventType>;
  upsertEventType(input: EventTypeInput, now: number, checked: EventTypeChecked): Promise<EventType | null>;
  async upsertEventType(input: EventTypeInput, now: number, checked?: EventTypeChecked) {
    if (!(await this.#write(() => upsertEventTypeSqlite(this.#db, input, now, checked)))) return null;
    return (await this.getEventType(input.name))!;
  }
  async getEventType(name: string) {
    return eventTypeSqlite(this.#db, name);
  }
  async hasEventType(name: string) {
    return hasEventTypeSqlite(this.#db, name);
  }
  async listEventTypes(q: PageQuery) {
    return listEventTypesSqlite(this.#db, q);
  }

  // ── endpoints (endpoint-writes.ts) ────────────────────────────────────────
  async createEndpoint(input: NewEndpoint, secret: string, now: number) {
    const id = newId(ID_PREFIX.endpoint, now);
    // Read back in the write: after its commit a project delete may already have removed it.
    return this.#write(() => {
      insertEndpointSqlite(this.#db, id, input, now);
      insertSecretSqlite(this.#db, input.projectId, id, this.#cipher.seal(secret), now);
      return endpointSqlite(this.#db, input.projectId, id)!;
    });
  }
  async getEndpoint(projectId: string, endpointId: string) {
    return endpointSqlite(this.#db, projectId, endpointId);
  }
  async listEndpoints(projectId: string, q: PageQuery) {
    return listEndpointsSqlite(this.#db, projectId, q);
  }
  async updateEndpoint(
    projectId: string,
    endpointId: string,
    patch: EndpointPatch,
    now: number,
    check?: EndpointCheck,
  ) {
    const later: LaterBatches[] = [];
    // Read in the write: the patch applies to the endpoint as it is then, not as it was before
    // waiting for the write lock (two PATCHes at once would each write back the other's fields),
    // and is checked against it (a rotation or another PATCH may have come in between).
    const found = await this.#write(
      () => {
        later.length = 0;
        const cur = endpointSqlite(this.#db, projectId, endpointId);
        if (!cur) return false;
        if (check) check(cur, this.#currentSecret(projectId, endpointId, now));
        // Deliveries the old limit put off are due now when it is removed or raised (store.ts).
        const loosened = patch.rateLimit !== undefined && rateLimitLoosened(cur.rateLimit, patch.rateLimit);
        applyEndpointPatchSqlite(this.#db, cur, patch, loosened, now, later);
        return true;
      },
      { wakes: patch.rateLimit !== undefined },
    );
    if (!found) return null;
    this.#later.start(later);
    return this.getEndpoint(projectId, endpointId);
  }
  async deleteEndpoint(projectId: string, endpointId: string, now: number) {
    // The endpoint goes in the first write (nothing new fans out to it, the dispatcher sends no
    // more); its backlog closes a batch per write after it, other writes going in between.
    const limit = parkBatch.rows;
    const first = await this.#write(() => deleteEndpointSqlite(this.#db, projectId, endpointId, limit, now));
    this.#dispatch.delete(projectId, endpointId); // its decrypted secrets, as deleteProject's
    // And its URL: the project's fan-out list is out of date now (its version was bumped), so it
    // is dropped for nothing, not kept until the project's next accept or the cache's bound.
    this.#fanOut.delete(projectId);
    if (first.closed === limit) await this.#closeBacklog(projectId, endpointId, now);
    return first.deleted;
  }
  /** A deleted endpoint's pending and parked deliveries closed at `now`, a batch per write, until none are left. */
  async #closeBacklog(projectId: string, endpointId: string, now: number): Promise<void> {
    for (;;) {
      const limit = parkBatch.rows;
      const closed = await this.#write(
        () => closeDeliveriesSqlite(this.#db, projectId, endpointId, limit, now),
        { durable: false },
      );
      if (closed < limit) return;
    }
  }
  async finishEndpointDeletes(now: number) {
    return finishEndpointDeletes({
      projects: async () => all(this.#db, 'SELECT id FROM projects ORDER BY id').map((r) => String(r.id)),
      deletedWithBacklog: async (projectId) => {
        // Each project's look is a read on this thread: the event loop turns between two.
        await new Promise<void>((resolve) => setImmediate(resolve));
        return deletedWithBacklogSqlite(this.#db, projectId); // endpoint-writes.ts
      },
      closeBacklog: (projectId, endpointId) => this.#closeBacklog(projectId, endpointId, now),
      closed: () => this.#closed,
    });
  }
  async getEndpointSecrets(projectId: string, endpointId: string, now: number): Promise<EndpointSecret[]> {
    return validSecretsSqlite(this.#db, this.#cipher, projectId, endpointId, now); // endpoint-secrets.ts
  }
  #currentSecret(projectId: string, endpointId: string, now: number): string | null {
    return validSecretsSqlite(this.#db, this.#cipher, projectId, endpointId, now)[0]?.secret ?? null;
  }
  async rotateEndpointSecret(
    projectId: string,
    endpointId: string,
    secret: string,
    graceMs: number,
    now: number,
    check?: EndpointCheck,
  ) {
    // Read, checked, written and read back in one write of the group commit: a concurrent rotation
    // or PATCH comes before or after.
    return this.#write(() =>
      rotateSecretSqlite(this.#db, this.#cipher, endpointSqlite(this.#db, projectId, endpointId), {
        secret,
        graceMs,
        now,
        ...(check ? { check } : {}),
      }),
    );
  }
  async enableEndpoint(projectId: string, endpointId: string, now: number) {
    // Found, enabled and read back in one write: looked for before it, a delete committed in between
    // (another request's, queued first) left an enable that answered for no endpoint.
    const on = await this.#write(
      () => {
        if (!endpointSqlite(this.#db, projectId, endpointId)) return null;
        const done = enableEndpointSqlite(this.#db, projectId, endpointId, now, parkBatch.rows);
        return { ...done, endpoint: endpointSqlite(this.#db, projectId, endpointId)! };
      },
      { wakes: true },
    );
    if (!on) return null;
    if (on.rest) void this.#later.resume({ projectId, endpointId, enabledAt: now });
    return { endpoint: on.endpoint, resumed: on.resumed };
  }

  // ── events ────────────────────────────────────────────────────────────────
  async acceptEvents(
    projectId: string,
    events: NewEventInput[],
    now: number,
    options: { lease?: AcceptLease; maxDeliveries?: number } = {},
  ): Promise<AcceptedEvent[]> {
    const { accepted, loaded } = await this.#submit(
      // A refused accept (StoreTooManyDeliveriesError) throws in its own savepoint, before any insert.
      () =>
        acceptEventsSqlite(
          this.#db,
          this.#fanOut,
          projectId,
          events,
          now,
          options.lease,
          options.maxDeliveries,
        ), // accept-events.ts
      // With a lease the caller hands the deliveries off and wakes the dispatcher for any it could not.
      // Past the wait, 503 HERALD_ERR_BUSY, nothing stored (ACCEPT_WAIT_MS says why).
      {
        durable: true,
        wakes: !options.lease,
        size: () => acceptSizeSqlite(this.#db, this.#fanOut, projectId, events.length),
        waitMs: this.#acceptWaitMs,
      },
    );
    // Committed: the version it was read under now names this list for good.
    if (loaded) this.#fanOut.set(loaded.projectId, loaded.version, loaded.endpoints);
    return accepted;
  }
  async getEvent(projectId: string, eventId: string) {
    return eventWithDeliveriesSqlite(this.#db, projectId, eventId);
  }
  async getEventWithoutDeliveries(projectId: string, eventId: string) {
    return eventSqlite(this.#db, projectId, eventId);
  }
  async listEvents(projectId: string, q: EventQuery): Promise<Page<HeraldEvent>> {
    return listEventsSqlite(this.#db, projectId, q);
  }
  async eventExists(projectId: string, eventId: string) {
    return (
      get(this.#db, 'SELECT 1 AS x FROM events WHERE project_id = ? AND id = ?', projectId, eventId) !==
      undefined
    );
  }
  async listEventDeliveries(projectId: string, eventId: string, q: EventDeliveryQuery) {
    return listEventDeliveriesSqlite(this.#db, projectId, eventId, q); // event-deliveries.ts
  }
  async listEndpointDeliveries(projectId: string, endpointId: string, q: EndpointDeliveryQuery) {
    return listEndpointDeliveriesSqlite(this.#db, projectId, endpointId, q); // endpoint-deliveries.ts
  }
  async countEndpointBacklog(projectId: string, endpointId: string, atMost: number) {
    return countEndpointBacklogSqlite(this.#db, projectId, endpointId, atMost); // endpoint-deliveries.ts
  }
  async getDelivery(projectId: string, deliveryId: string) {
    const row = get(
      this.#db,
      'SELECT * FROM deliveries WHERE project_id = ? AND id = ?',
      projectId,
      deliveryId,
    );
    return row ? toDelivery(row) : null;
  }
  async retryDelivery(projectId: string, deliveryId: string, now: number) {
    const done = await this.#write(() => retryDeliverySqlite(this.#db, projectId, deliveryId, now), {
      wakes: true,
    }); // due-deliveries.ts
    if (done === 'gone') return null;
    if (done !== 'retried') return done;
    return this.getDelivery(projectId, deliveryId);
  }
  async recoverDeliveries(projectId: string, endpointId: string, since: number, until: number, now: number) {
    // In batches, each its own write (recover-batch.ts), the event loop turning between two: the
    // accepts and attempt records queued meanwhile are committed before the next batch.
    return recoverInBatches(since, (from) =>
      this.#write(
        () => recoverDeliveriesSqlite(this.#db, projectId, endpointId, until, now, from, recoverBatch.rows),
        { wakes: true },
      ),
    ); // due-deliveries.ts
  }

  async replayMissing(projectId: string, endpointId: string, request: ReplayRequest) {
    const { until, now } = request;
    return replayInBatches(request, (from, room) =>
      this.#write(
        () =>
          replayMissingSqlite(this.#db, projectId, endpointId, until, now, from, replayBatch.events, room),
        { wakes: true },
      ),
    ); // replay-missing.ts
  }

  // ── attempts ──────────────────────────────────────────────────────────────
  async listAttempts(projectId: string, q: AttemptQuery) {
    return listAttemptsSqlite(this.#db, projectId, q);
  }
  async getAttempt(projectId: string, attemptId: string) {
    return getAttemptSqlite(this.#db, projectId, attemptId);
  }
  async endpointStats(projectId: string, endpointId: string, q: StatsQuery): Promise<StatsBucket[]> {
    return endpointStatsSqlite(this.#db, projectId, endpointId, q);
  }

  async listOperationalEvents(projectId: string, q: OperationalEventQuery) {
    return listOperationalEventsSqlite(this.#db, projectId, q);
  }

  // ── dispatcher ───────────────────────────────────────────────────────────
  async claimDueDeliveries(o: ClaimOptions): Promise<ClaimedDelivery[]> {
    // The claim joins the attempt records waiting to be written: one transaction and one commit
    // for both, written now. Without waiting for the lock if the other thread's accept holds it
    // (group-commit.ts): the dispatcher keeps sending meanwhile.
    // The turns move on only with a claim that commits: one that failed in its group commit (a
    // full disk, an I/O error) leased nothing, and the dispatcher's next claim gives the turns it
    // would have given. Kept, they were skipped: a project or an endpoint whose turn it was lost it
    // (sqlite-claim-rollback.test.ts). Marked when the claim runs, as PostgresStore does.
    // Likewise the leases that ran out which it put back in their place (claims.ts
    // returnEndedLeases): rolled back, they are the next claim's to put back. Moved on, those of the
    // failed claim's span stayed due at their lease's end, behind what came due while it ran.
    // Only the lease is written under the lock: the payloads are read after the commit
    // (claims.ts withEvents), as a WAL reader that holds up no writer. Read inside it, 136 due
    // 1 MiB events held the lock 0.6-1.4 s a claim, and the API thread's accepts waited for it
    // (bench/claim-write-lock.ts).
    const turns = this.#probe.turns;
    let start: TurnCursorMark | undefined;
    let leasesEndedTo: number | undefined;
    const leased = this.#submit(
      () => {
        start = markTurnCursor(turns);
        leasesEndedTo = this.#probe.leasesEndedTo;
        return claimDue(this.#db, o, this.#probe); // claims.ts
      },
      { durable: false, wakes: false },
    );
    this.#writes.flush({ quiet: true, wait: false });
    let claim: LeasedClaim;
    try {
      claim = await leased;
    } catch (error) {
      if (start) {
        resetTurnCursor(turns, start);
        this.#probe.leasesEndedTo = leasesEndedTo;
      }
      throw error;
    }
    try {
      return withEvents(this.#db, claim);
    } catch (error) {
      // Leased but not read (an I/O error, out of memory): given back now, not at their lease's end.
      await this.#write(() => unleaseUnread(this.#db, claim, o.workerId), { durable: false }).catch(() => {});
      throw error;
    }
  }
  async getDispatchEndpoints(refs: { projectId: string; endpointId: string }[], now: number) {
    return dispatchEndpointsSqlite(
      this.#db,
      this.#dispatch,
      (projectId, endpointId, at) =>
        dispatchEndpointSqlite(this.#db, this.#cipher, projectId, endpointId, at),
      refs,
      now,
    ); // dispatch-endpoints.ts
  }
  async recordAttempts(records: AttemptRecord[], options: RecordOptions): Promise<RecordResult> {
    const later: ParkRest[] = [];
    const result = await this.#submit(
      () => {
        later.length = 0; // a job that throws is rolled back alone: only the last run's count
        const stored = options.retried ? storedRecordsSqlite(this.#db, records, options) : null;
        if (stored) later.push(...storedDisablesLater(stored, options.now)); // stored-records.ts
        return stored ?? writeAttemptRecords(this.#db, records, options, later); // attempt-records.ts
      },
      { durable: false, wakes: false }, // retries are due seconds later at the earliest
    );
    this.#later.park(later);
    return result;
  }
  async resumeStrandedParked(now: number) {
    return this.#later.resumeStranded(now); // later-batches.ts
  }
  async releaseDeliveries(items: ReleaseItem[]) {
    if (items.length === 0) return;
    await this.#submit(() => releaseDeliveriesSqlite(this.#db, items), { durable: false });
  }
  async releaseClaims(workerId: string, now: number) {
    return this.#write(() => releaseClaimsSqlite(this.#db, workerId, now), { durable: false, wakes: true });
  }
  subscribeDue(listener: () => void) {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
  async openAllSecrets(): Promise<void> {
    openAllSecretsSqlite(this.#db, this.#cipher);
  }
  async resealSecrets(): Promise<number> {
    return this.#write(() => resealSecretsSqlite(this.#db, this.#cipher));
  }
  async backlog(now: number): Promise<Backlog> {
    this.#file.check(); // herald_store_up 0 once the file is gone (metrics.ts reads it here)
    return backlogSqlite(this.#db, now);
  }
  async countPendingDeliveries(projectId: string, atMost: number): Promise<number> {
    return countPendingSqlite(this.#db, projectId, atMost); // pending-count.ts
  }
  async heldIdempotencyKeys(projectId: string, keys: readonly string[], now: number) {
    return heldIdempotencyKeysSqlite(this.#db, projectId, keys, now);
  }

  // ── limits, retention, operational-event outbox (rate-limit.ts, retention.ts, operational-outbox.ts) ──
  async takeRateTokens(requests: RateTokenRequest[], now: number | (() => number)) {
    if (requests.length === 0) return new Map<string, RateTokenGrant>();
    return this.#write(
      () => takeRateTokensSqlite(this.#db, requests, typeof now === 'function' ? now() : now),
      {
        durable: false,
      },
    );
  }
  async purgeBefore(projectId: string, cutoff: number, limit: number, after: string | null = null) {
    return this.#write(() => purgeBeforeSqlite(this.#db, projectId, cutoff, limit, after), {
      durable: false,
    });
  }
  async listUnforwardedOperationalEvents(limit: number) {
    return listUnforwardedSqlite(this.#db, limit);
  }
  async markOperationalEventsForwarded(refs: { projectId: string; id: string }[], now: number) {
    if (refs.length === 0) return;
    await this.#write(() => markForwardedSqlite(this.#db, refs, now), { durable: false });
  }
}
