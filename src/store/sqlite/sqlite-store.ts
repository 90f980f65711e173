/**
 * The embedded store: one process, one SQLite file (WAL; accepted events fsynced), hot-path writes
 * group-committed. See src/store/store.ts for the contract every method follows.
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { rateLimitLoosened } from '../../domain/gcra.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import { sameSecret } from '../../domain/secret.ts';
import type { Endpoint, EndpointSecret, HeraldEvent } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import { DispatchCache } from '../dispatch-cache.ts';
import { FanOutCache } from '../fan-out-cache.ts';
import { PLAINTEXT_SECRETS, type SecretCipher } from '../secret-cipher.ts';
import {
  type AcceptedEvent,
  type AcceptLease,
  type AttemptQuery,
  type AttemptRecord,
  type Backlog,
  type ClaimedDelivery,
  type ClaimOptions,
  type EndpointPatch,
  type EventQuery,
  type EventTypeInput,
  type NewApiKey,
  type NewEndpoint,
  type NewEventInput,
  type NewProject,
  type Page,
  type PageQuery,
  type ProjectPatch,
  type RateTokenGrant,
  type RateTokenRequest,
  type RecordOptions,
  type RecordResult,
  type ReleaseItem,
  type StatsBucket,
  type StatsQuery,
  type Store,
  type StoreCapabilities,
  StoreConflictError,
} from '../store.ts';
import { acceptEventsSqlite, eventWithDeliveriesSqlite } from './accept-events.ts';
import { writeAttemptRecords } from './attempt-records.ts';
import { claimDue, type ProbeCursor } from './claims.ts';
import { dispatchEndpointsSqlite } from './dispatch-endpoints.ts';
import {
  deleteEndpointSqlite,
  disableEndpointSqlite,
  enableEndpointSqlite,
  expireCurrentSecretSqlite,
  insertEndpointSqlite,
  insertSecretSqlite,
  recordEndpointDisabledSqlite,
  releaseRateDeferredSqlite,
  updateEndpointSqlite,
} from './endpoint-writes.ts';
import { BUSY_TIMEOUT_MS, GroupCommit } from './group-commit.ts';
import {
  endpointStatsSqlite,
  getAttemptSqlite,
  listAttemptsSqlite,
  listEventsSqlite,
} from './history-reads.ts';
import { migrateSqlite } from './migrate.ts';
import { listUnforwardedSqlite, markForwardedSqlite } from './operational-outbox.ts';
import { deleteProjectSqlite } from './project-delete.ts';
import { takeRateTokensSqlite } from './rate-limit.ts';
import { purgeBeforeSqlite } from './retention.ts';
import {
  type Row,
  toApiKey,
  toDelivery,
  toEndpoint,
  toEventType,
  toOperationalEvent,
  toProject,
  toSecret,
} from './rows.ts';
import { listEndpointsSqlite, listEventTypesSqlite } from './settings-lists.ts';

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

export interface SqliteStoreOptions {
  /**
   * The WAL size, in pages, at which this connection's commits checkpoint it (`wal_autocheckpoint`;
   * SQLite's default is 1,000, ~4 MB). A checkpoint copies the WAL into the database file and
   * fsyncs it, blocking the committing thread meanwhile.
   */
  checkpointPages?: number;
}

