import type pg from 'pg';
import { databaseClient } from './database-client.ts';

/** The channel Herald's stores NOTIFY on when they create due work. */
export const DUE_CHANNEL = 'herald_due';

/**
 * The channel the endpoints' triggers NOTIFY on when endpoints are created or deleted or their
 * status changes (migrations 0020, 0023), whichever process or store wrote them: the payload is the
 * project whose endpoints changed, or empty when it does not say (many projects at once).
 */
export const ENDPOINTS_CHANNEL = 'herald_endpoints';

/**
 * Cross-process wake-ups: one dedicated connection LISTENs on DUE_CHANNEL and calls `onWake` for
 * notifications from other stores (each store's own writes wake its listeners directly; its
 * notifications carry its `selfId` and are ignored here). The connection is opened on `start` and
 * reopened with exponential backoff when it drops (a PostgreSQL restart); after a reconnect
 * `onWake` is called once, since notifications sent meanwhile are lost.
 */
export class DueListener {
  readonly #config: pg.ClientConfig;
  readonly #selfId: string;
  readonly #onWake: () => void;
  readonly #onEndpoints: (listening: boolean, projectId?: string) => void;
  #client: pg.Client | null = null;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #backoffMs = 100;
  #connecting: Promise<void> | null = null;
  /** Resolves when the current connection is listening (tests wait on it). */
  #ready: Promise<void>;
  #markReady: () => void = () => undefined;

  /**
   * `onEndpoints`: told of each notice on ENDPOINTS_CHANNEL (true, with the project it names: its
   * payload, migration 0023; empty for all of them), and of every time the connection is lost or
   * listens again (false, then true, no project), since notices sent meanwhile are lost.
   */
  constructor(
    config: pg.ClientConfig,
    selfId: string,
    onWake: () => void,
    onEndpoints: (listening: boolean, projectId?: string) => void = () => undefined,
  ) {
    this.#config = config;
    this.#selfId = selfId;
    this.#onWake = onWake;
    this.#onEndpoints = onEndpoints;
    this.#ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
  }

  /** Starts listening (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#connecting = this.#connect(false);
  }

  /** Resolves once LISTEN is in effect. */
  ready(): Promise<void> {
    return this.#ready;
  }

  async #connect(isReconnect: boolean): Promise<void> {
    if (!this.#running) return;
    const client = databaseClient(this.#config);
    // Without an 'error' handler a dropped connection would crash the process.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === DUE_CHANNEL && msg.payload !== this.#selfId) this.#onWake();
      if (msg.channel === ENDPOINTS_CHANNEL && this.#client === client)
        this.#onEndpoints(true, msg.payload ?? '');
    });
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${DUE_CHANNEL}; LISTEN ${ENDPOINTS_CHANNEL}`);
      if (!this.#running) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#backoffMs = 100;
      this.#onEndpoints(true);
      this.#markReady();
      if (isReconnect) this.#onWake();
    } catch {
      this.#lost(client);
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#onEndpoints(false);
    client.end().catch(() => undefined);
    if (!this.#running || this.#timer) return;
    this.#ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connecting = this.#connect(true);
    }, delay);
    this.#timer.unref();
  }

  /** Stops listening and closes the connection. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#connecting?.catch(() => undefined);
    const client = this.#client;
    this.#client = null;
    this.#onEndpoints(false);
    if (client) await client.end().catch(() => undefined);
  }
}

/**
 * Wakes other processes' dispatchers once the transaction of `db` commits (NOTIFY is
 * transactional); `selfId` tags it so the sending store's own DueListener ignores it.
 */
export async function notifyDue(db: Pick<pg.PoolClient, 'query'>, selfId: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [DUE_CHANNEL, selfId]);
}
