/**
 * The shared store: PostgreSQL, several Herald processes at once. Claims are leased with
 * FOR UPDATE SKIP LOCKED, hot-path writes are group-committed with multi-row statements, and
 * LISTEN/NOTIFY wakes the dispatchers of every process. See src/store/store.ts for the contract.
 */

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { rateLimitLoosened } from '../../domain/gcra.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import { sameSecret } from '../../domain/secret.ts';
import type { EndpointSecret, HeraldEvent } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
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
import { acceptBatchPostgres, eventsWithDeliveries } from './accept-batch.ts';
import { recordBatchPostgres } from './attempt-records.ts';
import { CLAIM_PLANNER_SETTINGS, type ClaimState, leaseDue, withEvents } from './claims.ts';
import { dispatchEndpointsPostgres } from './dispatch-endpoints.ts';
import {
  deleteEndpointPostgres,
  disableEndpointPostgres,
  enableEndpointPostgres,
  expireCurrentSecretPostgres,
  insertEndpointPostgres,
  insertSecretPostgres,
  recordEndpointDisabledPostgres,
  releaseRateDeferredPostgres,
  updateEndpointPostgres,
} from './endpoint-writes.ts';
import { GroupCommit } from './group-commit.ts';
import {
  endpointStatsPostgres,
  getAttemptPostgres,
  listAttemptsPostgres,
  listEventsPostgres,
} from './history-reads.ts';
import { migratePostgres } from './migrate.ts';
import { DUE_CHANNEL, DueListener } from './notify.ts';
import { listUnforwardedPostgres, markForwardedPostgres } from './operational-outbox.ts';
import { deleteProjectPostgres } from './project-delete.ts';
import { takeRateTokensPostgres } from './rate-limit.ts';
import { purgeBeforePostgres } from './retention.ts';
import {
  EXACT_JSON_TYPES,
  num,
  type Row,
  toApiKey,
  toDelivery,
  toEndpoint,
  toEventType,
  toOperationalEvent,
  toProject,
  toSecret,
} from './rows.ts';
import { listEndpointsPostgres, listEventTypesPostgres } from './settings-lists.ts';

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Anything `query` can be called on: the pool, or a client inside a transaction. */
type Queryable = Pick<pg.PoolClient, 'query'>;

/** A hot-path write waiting for the next group commit. */
type Job =
  | { kind: 'accept'; projectId: string; events: NewEventInput[]; now: number; lease?: AcceptLease }
  | { kind: 'record'; records: AttemptRecord[]; options: RecordOptions }
  | { kind: 'release'; items: ReleaseItem[] };
type JobResult = AcceptedEvent[] | RecordResult | undefined;
/** The part of an endpoint that fan-out reads. */

export interface PostgresStoreOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Encrypts endpoint secrets at rest; plaintext when absent. */
  cipher?: SecretCipher;
}

