import { isIPv4, isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { parseCidrList } from '../domain/address-classifier.ts';
import { checkHttpUrl } from '../domain/http-url.ts';
import { MIN_ADMIN_TOKEN_LENGTH, resolveAdminToken } from './admin-token.ts';
import { ConfigError } from './config-error.ts';
import { type Config, DEFAULT_DELIVERY, type DeliveryConfig } from './config-types.ts';
import { deepFreeze } from './deep-freeze.ts';
import { parseAllowNetworks } from './parse-allow-networks.ts';
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
  parseChoice,
  parseInteger,
  parseList,
  parseNumber,
  pickSetting,
  type RawSetting,
} from './parse-setting.ts';
import { parseTlsCaFile } from './parse-tls-ca-file.ts';

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
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const ROLES = ['api', 'worker', 'all'] as const;

/** HERALD_MAX_BODY_BYTES_IN_FLIGHT holds at least this many of the largest bodies (a caller's share is a quarter). */
const BODIES_PER_CALLER_SHARE = 4;

/** A lease must outlive the longest attempt plus the time to record it, or a live worker loses its claims. */
const LEASE_MARGIN_MS = 5_000;

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
    ? parseInteger(maxBodySetting, 1024, 256 * 1024 * 1024)
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

  const delivery = loadDeliveryConfig(
    envSetting,
    setting('--allow-networks', flags.allowNetworks, 'HERALD_ALLOW_NETWORKS'),
    role,
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
  const operatorWebhook = parseOperatorWebhook(
    envSetting('HERALD_OPERATOR_WEBHOOK_URL'),
    envSetting('HERALD_OPERATOR_WEBHOOK_SECRET'),
    delivery.allowNetworks,
  );

  const newerSchemaSetting = envSetting('HERALD_ALLOW_NEWER_SCHEMA');
  const allowNewerSchema = newerSchemaSetting ? parseBoolean(newerSchemaSetting) : false;

  let adminToken = '';
  let adminTokenGenerated = false;
  const tokenSetting = envSetting('HERALD_ADMIN_TOKEN');
  if (tokenSetting) {
    adminToken = parseAdminToken(tokenSetting);
  } else if (options.resolveAdminToken ?? true) {
    const resolved = resolveAdminToken(dataDir);
    adminToken = resolved.token;
    adminTokenGenerated = resolved.generated;
  }

  const config: Config = {
    port,
    host,
    databaseUrl,
    dataDir,
    adminToken,
    adminTokenGenerated,
    encryptionKey,
    previousEncryptionKeys,
    logLevel,
    role,
    maxBodyBytes,
    maxBodyBytesInFlight,
    headersTimeoutMs,
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
    operatorWebhook,
    allowNewerSchema,
  };
  return deepFreeze(config);
}

