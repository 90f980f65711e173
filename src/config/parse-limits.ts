/**
 * Settings of issue 7 (limits, retention, operational events): HERALD_API_RATE_LIMIT,
 * HERALD_PROJECT_BACKLOG_LIMIT, HERALD_RETENTION_DAYS, HERALD_OPERATOR_WEBHOOK_URL and
 * HERALD_OPERATOR_WEBHOOK_SECRET.
 */
import { parseCidr, refusedLiteralHost } from '../domain/address-classifier.ts';
import { checkHttpUrl, withoutPathOrCredentials } from '../domain/http-url.ts';
import { secretProblem } from '../domain/secret.ts';
import { ConfigError } from './config-error.ts';
import type { ApiRateLimitConfig, OperatorWebhookConfig } from './config-types.ts';
import type { RawSetting } from './parse-setting.ts';

/**
 * Requests per credential per minute when HERALD_API_RATE_LIMIT is unset: 10,000/s, above what one
 * process serves (~3,000-4,000 single-event requests/s on 2 cores), so a platform's backend posting
 * events one by one from a single credential is never slowed by the default; operators sharing a
 * process between many clients set a lower one.
 */
export const DEFAULT_API_RATE_LIMIT: ApiRateLimitConfig = { max: 600_000, windowMs: 60_000 };
/**
 * Pending deliveries per project when HERALD_PROJECT_BACKLOG_LIMIT is unset: a bound against a
 * backlog that grows until the disk is full (accepts outpace deliveries ~10 to 1 here), far above
 * any burst a healthy installation drains (10,000,000 deliveries take ~20 min at 8,000/s).
 */
export const DEFAULT_PROJECT_BACKLOG_LIMIT = 10_000_000;
/**
 * Deliveries one event request may create when HERALD_MAX_DELIVERIES_PER_REQUEST is unset. A
 * request's fan-out is written in one transaction and answered in one response: measured at ~300
 * bytes of the API process's memory per delivery until the answer is sent and ~7 µs of SQLite's
 * write lock per delivery row, 100,000 is ~30 MB and ~0.7 s, while 10,000,000 (1,000 events to
 * 10,000 endpoints) was ~3 GB and ~70 s of every tenant's writes stalled. It still takes a full
 * batch (1,000 events) to 100 endpoints each, or one event to 100,000 endpoints.
 */
export const DEFAULT_MAX_DELIVERIES_PER_REQUEST = 100_000;
/** The most HERALD_MAX_DELIVERIES_PER_REQUEST may be: ~3 GB and ~70 s of SQLite's write lock (see above). */
export const MAX_MAX_DELIVERIES_PER_REQUEST = 10_000_000;
/** Events, attempts and operational events are kept this long when HERALD_RETENTION_DAYS is unset. */
export const DEFAULT_RETENTION_DAYS = 30;
const MAX_RETENTION_DAYS = 36_500;

const UNITS: Record<string, number> = {
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/**
 * `N` (requests per minute), or `N/s`, `N/min`, `N/h`; `0` turns the limit off (null). The count
 * is per credential (or client address) and per process.
 */
export function parseApiRateLimit(setting: RawSetting): ApiRateLimitConfig | null {
  const m = /^(\d+)\s*(?:\/\s*([a-z]+))?$/i.exec(setting.value);
  const windowMs = m ? (m[2] === undefined ? 60_000 : UNITS[m[2].toLowerCase()]) : undefined;
  if (!m || windowMs === undefined) {
    throw new ConfigError(
      setting.source,
      `expected requests per minute (e.g. 6000), or N/s, N/min, N/h; 0 turns it off; got "${setting.value}"`,
    );
  }
  const max = Number(m[1]);
  if (!Number.isSafeInteger(max) || max > 1_000_000_000) {
    throw new ConfigError(setting.source, `must be at most 1000000000, got ${m[1]}`);
  }
  return max === 0 ? null : { max, windowMs };
}

/** Whole days; 0 keeps everything forever. */
export function parseRetentionDays(setting: RawSetting): number {
  if (!/^\d+$/.test(setting.value) || Number(setting.value) > MAX_RETENTION_DAYS) {
    throw new ConfigError(
      setting.source,
      `expected whole days from 0 (keep forever) to ${MAX_RETENTION_DAYS}, got "${setting.value}"`,
    );
  }
  return Number(setting.value);
}

/**
 * HERALD_OPERATOR_WEBHOOK_URL (an absolute http(s) URL that `allowNetworks` lets deliveries reach
 * when its host is an address) and its optional secret (Standard Webhooks `whsec_…`; when unset,
 * Herald generates one on the first start and keeps it in the database).
 */
export function parseOperatorWebhook(
  url: RawSetting | null,
  secret: RawSetting | null,
  allowNetworks: readonly string[],
): OperatorWebhookConfig | null {
  if (!url) {
    if (secret) throw new ConfigError(secret.source, 'is set but HERALD_OPERATOR_WEBHOOK_URL is not');
    return null;
  }
  const checked = checkHttpUrl(url.value);
  // Quoted up to its host: its path and query may be its credential (a chat service's token).
  if ('problem' in checked)
    throw new ConfigError(url.source, `${checked.problem}, got "${withoutPathOrCredentials(url.value)}"`);
  const parsed = checked.url;
  // Delivered like any webhook, so under the same address rules: refused here rather than at every event.
  const refused = refusedLiteralHost(parsed.hostname, allowNetworks.map(parseCidr));
  if (refused) {
    throw new ConfigError(
      url.source,
      `${refused}, which deliveries may not reach unless HERALD_ALLOW_NETWORKS includes it`,
    );
  }
  if (secret) {
    const problem = secretProblem('standard', secret.value);
    // The message never repeats the value: it is a secret.
    if (problem) throw new ConfigError(secret.source, `${problem} (e.g. whsec_ + 32 random bytes in base64)`);
  }
  return { url: parsed.href, secret: secret?.value ?? null };
}
