/**
 * The one place that wires Herald together: store + sender + dispatcher + API, and the only
 * `listen`. Everything else receives what it needs as arguments.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/build-app.ts';
import { closeWithin } from './api/close-within.ts';
import { buildWorkerApp } from './api/worker-app.ts';
import { type BackgroundJobs, startBackgroundJobs } from './background-jobs.ts';
import { backlogReadLog } from './backlog-read-log.ts';
import { type ClockCheck, startClockCheck } from './clock-check.ts';
import { ConfigError } from './config/config-error.ts';
import type { Config } from './config/config-types.ts';
import { warnFilesOpenToOthers } from './config/data-dir-permissions.ts';
import { generateEncryptionKey, readEncryptionKeyFile } from './config/encryption-key-file.ts';
import {
  explainKeyFileMismatch,
  explainSetKeyMismatch,
  explainStartKeyMismatch,
  storeNewEncryptionKey,
} from './config/encryption-key-start.ts';
import { makeDirectory } from './config/make-directory.ts';
import { newerSchemaError } from './config/newer-schema-error.ts';
import { defaultPublicUrl } from './config/parse-addresses.ts';
import { redactDatabaseUrl } from './config/redact-database-url.ts';
import { roleOnSqliteWarning } from './config/role-on-sqlite.ts';
import type { Dispatcher } from './delivery/dispatcher.ts';
import { endpointDisabledLine } from './delivery/endpoint-disabled-line.ts';
import { fitToOpenFileLimit } from './delivery/fd-limit.ts';
import { createSecretKeyReadiness, onSecretKeyChange } from './delivery/secret-key-readiness.ts';
import type { Sender } from './delivery/sender.ts';
import { laterWriteLog } from './later-write-log.ts';
import { listenWithRetry } from './listen.ts';
import { createLogger, type Logger } from './logger.ts';
import {
  addClockOffsetGauge,
  addSchemaGauge,
  createMetrics,
  type DeliveryOutcome,
  type Metrics,
} from './metrics.ts';
import { type SchemaWatch, startSchemaWatch } from './schema-watch.ts';
import { openStore } from './store/open-store.ts';
import { isSecretKeyMismatch } from './store/secret-cipher.ts';
import type { ServingLock } from './store/sqlite/serving-lock.ts';
import type { MigrationResult, Store } from './store/store.ts';
import { explainDatabaseError } from './store/store-unavailable.ts';

export interface StartHeraldOptions {
  /** Defaults to a logger at `config.logLevel` on stdout. */
  logger?: Logger;
  /** How often the schema is read again (src/schema-watch.ts; tests): SCHEMA_CHECK_INTERVAL_MS. */
  schemaCheckIntervalMs?: number;
}