function loadDeliveryConfig(
  envSetting: (name: string) => RawSetting | null,
  allowNetworksSetting: RawSetting | null,
  role: Config['role'],
): DeliveryConfig {
  const d = DEFAULT_DELIVERY;
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const s = envSetting(name);
    return s ? parseInteger(s, min, max) : fallback;
  };

  const maxTimeoutMs = int('HERALD_DELIVERY_MAX_TIMEOUT_MS', d.maxTimeoutMs, 1_000, 300_000);
  // The default may not exceed the maximum: an endpoint that sets no timeoutMs would be answered
  // with one it could not set, while its attempts were cut at the maximum. Unset, it follows a
  // maximum below the built-in 5 s; set above the maximum, the start fails naming it.
  const timeoutSetting = envSetting('HERALD_DELIVERY_TIMEOUT_MS');
  const defaultTimeoutMs = timeoutSetting
    ? parseDefaultTimeout(timeoutSetting, maxTimeoutMs)
    : Math.min(d.defaultTimeoutMs, maxTimeoutMs);
  const concurrency = int('HERALD_DELIVERY_CONCURRENCY', d.concurrency, 1, 100_000);
  const perEndpointConcurrency = int(
    'HERALD_ENDPOINT_CONCURRENCY',
    Math.min(d.perEndpointConcurrency, concurrency),
    1,
    concurrency,
  );
  const perProjectConcurrency = int(
    'HERALD_PROJECT_CONCURRENCY',
    Math.max(perEndpointConcurrency, Math.min(d.perProjectConcurrency, Math.ceil((concurrency * 3) / 4))),
    perEndpointConcurrency,
    concurrency,
  );
  const minLeaseMs = maxTimeoutMs + LEASE_MARGIN_MS;
  const leaseMs = int('HERALD_LEASE_MS', Math.max(d.leaseMs, 2 * maxTimeoutMs), minLeaseMs, 24 * 3_600_000);

  const jitterSetting = envSetting('HERALD_RETRY_JITTER');
  const scheduleSetting = envSetting('HERALD_RETRY_SCHEDULE');
  const tlsCaSetting = envSetting('HERALD_TLS_CA_FILE');
  const threadSetting = envSetting('HERALD_DELIVERY_THREAD');

  return {
    defaultTimeoutMs,
    maxTimeoutMs,
    retrySchedule: scheduleSetting ? parseRetrySchedule(scheduleSetting) : [...d.retrySchedule],
    retryJitter: jitterSetting ? parseNumber(jitterSetting, 0, 0.5) : d.retryJitter,
    failureThreshold: int('HERALD_FAILURE_THRESHOLD', d.failureThreshold, 1, 1_000_000),
    concurrency,
    perEndpointConcurrency,
    perProjectConcurrency,
    claimBatch: int('HERALD_CLAIM_BATCH', d.claimBatch, 1, 10_000),
    leaseMs,
    pollIntervalMs: int('HERALD_POLL_INTERVAL_MS', d.pollIntervalMs, 10, 60_000),
    maxResponseBytes: d.maxResponseBytes, // fixed by DESIGN: the first 64 KiB are kept
    allowNetworks: allowNetworksSetting ? parseAllowNetworks(allowNetworksSetting) : [...d.allowNetworks],
    // Not an operator setting: the request builder sets User-Agent itself (src/domain/build-request.ts).
    userAgent: d.userAgent,
    tlsCa: tlsCaSetting ? parseTlsCaFile(tlsCaSetting) : d.tlsCa,
    // A worker-only process has no API for the thread to take work from: there the dispatcher
    // runs on the main thread unless told otherwise, which saves an isolate (its heap and its
    // copy of the code): a worker draining 250,000 pending peaked at 203-213 MiB against 231-241.
    thread: threadSetting ? parseBoolean(threadSetting) : d.thread && role !== 'worker',
  };
}

/** HERALD_DELIVERY_TIMEOUT_MS: 100 ms up to HERALD_DELIVERY_MAX_TIMEOUT_MS, which is named when exceeded. */
function parseDefaultTimeout(setting: RawSetting, maxTimeoutMs: number): number {
  if (/^\d+$/.test(setting.value) && Number(setting.value) > maxTimeoutMs) {
    throw new ConfigError(
      setting.source,
      `must be at most HERALD_DELIVERY_MAX_TIMEOUT_MS (${maxTimeoutMs}), got ${setting.value}`,
    );
  }
  return parseInteger(setting, 100, maxTimeoutMs);
}

/**
 * Whether npm started this process (`npx herald`, `npm exec`, `npm run`; npm sets
 * `npm_lifecycle_event` for what it runs). npm runs the bin through `sh -c`, which does not pass
 * SIGTERM on: `herald serve` then watches for npm going away (src/cli/commands/serve.ts).
 */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.npm_lifecycle_event);
}

/** `true`/`false` (also 1/0, yes/no, on/off). */
export function parseBoolean(setting: RawSetting): boolean {
  const value = setting.value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(setting.source, 'expected true or false');
}

/** Same limits as a project's or endpoint's `retrySchedule` over the API (src/api/schemas.ts). */
const MAX_SCHEDULE_STEPS = 20;
/** Largest single delay: one week, in seconds. */
const MAX_SCHEDULE_DELAY_S = 7 * 24 * 3_600;

/** Seconds between attempts (each from the attempt before), comma-separated, fractions allowed; `none` for no retries. */
export function parseRetrySchedule(setting: RawSetting): number[] {
  if (setting.value.toLowerCase() === 'none') return [];
  const items = parseList(setting);
  if (items.length === 0 || items.length > MAX_SCHEDULE_STEPS) {
    throw new ConfigError(setting.source, `expected 1 to ${MAX_SCHEDULE_STEPS} delays in seconds, or "none"`);
  }
  return items.map((item) => {
    const delay = Number(item);
    if (!Number.isFinite(delay)) throw new ConfigError(setting.source, `expected a number, got "${item}"`);
    if (delay <= 0 || delay > MAX_SCHEDULE_DELAY_S) {
      throw new ConfigError(
        setting.source,
        `delays must be greater than 0 and at most ${MAX_SCHEDULE_DELAY_S} seconds (one week), got ${item}`,
      );
    }
    return delay;
  });
}

