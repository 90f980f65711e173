/**
 * The delivery settings of HERALD_* variables (timeouts, concurrency caps, lease, retry schedule,
 * networks, TLS CA, proxy, the dispatcher's thread), checked and with their defaults: part of loadConfig.
 */
import { ConfigError } from './config-error.ts';
import { type Config, DEFAULT_DELIVERY, type DeliveryConfig, LEASE_MARGIN_MS } from './config-types.ts';
import { parseAllowNetworks } from './parse-allow-networks.ts';
import { parseProxyBypass } from './parse-proxy-bypass.ts';
import { parseProxyUrl } from './parse-proxy-url.ts';
import { parseBoolean, parseInteger, parseList, parseNumber, type RawSetting } from './parse-setting.ts';
import { parseTlsCaFile } from './parse-tls-ca-file.ts';

/** The largest HERALD_DELIVERY_BYTES_IN_FLIGHT (as HERALD_MAX_BODY_BYTES_IN_FLIGHT's). */
const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024 * 1024;

/**
 * The default HERALD_DELIVERY_BYTES_IN_FLIGHT is at most this share of the V8 heap. An attempt's
 * bytes are counted by its event's payload, but the dispatcher thread's heap holds more than that
 * per attempt (the signed body, and for `sha256-body` and form or query schemes the texts built on
 * the way: 3-6 times the payload). With the 256 MiB default, two 1 MiB events to 40 slow
 * `sha256-body` endpoints (80 attempts, within the project's 192 MiB share) ran the thread out of
 * heap under `--max-old-space-size=128` before a request was sent, and the process stopped;
 * restarted, it would claim the same deliveries and die again. An eighth leaves the default at 256 MiB from a 2 GiB
 * heap up (V8's own limit on a machine with 8 GiB or more).
 */
const HEAP_SHARE_DIVISOR = 8;

/**
 * The default budget: 256 MiB, or an eighth of the heap when that is less (a small
 * `--max-old-space-size`, or V8's limit in a container with little memory), but never below one
 * event (`maxBodyBytes`): such an event goes out alone.
 */
export function defaultBytesInFlight(heapLimitBytes: number, maxBodyBytes: number): number {
  const fits = Math.floor(heapLimitBytes / HEAP_SHARE_DIVISOR);
  return Math.max(maxBodyBytes, Math.min(DEFAULT_DELIVERY.bytesInFlight, fits));
}

/**
 * HERALD_DELIVERY_BYTES_IN_FLIGHT as set: a whole number of bytes, at least HERALD_MAX_BODY_BYTES.
 * Below it, the start is refused naming both: refused as out of range alone ("must be between
 * 8388608 and 68719476736"), it did not say where the lower bound came from.
 */
function parseBytesInFlight(setting: RawSetting, maxBodyBytes: number): number {
  const n = parseInteger(setting, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (n < maxBodyBytes) {
    throw new ConfigError(
      setting.source,
      `must be at least HERALD_MAX_BODY_BYTES (${maxBodyBytes}), the largest event it must hold, got ${setting.value}: a number of bytes (256 MiB is 268435456)`,
    );
  }
  if (n > MAX_BYTES_IN_FLIGHT) {
    throw new ConfigError(
      setting.source,
      `must be at most ${MAX_BYTES_IN_FLIGHT} (64 GiB), got ${setting.value}`,
    );
  }
  return n;
}

/**
 * The delivery settings, from environment variables only (they have no flags). `maxBodyBytes`
 * (HERALD_MAX_BODY_BYTES): the largest event, which the byte budget must hold; `heapLimitBytes`:
 * the V8 heap's limit (the dispatcher thread's isolate has the same), which bounds the default budget.
 */
export function loadDeliveryConfig(
  envSetting: (name: string) => RawSetting | null,
  allowNetworksSetting: RawSetting | null,
  role: Config['role'],
  maxBodyBytes: number,
  heapLimitBytes: number,
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
  // At least the largest event: a budget that cannot hold one event is a unit mistaken (MiB for
  // bytes), not a choice; such an event would go out alone each time. The default holds four of
  // the largest HERALD_MAX_BODY_BYTES allows, and fits the heap (defaultBytesInFlight).
  const bytesSetting = envSetting('HERALD_DELIVERY_BYTES_IN_FLIGHT');
  const bytesInFlight = bytesSetting
    ? parseBytesInFlight(bytesSetting, maxBodyBytes)
    : defaultBytesInFlight(heapLimitBytes, maxBodyBytes);
  const minLeaseMs = maxTimeoutMs + LEASE_MARGIN_MS;
  const leaseMs = int('HERALD_LEASE_MS', Math.max(d.leaseMs, 2 * maxTimeoutMs), minLeaseMs, 24 * 3_600_000);

  const jitterSetting = envSetting('HERALD_RETRY_JITTER');
  const scheduleSetting = envSetting('HERALD_RETRY_SCHEDULE');
  const tlsCaSetting = envSetting('HERALD_TLS_CA_FILE');
  const threadSetting = envSetting('HERALD_DELIVERY_THREAD');
  const proxySetting = envSetting('HERALD_PROXY_URL');
  const bypassSetting = envSetting('HERALD_PROXY_BYPASS');
  if (bypassSetting && !proxySetting) {
    throw new ConfigError(
      bypassSetting.source,
      'only means something with HERALD_PROXY_URL, which is not set',
    );
  }

  return {
    defaultTimeoutMs,
    maxTimeoutMs,
    retrySchedule: scheduleSetting ? parseRetrySchedule(scheduleSetting) : [...d.retrySchedule],
    retryJitter: jitterSetting ? parseNumber(jitterSetting, 0, 0.5) : d.retryJitter,
    failureThreshold: int('HERALD_FAILURE_THRESHOLD', d.failureThreshold, 1, 1_000_000),
    concurrency,
    perEndpointConcurrency,
    perProjectConcurrency,
    bytesInFlight,
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
    proxy: proxySetting
      ? {
          ...parseProxyUrl(proxySetting),
          ...(bypassSetting ? { bypass: parseProxyBypass(bypassSetting) } : {}),
        }
      : d.proxy,
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
