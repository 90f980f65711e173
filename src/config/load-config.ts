import { resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parseAdminToken, resolveAdminToken } from './admin-token.ts';
import { ConfigError } from './config-error.ts';
import type { Config } from './config-types.ts';
import { deepFreeze } from './deep-freeze.ts';
import { loadDeliveryConfig } from './load-delivery-config.ts';
import { MAX_BODY_BYTES_LIMIT } from './max-body-bytes-limit.ts';
import {
  defaultPublicUrl,
  parseDatabaseUrl,
  parseFrameAncestors,
  parseHost,
  parsePublicUrl,
  parseTrustProxy,
} from './parse-addresses.ts';
import { parseEncryptionKey } from './parse-encryption-key.ts';
import {
  DEFAULT_API_RATE_LIMIT,
  DEFAULT_MAX_DELIVERIES_PER_REQUEST,
  DEFAULT_PROJECT_BACKLOG_LIMIT,
  DEFAULT_RETENTION_DAYS,
  MAX_MAX_DELIVERIES_PER_REQUEST,
  parseApiRateLimit,
  parseOperatorWebhook,
  parseRetentionDays,
} from './parse-limits.ts';
import {
  parseBoolean,
  parseChoice,
  parseInteger,
  parseList,
  pickSetting,
  type RawSetting,
} from './parse-setting.ts';

/** Command-line flags that override environment variables (commander hands them over as strings). */
export interface ConfigFlags {
  port?: string;
  host?: string;
  database?: string;
  dataDir?: string;
  role?: string;
  allowNetworks?: string;
  logLevel?: string;
  publicUrl?: string;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  /** Defaults to `process.env`; tests pass their own. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * `serve` needs an admin token and generates one when unset; `migrate` and `event-types import`
   * do not, and should not leave a token file behind as a side effect. Default true.
   */
  resolveAdminToken?: boolean;
  /** The V8 heap's limit, which bounds the default HERALD_DELIVERY_BYTES_IN_FLIGHT; this process's by default. */
  heapLimitBytes?: number;
}

/** Installation defaults for what is not in DEFAULT_DELIVERY. */
export const DEFAULTS = {
  port: 8080, // DESIGN "Running": :8080
  // Loopback only: a fresh install has a generated admin token printed on the console and should not
  // be reachable from the network until the operator says so (HERALD_HOST=0.0.0.0 in containers).
  host: '127.0.0.1',
  dataDir: './herald-data', // DESIGN "Running": embedded SQLite in ./herald-data
  logLevel: 'info',
  role: 'all',
  maxBodyBytes: 1024 * 1024, // DESIGN: bodies over 1 MiB get 413
  // 64 bodies of 1 MiB at once: ~300 MiB resident at most while they are parsed and stored.
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  maxBatchEvents: 1000, // DESIGN: a batch holds up to 1000 events
  headersTimeoutMs: 10_000, // headers are a few hundred bytes: 10 s is generous even on a bad link
  requestTimeoutMs: 30_000, // a 1 MiB body in 30 s is ~35 KB/s
  shutdownDelayMs: 0, // without a load balancer in front there is nothing to wait for
  schemaCheckWallMs: 10_000, // ten times the check's 1,000 ms of CPU: a tenth of a core at least
  retentionStartDelayMs: 30_000, // a start's own work (catching up a backlog) before a purge
} as const;

export { MAX_BODY_BYTES_LIMIT };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const ROLES = ['api', 'worker', 'all'] as const;

/** HERALD_MAX_BODY_BYTES_IN_FLIGHT holds at least this many of the largest bodies (a caller's share is a quarter). */
const BODIES_PER_CALLER_SHARE = 4;