function parseHost(setting: RawSetting): string {
  const value = setting.value;
  // Hostnames and IP literals only: a scheme, port or path here is a common mix-up with the public URL.
  if (!/^[A-Za-z0-9.:_-]+$/.test(value) || value.includes('//')) {
    throw new ConfigError(setting.source, `expected a host name or IP address, got "${value}"`);
  }
  // What only the listen would refuse otherwise, after the data directory, the migrations and a
  // generated admin token: digits and dots are meant as an IPv4 address (`999.1.1.1` was looked up
  // as a name), and a colon only belongs in an IPv6 address (`localhost:8080` carries a port).
  if (/^[0-9.]+$/.test(value) && !isIPv4(value)) {
    throw new ConfigError(
      setting.source,
      `"${value}" is not an IPv4 address: four numbers from 0 to 255 separated by dots, e.g. 127.0.0.1 or 0.0.0.0`,
    );
  }
  if (value.includes(':') && !isIPv6(value)) {
    throw new ConfigError(
      setting.source,
      /^[^:]+:\d+$/.test(value)
        ? `expected a host name or IP address without a port, got "${value}": the port goes in HERALD_PORT (--port)`
        : `"${value}" is not an IPv6 address (write it without brackets, e.g. ::1 or ::)`,
    );
  }
  return value;
}

function parseDatabaseUrl(setting: RawSetting): string {
  const value = setting.value;
  if (/^sqlite:.+/.test(value)) return value;
  if (/^postgres(ql)?:\/\/.+/.test(value)) {
    try {
      new URL(value);
    } catch (cause) {
      throw new ConfigError(setting.source, 'is not a valid postgres:// URL', { cause });
    }
    return value;
  }
  throw new ConfigError(setting.source, 'expected sqlite:PATH or postgres://USER:PASSWORD@HOST/DATABASE');
}

function parseAdminToken(setting: RawSetting): string {
  if (setting.value.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(setting.value)) {
    throw new ConfigError(
      setting.source,
      `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces (try: openssl rand -base64 32)`,
    );
  }
  return setting.value;
}

function parsePublicUrl(setting: RawSetting): string {
  const checked = checkHttpUrl(setting.value);
  if ('problem' in checked)
    throw new ConfigError(setting.source, `${checked.problem}, got "${setting.value}"`);
  const { url } = checked;
  // Herald serves its dashboard (/ui), the assets the built pages name (/ui/assets/…) and its API
  // (/api/v1) at fixed root paths, and the pages call the API there: behind a proxy that adds a
  // path (https://example.com/herald/ → Herald's /), every page came out blank. Refused at start
  // rather than handing out portal links that cannot work; a host of its own can.
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(
      setting.source,
      `must be the root of a host, without a path, query or fragment (Herald must be served at the root of its host: its dashboard is at /ui and its API at /api/v1), got "${setting.value}"; give Herald a host of its own, e.g. https://hooks.example.com`,
    );
  }
  return url.origin;
}

/** http://host:port as a browser on this machine would reach it (wildcard binds become loopback). */
export function defaultPublicUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${hostPart}:${port}`;
}

/** HERALD_FRAME_ANCESTORS: comma-separated CSP sources ("'self'", https://app.example.com). */
function parseFrameAncestors(setting: RawSetting): string[] {
  const items = parseList(setting);
  for (const item of items) {
    if (!/^('self'|'none'|https?:\/\/[A-Za-z0-9.*:-]+|[A-Za-z0-9.*-]+(:\d+)?)$/.test(item)) {
      throw new ConfigError(
        setting.source,
        `"${item}" is not a CSP source such as 'self' or https://app.example.com`,
      );
    }
  }
  return items;
}

/** HERALD_TRUST_PROXY: the proxies' networks, comma-separated CIDRs (a bare address is one host). */
function parseTrustProxy(setting: RawSetting): string[] {
  const items = parseList(setting);
  try {
    parseCidrList(items.join(','));
  } catch (cause) {
    throw new ConfigError(setting.source, (cause as Error).message, { cause });
  }
  return items;
}