export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = {
    multiProcess: false,
    crossProcessWakeups: false,
    leaseOnAccept: true,
  };
  readonly #cipher: SecretCipher;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #listeners = new Set<() => void>();
  readonly #writes: GroupCommit;
  readonly #fanOut = new FanOutCache();
  /** The dispatcher's view of endpoints, by dispatch_version (dispatch-endpoints.ts). */
  readonly #dispatch = new DispatchCache();
  /** Where the next per-endpoint probe of a claim starts (claims.ts). */
  readonly #probe: ProbeCursor = { from: 0 };
  #closed = false;

  constructor(path: string, cipher: SecretCipher = PLAINTEXT_SECRETS, options: SqliteStoreOptions = {}) {
    this.#cipher = cipher;
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    if (options.checkpointPages !== undefined) {
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.floor(options.checkpointPages))}`);
    }
    // NORMAL by default (no fsync per commit in WAL mode); group commits that carry accepted events
    // switch to FULL, so an acknowledged event survives power loss (see group-commit.ts).
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.#db.exec('PRAGMA foreign_keys = ON');
    this.#writes = new GroupCommit(this.#db, () => this.#notify());
  }

  #sql(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }
  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#sql(sql).get(...params) as Row | undefined;
  }
  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#sql(sql).all(...params) as Row[];
  }
  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#sql(sql).run(...params).changes);
  }
  /**
   * Every write goes through the group commit, in order with the others: the write lock is tried
   * without blocking the thread (a busy handler would stall every request on this thread while
   * the other thread commits), and `fn` runs in a savepoint of its own, so a throw undoes only it.
   * `durable` (the default: management writes a caller is told are stored) fsyncs the batch;
   * bookkeeping passes false. `wakes`: the write can make deliveries due now.
   */
  #write<T>(fn: () => T, options: { durable?: boolean; wakes?: boolean } = {}): Promise<T> {
    return this.#writes.submit(fn, { durable: options.durable ?? true, wakes: options.wakes ?? false });
  }
  #notify(): void {
    for (const l of this.#listeners) l();
  }

  async migrate(): Promise<void> {
    migrateSqlite(this.#db);
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#writes.flush();
    this.#closed = true;
    this.#db.close();
  }
  async ping(): Promise<void> {
    this.#get('SELECT 1');
  }

  // ── projects ──────────────────────────────────────────────────────────────
  async createProject(input: NewProject, now: number) {
    const id = newId(ID_PREFIX.project, now);
    await this.#writeProject(
      `INSERT INTO projects (id, project_id, uid, name, retry_schedule, enforce_catalog, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      id,
      input.uid ?? null,
      input.name,
      optJson(input.retrySchedule),
      input.enforceCatalog ? 1 : 0,
      now,
      now,
    );
    return toProject(this.#get('SELECT * FROM projects WHERE id = ?', id)!);
  }
  async getProject(idOrUid: string) {
    const row =
      this.#get('SELECT * FROM projects WHERE id = ?', idOrUid) ??
      this.#get('SELECT * FROM projects WHERE uid = ?', idOrUid);
    return row ? toProject(row) : null;
  }
  async listProjects(q: PageQuery) {
    const after = decodeCursor(q.cursor);
    const rows = after
      ? this.#all('SELECT * FROM projects WHERE id < ? ORDER BY id DESC LIMIT ?', after, q.limit + 1)
      : this.#all('SELECT * FROM projects ORDER BY id DESC LIMIT ?', q.limit + 1);
    return toPage(rows.map(toProject), q.limit, (p) => p.id);
  }
  async updateProject(projectId: string, patch: ProjectPatch, now: number) {
    const cur = await this.#projectById(projectId);
    if (!cur) return null;
    const next = { ...cur, ...patch };
    await this.#writeProject(
      'UPDATE projects SET name = ?, uid = ?, retry_schedule = ?, enforce_catalog = ?, updated_at = ? WHERE id = ?',
      next.name,
      next.uid ?? null,
      optJson(next.retrySchedule),
      next.enforceCatalog ? 1 : 0,
      now,
      projectId,
    );
    return this.#projectById(projectId);
  }
  /** One write of a project row; a uid another project has becomes a conflict naming `uid`. */
  #writeProject(sql: string, ...params: SQLInputValue[]): Promise<void> {
    return this.#write(() => {
      try {
        this.#run(sql, ...params);
      } catch (error) {
        throw uniqueViolation(error, 'uid', 'a project with this uid exists');
      }
    });
  }
  async #projectById(projectId: string) {
    const row = this.#get('SELECT * FROM projects WHERE id = ?', projectId);
    return row ? toProject(row) : null;
  }
  async deleteProject(projectId: string) {
    return deleteProjectSqlite(this.#db, (job) => this.#write(job), projectId);
  }

  // ── API keys ──────────────────────────────────────────────────────────────
  async createApiKey(input: NewApiKey, now: number) {
    const id = newId(ID_PREFIX.apiKey, now);
    await this.#write(() =>
      this.#run(
        'INSERT INTO api_keys (id, project_id, name, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        id,
        input.projectId,
        input.name,
        input.prefix,
        input.keyHash,
        now,
      ),
    );
    return toApiKey(this.#get('SELECT * FROM api_keys WHERE id = ?', id)!);
  }
  async findApiKeyByHash(keyHash: string) {
    const row = this.#get('SELECT * FROM api_keys WHERE key_hash = ?', keyHash);
    return row ? toApiKey(row) : null;
  }
  async listApiKeys(projectId: string) {
    return this.#all('SELECT * FROM api_keys WHERE project_id = ? ORDER BY id DESC', projectId).map(toApiKey);
  }
  async deleteApiKey(projectId: string, keyId: string) {
    return this.#write(
      () => this.#run('DELETE FROM api_keys WHERE project_id = ? AND id = ?', projectId, keyId) > 0,
    );
  }

  // ── event types ───────────────────────────────────────────────────────────
  async upsertEventType(input: EventTypeInput, now: number) {
    await this.#write(() => this.#upsertEventType(input, now));
    return (await this.getEventType(input.name))!;
  }
  /** Reads the current type and writes the merge in the same savepoint: no update is lost. */
  #upsertEventType(input: EventTypeInput, now: number): void {
    const row = this.#get('SELECT * FROM event_types WHERE name = ?', input.name);
    const cur = row ? toEventType(row) : null;
    const next = {
      description: input.description ?? cur?.description ?? '',
      schema: input.schema !== undefined ? input.schema : (cur?.schema ?? null),
      example: input.example !== undefined ? input.example : (cur?.example ?? null),
      deprecated: input.deprecated ?? cur?.deprecated ?? false,
    };
    this.#run(
      `INSERT INTO event_types (name, description, schema, example, deprecated, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description, schema = excluded.schema,
         example = excluded.example, deprecated = excluded.deprecated, updated_at = excluded.updated_at`,
      input.name,
      next.description,
      optJson(next.schema),
      optJson(next.example),
      next.deprecated ? 1 : 0,
      now,
      now,
    );
  }
  async getEventType(name: string) {
    const row = this.#get('SELECT * FROM event_types WHERE name = ?', name);
    return row ? toEventType(row) : null;
  }
  async listEventTypes(q: PageQuery) {
    return listEventTypesSqlite(this.#db, q);
  }

  // ── endpoints (endpoint-writes.ts) ────────────────────────────────────────
  async createEndpoint(input: NewEndpoint, secret: string, now: number) {
    const id = newId(ID_PREFIX.endpoint, now);
    await this.#write(() => {
      insertEndpointSqlite(this.#db, id, input, now);
      insertSecretSqlite(this.#db, input.projectId, id, this.#cipher.seal(secret), now);
    });
    return (await this.getEndpoint(input.projectId, id))!;
  }
  async getEndpoint(projectId: string, endpointId: string) {
    return this.#endpoint(projectId, endpointId);
  }
  #endpoint(projectId: string, endpointId: string): Endpoint | null {
    const row = this.#get('SELECT * FROM endpoints WHERE project_id = ? AND id = ?', projectId, endpointId);
    return row ? toEndpoint(row) : null;
  }
  async listEndpoints(projectId: string, q: PageQuery) {
    return listEndpointsSqlite(this.#db, projectId, q);
  }
  async updateEndpoint(projectId: string, endpointId: string, patch: EndpointPatch, now: number) {
    const cur = await this.getEndpoint(projectId, endpointId);
    if (!cur) return null;
    const { active, ...fields } = patch;
    // Deliveries the old limit put off are due now when it is removed or raised (store.ts).
    const loosened = fields.rateLimit !== undefined && rateLimitLoosened(cur.rateLimit, fields.rateLimit);
    await this.#write(
      () => {
        updateEndpointSqlite(this.#db, { ...cur, ...fields }, now);
        if (active === false && cur.status === 'active') {
          const parked = disableEndpointSqlite(this.#db, projectId, endpointId, 'manual', now);
          recordEndpointDisabledSqlite(this.#db, projectId, endpointId, 'manual', parked, now);
        }
        if (active === true && cur.status === 'disabled')
          enableEndpointSqlite(this.#db, projectId, endpointId, now);
        if (loosened) releaseRateDeferredSqlite(this.#db, projectId, endpointId, now);
      },
      { wakes: loosened },
    );
    return this.getEndpoint(projectId, endpointId);
  }
  async deleteEndpoint(projectId: string, endpointId: string) {
    return this.#write(() => deleteEndpointSqlite(this.#db, projectId, endpointId));
  }
  async getEndpointSecrets(projectId: string, endpointId: string, now: number): Promise<EndpointSecret[]> {
    return this.#secrets(projectId, endpointId, now);
  }
  #secrets(projectId: string, endpointId: string, now: number): EndpointSecret[] {
    return this.#all(
      `SELECT * FROM endpoint_secrets WHERE project_id = ? AND endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at DESC, id DESC`,
      projectId,
      endpointId,
      now,
    ).map((r) => ({ ...toSecret(r), secret: this.#cipher.open(String(r.secret)) }));
  }
  async rotateEndpointSecret(
    projectId: string,
    endpointId: string,
    secret: string,
    graceMs: number,
    now: number,
  ) {
    // Read and written in one write of the group commit: a concurrent rotation comes before or after.
    const outcome = await this.#write(() => {
      const endpoint = this.#endpoint(projectId, endpointId);
      if (!endpoint) return null;
      const [current] = this.#secrets(projectId, endpointId, now);
      if (current && sameSecret(endpoint.signature.scheme, current.secret, secret))
        return 'same-as-current' as const;
      expireCurrentSecretSqlite(this.#db, projectId, endpointId, now + Math.max(0, graceMs));
      insertSecretSqlite(this.#db, projectId, endpointId, this.#cipher.seal(secret), now);
      return 'rotated' as const;
    });
    if (outcome !== 'rotated') return outcome;
    return this.getEndpointSecrets(projectId, endpointId, now);
  }
  async enableEndpoint(projectId: string, endpointId: string, now: number) {
    const cur = await this.getEndpoint(projectId, endpointId);
    if (!cur) return null;
    const resumed = await this.#write(() => enableEndpointSqlite(this.#db, projectId, endpointId, now), {
      wakes: true,
    });
    return { endpoint: (await this.getEndpoint(projectId, endpointId))!, resumed };
  }

  // ── events ────────────────────────────────────────────────────────────────
  async acceptEvents(
    projectId: string,
    events: NewEventInput[],
    now: number,
    options: { lease?: AcceptLease } = {},
  ): Promise<AcceptedEvent[]> {
    const { accepted, loaded } = await this.#writes.submit(
      () => acceptEventsSqlite(this.#db, this.#fanOut, projectId, events, now, options.lease), // accept-events.ts
      // With a lease the caller hands the deliveries off and wakes the dispatcher for any it could not.
      { durable: true, wakes: !options.lease },
    );
    // Committed: the version it was read under now names this list for good.
    if (loaded) this.#fanOut.set(loaded.projectId, loaded.version, loaded.endpoints);
    return accepted;
  }
  async getEvent(projectId: string, eventId: string) {
    return eventWithDeliveriesSqlite(this.#db, projectId, eventId);
  }
  async listEvents(projectId: string, q: EventQuery): Promise<Page<HeraldEvent>> {
    return listEventsSqlite(this.#db, projectId, q);
  }
  async getDelivery(projectId: string, deliveryId: string) {
    const row = this.#get('SELECT * FROM deliveries WHERE project_id = ? AND id = ?', projectId, deliveryId);
    return row ? toDelivery(row) : null;
  }
  async retryDelivery(projectId: string, deliveryId: string, now: number) {
    // A lease is leased_by with next_attempt_at at its end (claims.ts): left alone while it runs.
    const changed = await this.#write(
      () =>
        this.#run(
          `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, leased_by = NULL, updated_at = ?
           WHERE project_id = ? AND id = ?
             AND NOT (status = 'pending' AND leased_by IS NOT NULL AND next_attempt_at > ?)`,
          now,
          now,
          projectId,
          deliveryId,
          now,
        ),
      { wakes: true },
    );
    const delivery = await this.getDelivery(projectId, deliveryId);
    return delivery && changed === 0 ? ('in-flight' as const) : delivery;
  }
  async recoverDeliveries(projectId: string, endpointId: string, since: number, until: number, now: number) {
    return this.#write(
      () =>
        this.#run(
          `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, leased_by = NULL, updated_at = ?
           WHERE project_id = ? AND endpoint_id = ? AND status = 'failed' AND created_at >= ? AND created_at <= ?`,
          now,
          now,
          projectId,
          endpointId,
          since,
          until,
        ),
      { wakes: true },
    );
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

  async listOperationalEvents(projectId: string, q: PageQuery) {
    const after = decodeCursor(q.cursor);
    const rows = after
      ? this.#all(
          'SELECT * FROM operational_events WHERE project_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
          projectId,
          after,
          q.limit + 1,
        )
      : this.#all(
          'SELECT * FROM operational_events WHERE project_id = ? ORDER BY id DESC LIMIT ?',
          projectId,
          q.limit + 1,
        );
    return toPage(rows.map(toOperationalEvent), q.limit, (o) => o.id);
  }

  // ── dispatcher ───────────────────────────────────────────────────────────
  async claimDueDeliveries(o: ClaimOptions): Promise<ClaimedDelivery[]> {
    // The claim joins the attempt records waiting to be written: one transaction and one commit
    // for both, written now. Without waiting for the lock if the other thread's accept holds it
    // (group-commit.ts): the dispatcher keeps sending meanwhile.
    const claimed = this.#writes.submit(() => claimDue(this.#db, o, this.#probe), {
      durable: false,
      wakes: false,
    }); // claims.ts
    this.#writes.flush({ quiet: true, wait: false });
    return claimed;
  }
  async getDispatchEndpoints(refs: { projectId: string; endpointId: string }[], now: number) {
    return dispatchEndpointsSqlite(
      this.#db,
      this.#dispatch,
      (projectId, endpointId, at) => {
        const endpoint = this.#endpoint(projectId, endpointId);
        return endpoint && { endpoint, secrets: this.#secrets(projectId, endpointId, at) };
      },
      refs,
      now,
    ); // dispatch-endpoints.ts
  }
  recordAttempts(records: AttemptRecord[], options: RecordOptions): Promise<RecordResult> {
    return this.#writes.submit(
      () => writeAttemptRecords(this.#db, records, options), // attempt-records.ts
      { durable: false, wakes: false }, // retries are due seconds later at the earliest
    );
  }
  async releaseDeliveries(items: ReleaseItem[]) {
    if (items.length === 0) return;
    await this.#writes.submit(
      () => {
        for (const it of items) {
          this.#run(
            `UPDATE deliveries SET status = ?, next_attempt_at = ?, leased_by = NULL, rate_deferred = ?
             WHERE project_id = ? AND id = ? AND status = 'pending'`,
            it.status ?? 'pending',
            it.nextAttemptAt,
            it.rateLimited ? 1 : 0,
            it.projectId,
            it.deliveryId,
          );
        }
      },
      { durable: false },
    );
  }
  async releaseClaims(workerId: string, now: number) {
    return this.#write(
      () =>
        workerId === '*'
          ? this.#run(
              "UPDATE deliveries SET next_attempt_at = ?, leased_by = NULL WHERE status = 'pending' AND leased_by IS NOT NULL",
              now,
            )
          : this.#run(
              "UPDATE deliveries SET next_attempt_at = ?, leased_by = NULL WHERE status = 'pending' AND leased_by = ?",
              now,
              workerId,
            ),
      { durable: false, wakes: true },
    );
  }
  subscribeDue(listener: () => void) {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
  async resealSecrets(): Promise<number> {
    return this.#write(() => {
      let n = 0;
      for (const r of this.#all('SELECT id, secret FROM endpoint_secrets')) {
        const stored = String(r.secret);
        if (!this.#cipher.stale(stored)) continue;
        const sealed = this.#cipher.seal(this.#cipher.open(stored));
        n += this.#run(
          'UPDATE endpoint_secrets SET secret = ? WHERE id = ? AND secret = ?',
          sealed,
          String(r.id),
          stored,
        );
      }
      return n;
    });
  }
  async backlog(now: number): Promise<Backlog> {
    // Two statements, both on the covering index deliveries_due: the count walks it (12 ms at
    // 1,000,000 pending), the oldest is its first entry. One statement with both walked it reading
    // every entry's value (40 ms), on the thread that also accepts or delivers.
    const count = this.#get(`SELECT COUNT(*) AS pending FROM deliveries WHERE status = 'pending'`);
    const oldest = this.#get(
      `SELECT next_attempt_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at LIMIT 1`,
      now,
    );
    return {
      pending: Number(count?.pending ?? 0),
      oldestDueAt: oldest ? Number(oldest.next_attempt_at) : null,
    };
  }

  // ── limits, retention, operational-event outbox (rate-limit.ts, retention.ts, operational-outbox.ts) ──
  async takeRateTokens(requests: RateTokenRequest[], now: number) {
    if (requests.length === 0) return new Map<string, RateTokenGrant>();
    return this.#write(() => takeRateTokensSqlite(this.#db, requests, now), { durable: false });
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

function uniqueViolation(error: unknown, field: string, message: string): unknown {
  return error instanceof Error && /UNIQUE constraint failed/.test(error.message)
    ? new StoreConflictError(field, message, { cause: error })
    : error;
}
