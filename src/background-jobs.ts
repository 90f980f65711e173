/**
 * The background jobs of a process that delivers (role `worker` or `all`): retention
 * (HERALD_RETENTION_DAYS; its first round HERALD_RETENTION_START_DELAY_MS after the start), the
 * operator webhook (HERALD_OPERATOR_WEBHOOK_URL), and once at start a look for endpoints whose
 * stored settings the API now refuses (endpoint-settings-audit.ts). In
 * every role, once at start, what endpoint and project deletes cut short by a stop left
 * (endpoint-deletes-at-start.ts, project-deletes-at-start.ts). Started by
 * src/main.ts once the dispatcher runs, stopped before the store closes.
 */
import type { Config } from './config/config-types.ts';
import type { Logger } from './logger.ts';
import { finishEndpointDeletesAtStart } from './operator/endpoint-deletes-at-start.ts';
import { auditEndpointSettingsAtStart } from './operator/endpoint-settings-audit.ts';
import { createForwarder, type Forwarder } from './operator/forwarder.ts';
import { ensureOperatorEndpoint, retireOperatorEndpoint } from './operator/operator-project.ts';
import { finishProjectDeletesAtStart } from './operator/project-deletes-at-start.ts';
import { createPurger, type Purger } from './retention/purger.ts';
import type { Store } from './store/store.ts';

const DAY_MS = 24 * 3_600_000;

export interface BackgroundJobs {
  purger: Purger | null;
  forwarder: Forwarder | null;
}

export async function startBackgroundJobs(
  config: Config,
  store: Store,
  logger: Logger,
): Promise<BackgroundJobs> {
  const jobs: BackgroundJobs = { purger: null, forwarder: null };
  // Not awaited, and in every role: an API process serves the deletes a stop may have cut short.
  void finishEndpointDeletesAtStart(store, logger);
  void finishProjectDeletesAtStart(store, logger);
  if (config.role === 'api') return jobs;
  if (config.operatorWebhook) {
    const target = await ensureOperatorEndpoint(store, config.operatorWebhook, {
      timeoutMs: config.delivery.defaultTimeoutMs,
      now: Date.now(),
      log: logger,
    });
    jobs.forwarder = createForwarder({ store, operatorProjectId: target.projectId, log: logger });
    jobs.forwarder.start();
  } else {
    await retireOperatorEndpoint(store, { now: Date.now(), log: logger });
  }
  // Not awaited: a start does not wait for a look through every endpoint.
  void auditEndpointSettingsAtStart(store, logger);
  if (config.retentionDays > 0) {
    jobs.purger = createPurger({
      store,
      retentionMs: config.retentionDays * DAY_MS,
      firstRunMs: config.retentionStartDelayMs,
      log: logger,
    });
    jobs.purger.start();
  }
  return jobs;
}