export interface RunningHerald {
  /** Where the API answers, e.g. http://127.0.0.1:8080 (the real port when config.port is 0). */
  readonly url: string;
  /**
   * Stops accepting requests, gives those in progress `graceMs` (default 10 s) to finish (then cuts
   * them), then gives in-flight deliveries `graceMs` to finish and record their attempts, then
   * closes the store. Deliveries still in flight after the grace keep
   * their lease and are tried again when it ends. Safe to call more than once.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const DEFAULT_GRACE_MS = 10_000;

/**
 * Where the ready line goes: Herald's logger, but at `info` whatever quieter level it has (warn,
 * error, fatal). The line is the start's announcement (DESIGN.md: "The server logs one line when
 * it is ready") and, with HERALD_PORT=0, the only place the chosen port is said, so a quiet log
 * keeps it; only `silent` drops it, as it drops everything.
 */
function readyLogger(logger: Logger): Logger {
  if (logger.level === 'silent' || logger.isLevelEnabled('info')) return logger;
  return logger.child({}, { level: 'info' });
}

/** Said at start by a PostgreSQL process without HERALD_ENCRYPTION_KEY (security.md, Secrets at rest). */
const UNSEALED_SECRETS_WARNING =
  'HERALD_ENCRYPTION_KEY is unset: endpoint signing secrets are stored in PostgreSQL as they are given, unsealed (readable by whoever reads the endpoint_secrets table or a dump of it); give every process the same key (openssl rand -base64 32), and the next start seals them (docs/security.md)';

/**
 * Opens the store (which, once the key opens every stored endpoint secret, creates or upgrades the
 * schema), starts the dispatcher unless the role is `api`, builds the HTTP app and listens.
 * Resolves once `/readyz` answers 200; that moment is logged as exactly one line,
 * `herald ready on URL (role R, DATABASE)`.
 *
 * Roles: `all` = API + dispatcher; `api` = API only; `worker` = dispatcher plus /healthz, /readyz
 * and /metrics, so an orchestrator can still probe it.
 */
export async function startHerald(config: Config, options: StartHeraldOptions = {}): Promise<RunningHerald> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const sqliteFile = config.databaseUrl.startsWith('sqlite:') && !config.databaseUrl.endsWith(':memory:');
  // Only SQLite keeps files there (the database, and the key that seals its endpoint secrets); a
  // generated admin token was already stored by loadConfig. PostgreSQL with a set admin token
  // needs no data directory, so a read-only working directory is fine.
  if (sqliteFile) createDataDir(config.dataDir);
  // The embedded default seals endpoint secrets with a key file of its own when none is configured.
  const keyFromFile = !config.encryptionKey && sqliteFile ? readEncryptionKeyFile(config.dataDir) : null;
  // No key anywhere yet: a new one, stored only once the database is known to hold no secret
  // sealed with another key. A start refused for that writes no key file.
  const newKey = !config.encryptionKey && sqliteFile && !keyFromFile ? generateEncryptionKey() : null;
  const encryptionKey = config.encryptionKey ?? keyFromFile ?? newKey;
  const previousEncryptionKeys = config.previousEncryptionKeys;
  // A dispatcher that finds the endpoint secrets sealed with a key it lacks (another process
  // started with a new key) makes /readyz answer 503 until they open again. Its store reports
  // each sealed secret it opens: the thread's (below), or this one when the dispatcher runs here,
  // from the dispatcher's start on (a start whose key does not open them is refused instead).
  const secretKey = createSecretKeyReadiness(logger);
  // As the dispatcher thread does: a refusal among secrets that open is not this process's key.
  const secretKeyChange = onSecretKeyChange(secretKey.report);
  let dispatcherStarted = false;
  const dispatcherOnMainThread = config.role !== 'api' && !useDispatcherThread(config);
  let unknownMigrations: string[] = [];
  // One serving process per SQLite file: a second one would take the first one's claims in flight
  // (the dispatcher's start, below). Taken once the file exists and before it is migrated, so that
  // a path that cannot be used is named as the store names it, and a start refused because another
  // process (an older version, in an upgrade) serves the file leaves its schema alone.
  const serving: { lock: ServingLock | null } = { lock: null };
  // SQLite's modules (node:sqlite) load only for a SQLite database.
  const servingLocks = sqliteFile ? await import('./store/sqlite/serving-lock.ts') : null;
  const store = await openStore(config.databaseUrl, {
    dataDir: config.dataDir,
    ...(servingLocks
      ? {
          beforeOpen: (file: string) => {
            serving.lock = servingLocks.takeServingLock(file);
          },
        }
      : {}),
    encryptionKey,
    previousEncryptionKeys,
    // Before any migration: a start refused for its key leaves an older schema (a restored
    // backup) as it was, for the version it came from with the right key. No migration has
    // changed how secrets are stored, so they are read as any older schema holds them.
    secretsBeforeMigrations: true,
    firstInProcess: true,
    ...(dispatcherOnMainThread
      ? {
          onSealedSecretOpen: (opened: boolean) => {
            if (dispatcherStarted) secretKeyChange(opened);
          },
        }
      : {}),
    laterWrites: laterWriteLog(logger),
    onMigrationWait: (line) => logger.warn(`schema: ${line}`),
    // Before each: the API (and /healthz) answers once every migration is applied.
    onMigrationApplying: (file) => logger.info({ migration: file }, `schema: applying migration ${file}`),
    onMigrated: (result) => {
      unknownMigrations = result.unknown;
      logMigrations(logger, result, config);
    },
  }).catch((error: unknown) => {
    serving.lock?.release();
    if (isSecretKeyMismatch(error)) {
      throw explainStartKeyMismatch(error, config, newKey ? 'generated' : keyFromFile ? 'file' : 'set');
    }
    throw explainDatabaseError(error, config.databaseUrl);
  });
  const servingLock = serving.lock;
  if (unknownMigrations.length > 0 && !config.allowNewerSchema) {
    await store.close();
    servingLock?.release();
    throw newerSchemaError(unknownMigrations, config);
  }
  warnFilesOpenToOthers(
    logger,
    sqliteFile ? resolvePath(config.databaseUrl.slice('sqlite:'.length)) : null,
    config.dataDir,
  );
  const roleWarning = config.databaseUrl.startsWith('sqlite:') ? roleOnSqliteWarning(config.role) : null;
  if (roleWarning) logger.warn({ role: config.role }, roleWarning);
  if (newKey) {
    try {
      await storeNewEncryptionKey(store, newKey, config);
    } catch (error) {
      await store.close();
      servingLock?.release();
      throw error;
    }
  }