/**
 * Reads flags and environment once, validates every value (a ConfigError names the offending flag
 * or variable), fills in defaults and returns the frozen configuration. With client-connection.ts
 * (the CLI's HERALD_URL and HERALD_TOKEN, read with the same pickSetting), the only code in Herald
 * that reads `process.env`.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const setting = (flagName: string, flagValue: string | undefined, envName: string): RawSetting | null =>
    pickSetting({ name: flagName, value: flagValue }, { name: envName, value: env[envName] });
  const envSetting = (envName: string): RawSetting | null =>
    pickSetting({ name: envName, value: undefined }, { name: envName, value: env[envName] });

  const portSetting = setting('--port', flags.port, 'HERALD_PORT');
  const port = portSetting ? parseInteger(portSetting, 0, 65_535) : DEFAULTS.port;

  const hostSetting = setting('--host', flags.host, 'HERALD_HOST');
  const host = hostSetting ? parseHost(hostSetting) : DEFAULTS.host;

  const dataDirSetting = setting('--data-dir', flags.dataDir, 'HERALD_DATA_DIR');
  const dataDirAsGiven = dataDirSetting?.value ?? DEFAULTS.dataDir;
  const dataDir = resolve(dataDirAsGiven);

  const databaseSetting = setting('--database', flags.database, 'HERALD_DATABASE_URL');
  // The embedded database follows the data directory unless a URL says otherwise.
  const databaseUrl = databaseSetting
    ? parseDatabaseUrl(databaseSetting)
    : `sqlite:${dataDirAsGiven.replace(/\/+$/, '')}/herald.db`;

  const logLevelSetting = setting('--log-level', flags.logLevel, 'HERALD_LOG_LEVEL');
  const logLevel = logLevelSetting ? parseChoice(logLevelSetting, LOG_LEVELS) : DEFAULTS.logLevel;

  const roleSetting = setting('--role', flags.role, 'HERALD_ROLE');
  const role = roleSetting ? parseChoice(roleSetting, ROLES) : DEFAULTS.role;

  const maxBodySetting = envSetting('HERALD_MAX_BODY_BYTES');
  const maxBodyBytes = maxBodySetting
    ? parseInteger(maxBodySetting, 1024, MAX_BODY_BYTES_LIMIT)
    : DEFAULTS.maxBodyBytes;

  // At least four of the largest bodies: one caller holds at most a quarter (api/body-budget.ts),
  // and must still be able to send one.
  const inFlightSetting = envSetting('HERALD_MAX_BODY_BYTES_IN_FLIGHT');
  const minInFlight = BODIES_PER_CALLER_SHARE * maxBodyBytes;
  const maxBodyBytesInFlight = inFlightSetting
    ? parseInteger(inFlightSetting, minInFlight, 64 * 1024 * 1024 * 1024)
    : Math.max(DEFAULTS.maxBodyBytesInFlight, minInFlight);

  const requestTimeoutSetting = envSetting('HERALD_REQUEST_TIMEOUT_MS');
  const requestTimeoutMs = requestTimeoutSetting
    ? parseInteger(requestTimeoutSetting, 100, 3_600_000)
    : DEFAULTS.requestTimeoutMs;
  const headersTimeoutSetting = envSetting('HERALD_HEADERS_TIMEOUT_MS');
  // Node requires headers to time out no later than the whole request.
  const headersTimeoutMs = headersTimeoutSetting
    ? parseInteger(headersTimeoutSetting, 100, requestTimeoutMs)
    : Math.min(DEFAULTS.headersTimeoutMs, requestTimeoutMs);

  const shutdownDelaySetting = envSetting('HERALD_SHUTDOWN_DELAY_MS');
  const shutdownDelayMs = shutdownDelaySetting
    ? parseInteger(shutdownDelaySetting, 0, 300_000)
    : DEFAULTS.shutdownDelayMs;

  const schemaCheckWallSetting = envSetting('HERALD_SCHEMA_CHECK_WALL_MS');
  // At least the check's own 1,000 ms of CPU time (api/event-type-schema-check.ts): a shorter bound
  // would end every check that uses it as busy, never as too costly.
  const schemaCheckWallMs = schemaCheckWallSetting
    ? parseInteger(schemaCheckWallSetting, 1_000, 600_000)
    : DEFAULTS.schemaCheckWallMs;

  const encryptionKeySetting = envSetting('HERALD_ENCRYPTION_KEY');
  const encryptionKey = encryptionKeySetting ? parseEncryptionKey(encryptionKeySetting) : null;
  const previousKeysSetting = envSetting('HERALD_ENCRYPTION_KEY_PREVIOUS');
  const previousEncryptionKeys = previousKeysSetting
    ? parseList(previousKeysSetting, { secret: true }).map((value) =>
        parseEncryptionKey({ ...previousKeysSetting, value }),
      )
    : [];
  if (previousEncryptionKeys.length && !encryptionKey) {
    throw new ConfigError(
      previousKeysSetting!.source,
      'needs HERALD_ENCRYPTION_KEY, the key the secrets move to',
    );
  }

  const publicUrlSetting = setting('--public-url', flags.publicUrl, 'HERALD_PUBLIC_URL');
  const publicUrl = publicUrlSetting ? parsePublicUrl(publicUrlSetting) : defaultPublicUrl(host, port);

  const frameSetting = envSetting('HERALD_FRAME_ANCESTORS');
  const frameAncestors = frameSetting ? parseFrameAncestors(frameSetting) : ["'self'"];

  const heapLimitBytes = options.heapLimitBytes ?? getHeapStatistics().heap_size_limit;
  const delivery = loadDeliveryConfig(
    envSetting,
    setting('--allow-networks', flags.allowNetworks, 'HERALD_ALLOW_NETWORKS'),
    role,
    maxBodyBytes,
    heapLimitBytes,
  );

  const trustSetting = envSetting('HERALD_TRUST_PROXY');
  const trustProxy = trustSetting ? parseTrustProxy(trustSetting) : [];

  const apiRateSetting = envSetting('HERALD_API_RATE_LIMIT');
  const apiRateLimit = apiRateSetting ? parseApiRateLimit(apiRateSetting) : { ...DEFAULT_API_RATE_LIMIT };
  const backlogSetting = envSetting('HERALD_PROJECT_BACKLOG_LIMIT');
  const backlogLimit = backlogSetting
    ? parseInteger(backlogSetting, 0, 1_000_000_000_000)
    : DEFAULT_PROJECT_BACKLOG_LIMIT;
  // 0 is refused, not "no limit": a request without one is what this bounds (one transaction
  // holding the write lock for a minute, gigabytes for its answer); a large tenant gets a number.
  const maxDeliveriesSetting = envSetting('HERALD_MAX_DELIVERIES_PER_REQUEST');
  const maxDeliveriesPerRequest = maxDeliveriesSetting
    ? parseInteger(maxDeliveriesSetting, 1, MAX_MAX_DELIVERIES_PER_REQUEST)
    : DEFAULT_MAX_DELIVERIES_PER_REQUEST;
  const retentionSetting = envSetting('HERALD_RETENTION_DAYS');
  const retentionDays = retentionSetting ? parseRetentionDays(retentionSetting) : DEFAULT_RETENTION_DAYS;
  const retentionStartDelaySetting = envSetting('HERALD_RETENTION_START_DELAY_MS');
  const retentionStartDelayMs = retentionStartDelaySetting
    ? parseInteger(retentionStartDelaySetting, 0, 3_600_000)
    : DEFAULTS.retentionStartDelayMs;
  const operatorWebhook = parseOperatorWebhook(
    envSetting('HERALD_OPERATOR_WEBHOOK_URL'),
    envSetting('HERALD_OPERATOR_WEBHOOK_SECRET'),
    delivery.allowNetworks,
  );

  const newerSchemaSetting = envSetting('HERALD_ALLOW_NEWER_SCHEMA');
  const allowNewerSchema = newerSchemaSetting ? parseBoolean(newerSchemaSetting) : false;

  let adminToken = '';
  let adminTokenGenerated = false;
  let adminTokenFromFile = false;
  const tokenSetting = envSetting('HERALD_ADMIN_TOKEN');
  if (tokenSetting) {
    adminToken = parseAdminToken(tokenSetting);
  } else if (options.resolveAdminToken ?? true) {
    const resolved = resolveAdminToken(dataDir);
    adminToken = resolved.token;
    adminTokenGenerated = resolved.generated;
    adminTokenFromFile = true;
  }

  const config: Config = {
    port,
    host,
    databaseUrl,
    dataDir,
    databasePlaceGiven: dataDirSetting !== null || databaseSetting !== null,
    adminToken,
    adminTokenGenerated,
    adminTokenFromFile,
    encryptionKey,
    previousEncryptionKeys,
    logLevel,
    role,
    maxBodyBytes,
    maxBodyBytesInFlight,
    heapLimitBytes,
    headersTimeoutMs,
    shutdownDelayMs,
    schemaCheckWallMs,
    requestTimeoutMs,
    maxBatchEvents: DEFAULTS.maxBatchEvents,
    maxDeliveriesPerRequest,
    publicUrl,
    frameAncestors,
    delivery,
    apiRateLimit,
    projectBacklogLimit: backlogLimit === 0 ? null : backlogLimit,
    trustProxy,
    retentionDays,
    retentionStartDelayMs,
    operatorWebhook,
    allowNewerSchema,
  };
  return deepFreeze(config);
}

/**
 * Whether npm started this process (`npx herald`, `npm exec`, `npm run`; npm sets
 * `npm_lifecycle_event` for what it runs). npm runs the bin through `sh -c`, which does not pass
 * SIGTERM on: `herald serve` then watches for npm going away (src/cli/commands/serve-run.ts).
 */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.npm_lifecycle_event);
}