export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities = {
    multiProcess: true,
    crossProcessWakeups: true,
    leaseOnAccept: true,
  };
  readonly #cipher: SecretCipher;
  readonly #pool: pg.Pool;
  readonly #listeners = new Set<() => void>();
  readonly #writes: GroupCommit<Job, JobResult>;
  readonly #due: DueListener;
  /** Tags this store's NOTIFYs so its own listener ignores them (local listeners are called directly). */
  readonly #instanceId = randomUUID();
  /** What claims keep between calls (claims.ts). */
  readonly #claimState: ClaimState = { probeFrom: 0, skipWindow: null, activeEndpoints: 0 };
  #closed = false;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#cipher = options.cipher ?? PLAINTEXT_SECRETS;
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      idleTimeoutMillis: 30_000,
      types: EXACT_JSON_TYPES,
    });
    // An idle client losing its connection (PostgreSQL restarting) is reported here; without a
    // handler it would crash the process. The pool drops that client; later calls reconnect.
    this.#pool.on('error', () => undefined);
    // A checked-out client (inside a transaction) has no pool listener: a connection cut there
    // would be an unhandled 'error' event. Its queries reject anyway; the client is then discarded.
    this.#pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    this.#writes = new GroupCommit<Job, JobResult>(
      this.#pool,
      (client, jobs) => this.#runBatch(client, jobs),
      // Attempt records make nothing due now (retries wait at least seconds): waking the
      // dispatchers after each would only make them claim again for nothing. Neither does an
      // accept with a lease: its caller hands the leased deliveries over and wakes this process's
      // dispatcher for any beyond the lease (src/api/accept-events.ts).
      (jobs) => {
        if (jobs.some((j) => j.kind === 'release' || (j.kind === 'accept' && !j.lease))) this.#notifyLocal();
      },
    );
    this.#due = new DueListener({ connectionString: url }, this.#instanceId, () => this.#notifyLocal());
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

  async #query(sql: string, params: unknown[] = [], db: Queryable = this.#pool): Promise<Row[]> {
    return (await db.query(sql, params)).rows as Row[];
  }
  async #one(sql: string, params: unknown[] = [], db: Queryable = this.#pool): Promise<Row | undefined> {
    return (await this.#query(sql, params, db))[0];
  }
  async #run(sql: string, params: unknown[] = [], db: Queryable = this.#pool): Promise<number> {
    return (await db.query(sql, params)).rowCount ?? 0;
  }
  async #tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }
  #notifyLocal(): void {
    for (const l of this.#listeners) l();
  }
  /** Wakes this process's listeners now and other processes' on commit (NOTIFY is transactional). */
  async #notifyOthers(db: Queryable): Promise<void> {
    await db.query('SELECT pg_notify($1, $2)', [DUE_CHANNEL, this.#instanceId]);
  }

  async migrate(): Promise<void> {
    await migratePostgres(this.#pool);
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes.drain();
    await this.#due.stop();
    await this.#pool.end();
  }
  async ping(): Promise<void> {
    await this.#query('SELECT 1');
  }

  // ── projects ──────────────────────────────────────────────────────────────
  async createProject(input: NewProject, now: number) {
    const id = newId(ID_PREFIX.project, now);
    try {
      const row = await this.#one(
        `INSERT INTO projects (id, project_id, uid, name, retry_schedule, enforce_catalog, created_at, updated_at)
         VALUES ($1, $1, $2, $3, $4, $5, $6, $6) RETURNING *`,
        [id, input.uid ?? null, input.name, optJson(input.retrySchedule), input.enforceCatalog ?? false, now],
      );
      return toProject(row!);
    } catch (error) {
      throw uniqueViolation(error, 'uid', 'a project with this uid exists');
    }
  }
  async getProject(idOrUid: string) {
    const row =
      (await this.#one('SELECT * FROM projects WHERE id = $1', [idOrUid])) ??
      (await this.#one('SELECT * FROM projects WHERE uid = $1', [idOrUid]));
    return row ? toProject(row) : null;
  }
  async listProjects(q: PageQuery) {
    const after = decodeCursor(q.cursor);
    const rows = after
      ? await this.#query('SELECT * FROM projects WHERE id < $1 ORDER BY id DESC LIMIT $2', [
          after,
          q.limit + 1,
        ])
      : await this.#query('SELECT * FROM projects ORDER BY id DESC LIMIT $1', [q.limit + 1]);
    return toPage(rows.map(toProject), q.limit, (p) => p.id);
  }
  async updateProject(projectId: string, patch: ProjectPatch, now: number) {
    const row = await this.#one('SELECT * FROM projects WHERE id = $1', [projectId]);
    if (!row) return null;
    const next = { ...toProject(row), ...patch };
    try {
      const updated = await this.#one(
        `UPDATE projects SET name = $1, uid = $2, retry_schedule = $3, enforce_catalog = $4, updated_at = $5
         WHERE id = $6 RETURNING *`,
        [next.name, next.uid ?? null, optJson(next.retrySchedule), next.enforceCatalog, now, projectId],
      );
      return updated ? toProject(updated) : null;
    } catch (error) {
      throw uniqueViolation(error, 'uid', 'a project with this uid exists');
    }
  }
  async deleteProject(projectId: string) {
    await this.#writes.drain();
    return deleteProjectPostgres(this.#pool, (fn) => this.#tx(fn), projectId); // project-delete.ts
  }

  // ── API keys ──────────────────────────────────────────────────────────────
  async createApiKey(input: NewApiKey, now: number) {
    const row = await this.#one(
      `INSERT INTO api_keys (project_id, id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING *`,
      [input.projectId, newId(ID_PREFIX.apiKey, now), input.name, input.prefix, input.keyHash, now],
    );
    return toApiKey(row!);
  }
  async findApiKeyByHash(keyHash: string) {
    // The one lookup before the project is known: the hash is what identifies it.
    const row = await this.#one('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]);
    return row ? toApiKey(row) : null;
  }
  async listApiKeys(projectId: string) {
    return (
      await this.#query('SELECT * FROM api_keys WHERE project_id = $1 ORDER BY id DESC', [projectId])
    ).map(toApiKey);
  }
  async deleteApiKey(projectId: string, keyId: string) {
    return (
      (await this.#run('DELETE FROM api_keys WHERE project_id = $1 AND id = $2', [projectId, keyId])) > 0
    );
  }

  // ── event types (global) ──────────────────────────────────────────────────
  async upsertEventType(input: EventTypeInput, now: number) {
    const cur = await this.getEventType(input.name);
    const next = {
      description: input.description ?? cur?.description ?? '',
      schema: input.schema !== undefined ? input.schema : (cur?.schema ?? null),
      example: input.example !== undefined ? input.example : (cur?.example ?? null),
      deprecated: input.deprecated ?? cur?.deprecated ?? false,
    };
    const row = await this.#one(
      `INSERT INTO event_types (name, description, schema, example, deprecated, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description, schema = excluded.schema,
         example = excluded.example, deprecated = excluded.deprecated, updated_at = excluded.updated_at
       RETURNING *`,
      [input.name, next.description, optJson(next.schema), optJson(next.example), next.deprecated, now],
    );
    return toEventType(row!);
  }
  async getEventType(name: string) {
    const row = await this.#one('SELECT * FROM event_types WHERE name = $1', [name]);
    return row ? toEventType(row) : null;
  }
  async listEventTypes(q: PageQuery) {
    return listEventTypesPostgres(this.#pool, q);
  }

  // ── endpoints ─────────────────────────────────────────────────────────────
  async createEndpoint(input: NewEndpoint, secret: string, now: number) {
    const id = newId(ID_PREFIX.endpoint, now);
    const row = await this.#tx(async (c) => {
      const r = await insertEndpointPostgres(c, id, input, now);
      await insertSecretPostgres(c, input.projectId, id, this.#cipher.seal(secret), now);
      return r;
    });
    return toEndpoint(row);
  }
  async getEndpoint(projectId: string, endpointId: string, db: Queryable = this.#pool) {
    const row = await this.#one(
      'SELECT * FROM endpoints WHERE project_id = $1 AND id = $2',
      [projectId, endpointId],
      db,
    );
    return row ? toEndpoint(row) : null;
  }
  async listEndpoints(projectId: string, q: PageQuery) {
    return listEndpointsPostgres(this.#pool, projectId, q);
  }
  async updateEndpoint(projectId: string, endpointId: string, patch: EndpointPatch, now: number) {
    await this.#writes.drain();
    let resumed = false;
    const updated = await this.#tx(async (c) => {
      const row = await this.#one(
        'SELECT * FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE',
        [projectId, endpointId],
        c,
      );
      if (!row) return null;
      const cur = toEndpoint(row);
      const { active, ...fields } = patch;
      await updateEndpointPostgres(c, { ...cur, ...fields }, now);
      if (active === false && cur.status === 'active') {
        const off = await disableEndpointPostgres(c, projectId, endpointId, 'manual', now);
        await recordEndpointDisabledPostgres(c, projectId, endpointId, { reason: 'manual', ...off }, now);
      }
      if (active === true && cur.status === 'disabled') {
        await enableEndpointPostgres(c, projectId, endpointId, now);
        resumed = true;
      }
      // Deliveries the old limit put off are due now when it is removed or raised (store.ts).
      if (
        fields.rateLimit !== undefined &&
        rateLimitLoosened(cur.rateLimit, fields.rateLimit) &&
        (await releaseRateDeferredPostgres(c, projectId, endpointId, now)) > 0
      )
        resumed = true;
      if (resumed) await this.#notifyOthers(c);
      return this.getEndpoint(projectId, endpointId, c);
    });
    if (resumed) this.#notifyLocal();
    return updated;
  }
  async deleteEndpoint(projectId: string, endpointId: string) {
    await this.#writes.drain();
    return this.#tx((c) => deleteEndpointPostgres(c, projectId, endpointId));
  }
  async getEndpointSecrets(
    projectId: string,
    endpointId: string,
    now: number,
    db: Queryable = this.#pool,
  ): Promise<EndpointSecret[]> {
    const rows = await this.#query(
      `SELECT * FROM endpoint_secrets
       WHERE project_id = $1 AND endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $3)
       ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at DESC, id DESC`,
      [projectId, endpointId, now],
      db,
    );
    return rows.map((r) => ({ ...toSecret(r), secret: this.#cipher.open(String(r.secret)) }));
  }
  async rotateEndpointSecret(
    projectId: string,
    endpointId: string,
    secret: string,
    graceMs: number,
    now: number,
  ) {
    return this.#tx(async (c) => {
      // The endpoint's row lock orders concurrent rotations: the second reads the first's secret.
      const row = await this.#one(
        'SELECT * FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE',
        [projectId, endpointId],
        c,
      );
      if (!row) return null;
      const [current] = await this.getEndpointSecrets(projectId, endpointId, now, c);
      const { scheme } = toEndpoint(row).signature;
      if (current && sameSecret(scheme, current.secret, secret)) return 'same-as-current' as const;
      await expireCurrentSecretPostgres(c, projectId, endpointId, now + Math.max(0, graceMs));
      await insertSecretPostgres(c, projectId, endpointId, this.#cipher.seal(secret), now);
      return this.getEndpointSecrets(projectId, endpointId, now, c);
    });
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
      const resumed = await enableEndpointPostgres(c, projectId, endpointId, now);
      if (resumed > 0) await this.#notifyOthers(c);
      return { endpoint: (await this.getEndpoint(projectId, endpointId, c))!, resumed };
    });
    if (out) this.#notifyLocal();
    return out;
  }

  // ── events ────────────────────────────────────────────────────────────────
  async acceptEvents(
    projectId: string,
    events: NewEventInput[],
    now: number,
    options: { lease?: AcceptLease } = {},
  ): Promise<AcceptedEvent[]> {
    if (events.length === 0) return [];
    return (await this.#writes.submit({
      kind: 'accept',
      projectId,
      events,
      now,
      ...(options.lease ? { lease: options.lease } : {}),
    })) as AcceptedEvent[];
  }
  async getEvent(projectId: string, eventId: string) {
    return (
      (await eventsWithDeliveries(this.#pool, [{ projectId, eventId }])).get(`${projectId}/${eventId}`) ??
      null
    );
  }
  async listEvents(projectId: string, q: EventQuery): Promise<Page<HeraldEvent>> {
    return listEventsPostgres(this.#pool, projectId, q);
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
      // Left alone while a lease runs (claims.ts UNLEASED): an attempt is being sent.
      const r = await this.#one(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, leased_by = NULL, lease_until = NULL,
           updated_at = $1
         WHERE project_id = $2 AND id = $3
           AND NOT (status = 'pending' AND leased_by IS NOT NULL AND lease_until IS NOT NULL AND lease_until > $1)
         RETURNING *`,
        [now, projectId, deliveryId],
        c,
      );
      if (r) await this.#notifyOthers(c);
      return r;
    });
    if (row) {
      this.#notifyLocal();
      return toDelivery(row);
    }
    return (await this.getDelivery(projectId, deliveryId)) ? ('in-flight' as const) : null;
  }
  async recoverDeliveries(projectId: string, endpointId: string, since: number, until: number, now: number) {
    const n = await this.#tx(async (c) => {
      const changed = await this.#run(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, leased_by = NULL, updated_at = $1
         WHERE project_id = $2 AND endpoint_id = $3 AND status = 'failed' AND created_at >= $4 AND created_at <= $5`,
        [now, projectId, endpointId, since, until],
        c,
      );
      if (changed) await this.#notifyOthers(c);
      return changed;
    });
    if (n) this.#notifyLocal();
    return n;
  }

  // ── attempts ──────────────────────────────────────────────────────────────
  async listAttempts(projectId: string, q: AttemptQuery) {
    return listAttemptsPostgres(this.#pool, projectId, q);
  }
  async getAttempt(projectId: string, attemptId: string) {
    return getAttemptPostgres(this.#pool, projectId, attemptId);
  }
  async endpointStats(projectId: string, endpointId: string, q: StatsQuery): Promise<StatsBucket[]> {
    return endpointStatsPostgres(this.#pool, projectId, endpointId, q);
  }

  async listOperationalEvents(projectId: string, q: PageQuery) {
    const after = decodeCursor(q.cursor);
    const rows = after
      ? await this.#query(
          'SELECT * FROM operational_events WHERE project_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
          [projectId, after, q.limit + 1],
        )
      : await this.#query(
          'SELECT * FROM operational_events WHERE project_id = $1 ORDER BY id DESC LIMIT $2',
          [projectId, q.limit + 1],
        );
    return toPage(rows.map(toOperationalEvent), q.limit, (o) => o.id);
  }

  // ── dispatcher ───────────────────────────────────────────────────────────
  async claimDueDeliveries(o: ClaimOptions): Promise<ClaimedDelivery[]> {
    // One transaction whose plans walk the due index in order and stop at the limit, whatever the
    // statistics say: right after a bulk accept they can put a million due rows at a few hundred,
    // and the planner then reads every due row (a bitmap scan and a sort, or the whole due range
    // hashed for the window's join: 60-105 ms per statement at 300,000 pending, growing with the
    // backlog). Claims only ever want index order and key lookups.
    const claimed = await this.#tx(async (client) => {
      await client.query(CLAIM_PLANNER_SETTINGS);
      return leaseDue(client, o, this.#claimState); // claims.ts
    });
    return withEvents(this.#pool, claimed); // claims.ts
  }
  async getDispatchEndpoints(refs: { projectId: string; endpointId: string }[], now: number) {
    return dispatchEndpointsPostgres(this.#pool, this.#cipher, refs, now); // dispatch-endpoints.ts
  }
  async recordAttempts(records: AttemptRecord[], options: RecordOptions): Promise<RecordResult> {
    if (records.length === 0) return { disabledEndpoints: [], statuses: [] };
    return (await this.#writes.submit({ kind: 'record', records, options })) as RecordResult;
  }
  async releaseDeliveries(items: ReleaseItem[]) {
    if (items.length === 0) return;
    await this.#writes.submit({ kind: 'release', items });
  }
  async releaseClaims(workerId: string, now: number) {
    const n = await this.#tx(async (c) => {
      const changed =
        workerId === '*'
          ? await this.#run(
              `UPDATE deliveries SET next_attempt_at = $1, leased_by = NULL, lease_until = NULL
               WHERE status = 'pending' AND leased_by IS NOT NULL`,
              [now],
              c,
            )
          : await this.#run(
              `UPDATE deliveries SET next_attempt_at = $1, leased_by = NULL, lease_until = NULL
               WHERE status = 'pending' AND leased_by = $2`,
              [now, workerId],
              c,
            );
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
  async resealSecrets(): Promise<number> {
    let n = 0;
    for (const r of await this.#query('SELECT project_id, id, secret FROM endpoint_secrets')) {
      const stored = String(r.secret);
      if (!this.#cipher.stale(stored)) continue;
      const sealed = this.#cipher.seal(this.#cipher.open(stored));
      // Compare-and-set: another process resealing at the same time rewrites it once, not twice.
      const done = await this.#query(
        'UPDATE endpoint_secrets SET secret = $1 WHERE project_id = $2 AND id = $3 AND secret = $4 RETURNING id',
        [sealed, r.project_id, r.id, stored],
      );
      n += done.length;
    }
    return n;
  }
  async backlog(now: number): Promise<Backlog> {
    // Two subqueries on deliveries_due: the count is an index-only scan, the oldest unleased due
    // delivery the first such entry in due order (leased rows keep their due time, so it passes
    // at most the attempts in flight). At 1,000,000 pending: 27-30 ms once vacuumed, 80-97 ms
    // before; one aggregate with both read every pending row from the table (87-107 ms).
    const row = await this.#one(
      `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending,
         (SELECT next_attempt_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
           AND (leased_by IS NULL OR lease_until IS NULL OR lease_until <= $1)
           ORDER BY next_attempt_at LIMIT 1) AS oldest`,
      [now],
    );
    return { pending: num(row?.pending ?? 0), oldestDueAt: row?.oldest == null ? null : num(row.oldest) };
  }

  // ── limits, retention, operational-event outbox (rate-limit.ts, retention.ts, operational-outbox.ts) ──
  async takeRateTokens(requests: RateTokenRequest[], now: number) {
    return takeRateTokensPostgres(this.#pool, requests, now);
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

  // ── group commit ─────────────────────────────────────────────────────────
  /** Writes one group: all accepts, then all attempt records, then all releases, in one transaction. */
  async #runBatch(c: pg.PoolClient, jobs: Job[]): Promise<JobResult[]> {
    const results: JobResult[] = new Array(jobs.length).fill(undefined);
    const accepts: { index: number; job: Extract<Job, { kind: 'accept' }> }[] = [];
    const records: { index: number; job: Extract<Job, { kind: 'record' }> }[] = [];
    const releases: ReleaseItem[] = [];
    jobs.forEach((job, index) => {
      if (job.kind === 'accept') accepts.push({ index, job });
      else if (job.kind === 'record') records.push({ index, job });
      else releases.push(...job.items);
    });
    let wake = false;
    if (accepts.length) {
      const accepted = await acceptBatchPostgres(
        c,
        accepts.map((a) => a.job),
      );
      accepts.forEach((a, i) => {
        results[a.index] = accepted[i];
      });
      // Other processes are woken for deliveries left due now, not for those leased to this one.
      wake ||= accepted.some((list) =>
        list.some((r) => !r.duplicate && r.deliveries.length > (r.leased ?? 0)),
      );
    }
    if (records.length) {
      const recorded = await recordBatchPostgres(
        c,
        records.map((r) => r.job),
      ); // attempt-records.ts
      records.forEach((r, i) => {
        results[r.index] = recorded[i];
      });
    }
    if (releases.length) {
      await this.#run(
        `UPDATE deliveries d SET status = v.status, next_attempt_at = v.next, leased_by = NULL,
           rate_deferred = v.rate_deferred
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bool[])
           AS v(project_id, id, status, next, rate_deferred)
         WHERE d.project_id = v.project_id AND d.id = v.id AND d.status = 'pending'`,
        [
          releases.map((r) => r.projectId),
          releases.map((r) => r.deliveryId),
          releases.map((r) => r.status ?? 'pending'),
          releases.map((r) => r.nextAttemptAt),
          releases.map((r) => r.rateLimited === true),
        ],
        c,
      );
      wake ||= releases.some((r) => (r.status ?? 'pending') === 'pending');
    }
    if (wake) await this.#notifyOthers(c);
    return results;
  }
}

function uniqueViolation(error: unknown, field: string, message: string): unknown {
  return error instanceof Error && (error as { code?: unknown }).code === '23505'
    ? new StoreConflictError(field, message, { cause: error })
    : error;
}