  let sender: Sender | null = null;
  let dispatcher: Dispatcher | null = null;
  let unsubscribeDue: (() => void) | null = null;
  let app: FastifyInstance | null = null;
  let jobs: BackgroundJobs = { purger: null, forwarder: null }; // retention, operator webhook
  let clockCheck: ClockCheck | null = null; // PostgreSQL: this clock against the database's
  let schemaWatch: SchemaWatch | null = null; // a newer version migrating the database meanwhile
  const shutDown = async (graceMs: number, delayMs: number): Promise<void> => {
    // Order matters: no new requests, then let deliveries finish and record, then the store.
    const step = async (what: string, run: () => Promise<void>) => {
      await run().catch((error: unknown) => logger.error({ err: error }, `shutdown: ${what} failed`));
    };
    if (app) {
      const current = app;
      current.setStopping();
      if (delayMs > 0) {
        // The load balancer's probe sees /readyz 503 and stops sending here; until then requests
        // still come, and are answered as before.
        logger.info(
          { delayMs },
          `shutdown: /readyz answers 503; closing the server in ${delayMs} ms (HERALD_SHUTDOWN_DELAY_MS)`,
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      // Bounded: requests still coming in after the grace (a client sending slowly) are cut.
      await step('closing the HTTP server', () =>
        closeWithin(current, graceMs, () =>
          logger.warn(
            { graceMs },
            `shutdown: requests still in progress ${graceMs} ms after the stop began (a body still being received, or an answer not yet sent) are cut: their clients see the connection close without an answer`,
          ),
        ),
      );
    }
    unsubscribeDue?.();
    if (dispatcher) await step('stopping the dispatcher', () => dispatcher!.stop({ graceMs }));
    for (const job of [jobs.forwarder, jobs.purger])
      if (job) await step('stopping a background job', () => job.stop());
    clockCheck?.stop();
    schemaWatch?.stop();
    if (sender) await step('closing connections', () => sender!.close());
    await step('closing the store', () => store.close());
    servingLock?.release(); // last: the store's connections (the dispatcher thread's too) are closed
  };

  try {
    // Secrets stored before a key was set, or sealed with a key being rotated out, move to the
    // current key. A secret no configured key opens (none configured at all, with PostgreSQL)
    // stops the start here, with the reason: a process that cannot sign would claim and fail
    // every delivery while looking healthy.
    const resealed = await store.resealSecrets().catch((error: unknown) => {
      throw keyFromFile ? explainKeyFileMismatch(error, config) : explainSetKeyMismatch(error, config);
    });
    if (resealed) logger.info({ resealed }, 'endpoint secrets sealed again with the current encryption key');
    // Only the embedded SQLite default makes a key of its own (sqlite::memory: keeps nothing on
    // disk). Said once the secrets stored are known to be unsealed too: a database holding sealed
    // ones refuses the start just above, and the warning then sent the operator the wrong way.
    if (config.databaseUrl.startsWith('postgres') && !config.encryptionKey)
      logger.warn(UNSEALED_SECRETS_WARNING);
    const metrics = createMetrics({
      store,
      onCollectError: backlogReadLog(logger),
      threadHeap: async () => (await dispatcher?.threadHeap?.()) ?? null,
      ...(config.role === 'api'
        ? {}
        : {
            deliveryBytesInFlight: () => dispatcher?.bytesInFlight?.() ?? null,
            dispatcherLoad: () => dispatcher?.load?.() ?? null,
            // The dispatcher thread's own loop, else this thread's (the in-process dispatcher's sender).
            dispatcherHeldMs: () => dispatcher?.heldMs?.() ?? sender?.heldMs() ?? null,
          }),
    });
    schemaWatch = startSchemaWatch({
      read: () => store.unknownMigrations(),
      atStart: unknownMigrations,
      allowNewerSchema: config.allowNewerSchema,
      log: logger,
      ...(options.schemaCheckIntervalMs === undefined ? {} : { intervalMs: options.schemaCheckIntervalMs }),
    });
    addSchemaGauge(metrics.registry, schemaWatch);
    if (store.databaseNow) {
      clockCheck = startClockCheck({ databaseNow: () => store.databaseNow!(), log: logger });
      addClockOffsetGauge(metrics.registry, clockCheck);
    }
    if (config.role !== 'api') {
      const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
      const { delivery, maxSockets } = fitToOpenFileLimit(config, logger);
      if (delivery.proxy) {
        logger.info(
          {
            proxy: delivery.proxy.url,
            bypass: [...delivery.proxy.bypass.names, ...delivery.proxy.bypass.networks],
          },
          `delivery: every connection to a receiver is tunnelled through the proxy ${delivery.proxy.url} (CONNECT)`,
        );
      }
      const hooks = {
        onAttempt: (attempt: { outcome: DeliveryOutcome; durationMs: number }) =>
          metrics.recordAttempt(attempt.outcome, attempt.durationMs),
        onClaim: (claim: { durationMs: number; claimed: number }) =>
          metrics.recordClaim(claim.durationMs, claim.claimed),
        onEndpointDisabled: (disabled: { projectId: string; endpointId: string; reason: string }) => {
          metrics.recordEndpointDisabled(disabled.reason);
          logger.warn(disabled, endpointDisabledLine(disabled.reason, config.delivery.failureThreshold));
          jobs.forwarder?.wake();
        },
      };
      // Each branch loads what it runs: the dispatcher and its sender (undici) are the thread's
      // modules when it has one, not this thread's too.
      if (useDispatcherThread(config)) {
        // Its own store connection and sender; this thread wakes it when work is accepted here.
        const { createThreadedDispatcher } = await import('./delivery/threaded-dispatcher.ts');
        const threaded = createThreadedDispatcher({
          handoff: store.capabilities.leaseOnAccept,
          init: {
            databaseUrl: config.databaseUrl,
            dataDir: config.dataDir,
            encryptionKey,
            previousEncryptionKeys,
            logLevel: config.logLevel,
            workerId,
            delivery,
            ...(maxSockets === null ? {} : { maxSockets }),
          },
          hooks,
          onSecretKey: secretKey.report,
          onThreadExit: (error) => {
            logger.fatal({ err: error }, 'dispatcher thread ended unexpectedly; stopping');
            // A failure: the process stops gracefully but exits 1, so that a supervisor's restart
            // on failure (systemd Restart=on-failure, Docker's on-failure) starts it again.
            process.exitCode = 1;
            process.kill(process.pid, 'SIGTERM');
          },
        });
        dispatcher = threaded;
        unsubscribeDue = store.subscribeDue(() => threaded.wake());
      } else {
        const { createSender } = await import('./delivery/sender.ts');
        const { senderOptions } = await import('./delivery/sender-options.ts');
        const { blockedAddressLog } = await import('./delivery/blocked-address-log.ts');
        const { createDispatcher } = await import('./delivery/dispatcher.ts');
        const { storeErrorLog } = await import('./delivery/store-error-log.ts');
        sender = createSender({
          ...senderOptions(config.delivery, maxSockets ?? undefined),
          onBlocked: blockedAddressLog(logger),
        });
        dispatcher = createDispatcher({
          store,
          send: sender.send,
          config: delivery,
          workerId,
          hooks: {
            ...hooks,
            onError: storeErrorLog(logger),
          },
        });
      }
    }

    const listening = await listenWithRetry(config, (finalConfig) => {
      // A child of its own, so quieting it around listen() leaves Herald's logger alone.
      app = buildHttpApp(finalConfig, store, logger.child({}), metrics, dispatcher, secretKey.notReady);
      return app;
    });
    const url = defaultPublicUrl(config.host, listening.port);

    dispatcherStarted = true;
    if (dispatcher) await dispatcher.start();
    jobs = await startBackgroundJobs(config, store, logger);
    listening.app.setReady(true);
    readyLogger(logger).info(
      { url, listen: `${config.host}:${listening.port}`, role: config.role },
      `herald ready on ${url} (role ${config.role}, ${redactDatabaseUrl(config.databaseUrl)})`,
    );

    let closing: Promise<void> | null = null;
    return {
      url,
      close(closeOptions = {}) {
        closing ??= shutDown(closeOptions.graceMs ?? DEFAULT_GRACE_MS, config.shutdownDelayMs);
        return closing;
      },
    };
  } catch (error) {
    await shutDown(0, 0);
    throw error;
  }
}

/** Owner-only: it holds the database (endpoint secrets) and the generated keys. */
function createDataDir(dataDir: string): void {
  try {
    makeDirectory(dataDir, 0o700);
  } catch (cause) {
    throw new ConfigError(
      'HERALD_DATA_DIR',
      `cannot create the data directory ${dataDir}, where the SQLite database and its encryption key are kept; set HERALD_DATA_DIR (or --data-dir) to a writable directory`,
      { cause },
    );
  }
}

/**
 * The dispatcher gets a thread of its own unless turned off, or the database lives in this
 * connection's memory (`sqlite::memory:` cannot be opened a second time).
 */
function useDispatcherThread(config: Config): boolean {
  return config.delivery.thread && !config.databaseUrl.endsWith(':memory:');
}

/** The full API, or for a worker only what an orchestrator probes. */
function buildHttpApp(
  config: Config,
  store: Store,
  logger: Logger,
  metrics: Metrics,
  dispatcher: Dispatcher | null,
  notReady: () => string | null,
): FastifyInstance {
  if (config.role !== 'worker') {
    return buildApp({ store, config, logger, metrics, notReady, ...(dispatcher ? { dispatcher } : {}) });
  }
  return buildWorkerApp(config, store, logger, metrics, notReady);
}

/**
 * One line per migration the start applied (an operator sees when the schema changed), and, when
 * HERALD_ALLOW_NEWER_SCHEMA lets this version start on a database with migrations it does not know
 * (a newer Herald applied them), a warning that it runs on a schema it was not written for.
 */
function logMigrations(logger: Logger, { applied, unknown }: MigrationResult, config: Config): void {
  for (const name of applied) logger.info({ migration: name }, `schema: applied migration ${name}`);
  if (unknown.length > 0 && config.allowNewerSchema) {
    logger.warn(
      { unknownMigrations: unknown },
      `schema: the database has ${unknown.length} migration(s) this version of Herald does not know (a newer version applied them); starting anyway because HERALD_ALLOW_NEWER_SCHEMA is set. Downgrades are not supported: run the newer version`,
    );
  }
}
