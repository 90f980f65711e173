/**
 * The operator webhook (HERALD_OPERATOR_WEBHOOK_URL) is an ordinary endpoint in a project of
 * Herald's own, uid `herald-operator`: operational events are accepted into it as events, so they
 * are signed (Standard Webhooks), retried, kept in history and visible in the API and dashboard
 * like any other webhook. This file creates that project and endpoint at start and keeps the
 * endpoint's URL and secret in line with the configuration.
 */
import type { OperatorWebhookConfig } from '../config/config-types.ts';
import { generateSecret } from '../domain/secret.ts';
import type { Endpoint, OperationalEventType } from '../domain/types.ts';
import { type Store, StoreConflictError } from '../store/store.ts';

/** Reserved: the project Herald keeps its operational events in. */
export const OPERATOR_PROJECT_UID = 'herald-operator';
/** Name of the endpoint Herald manages from HERALD_OPERATOR_WEBHOOK_URL (others in the project are left alone). */
export const OPERATOR_ENDPOINT_NAME = 'HERALD_OPERATOR_WEBHOOK_URL';
export const OPERATIONAL_EVENT_TYPES: OperationalEventType[] = [
  'endpoint.disabled',
  'endpoint.recovered',
  'delivery.exhausted',
];

export interface OperatorLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface OperatorTarget {
  projectId: string;
  endpointId: string;
}

/**
 * Finds or creates the operator project and its managed endpoint; updates the URL and (when one
 * is configured) the secret if they changed. Several processes starting at once may each create an
 * endpoint: all but the oldest are deleted again, by whichever process sees them.
 */
export async function ensureOperatorEndpoint(
  store: Store,
  webhook: OperatorWebhookConfig,
  options: { timeoutMs: number; now: number; log?: OperatorLog },
): Promise<OperatorTarget> {
  const { now, log } = options;
  let project = await store.getProject(OPERATOR_PROJECT_UID);
  if (!project) {
    try {
      project = await store.createProject({ name: 'Herald operator', uid: OPERATOR_PROJECT_UID }, now);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      project = await store.getProject(OPERATOR_PROJECT_UID);
      if (!project) throw error;
    }
  }
  const projectId = project.id;
  const managed = (await allEndpoints(store, projectId))
    .filter((e) => e.name === OPERATOR_ENDPOINT_NAME)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  let endpoint = managed[0];
  for (const extra of managed.slice(1)) await store.deleteEndpoint(projectId, extra.id);
  if (!endpoint) {
    endpoint = await store.createEndpoint(
      {
        projectId,
        url: webhook.url,
        name: OPERATOR_ENDPOINT_NAME,
        description: 'Operational events of this Herald installation (managed from its configuration)',
        eventTypes: [...OPERATIONAL_EVENT_TYPES],
        method: 'POST',
        headers: {},
        dev: false,
        timeoutMs: options.timeoutMs,
        envelope: 'standard',
        signature: { scheme: 'standard' },
        rateLimit: null,
        retrySchedule: null,
        active: true,
      },
      webhook.secret ?? generateSecret(),
      now,
    );
    log?.info(
      { projectId, endpointId: endpoint.id, url: webhook.url },
      webhook.secret
        ? 'operator webhook: endpoint created'
        : `operator webhook: endpoint created with a generated secret; read it with GET /api/v1/projects/${OPERATOR_PROJECT_UID}/endpoints/${endpoint.id}/secret (admin token)`,
    );
    return { projectId, endpointId: endpoint.id };
  }
  if (endpoint.url !== webhook.url) {
    await store.updateEndpoint(projectId, endpoint.id, { url: webhook.url }, now);
    log?.info({ projectId, endpointId: endpoint.id, url: webhook.url }, 'operator webhook: URL updated');
  }
  if (webhook.secret) {
    const [current] = await store.getEndpointSecrets(projectId, endpoint.id, now);
    if (current?.secret !== webhook.secret) {
      await store.rotateEndpointSecret(projectId, endpoint.id, webhook.secret, 0, now);
      log?.info(
        { projectId, endpointId: endpoint.id },
        'operator webhook: secret replaced by the configured one',
      );
    }
  }
  if (endpoint.status === 'disabled') {
    log?.warn(
      { projectId, endpointId: endpoint.id, reason: endpoint.disabledReason },
      `operator webhook: its endpoint is disabled, operational events are stored but not sent; enable it with POST /api/v1/projects/${OPERATOR_PROJECT_UID}/endpoints/${endpoint.id}/enable`,
    );
  }
  return { projectId, endpointId: endpoint.id };
}

async function allEndpoints(store: Store, projectId: string): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listEndpoints(projectId, { limit: 100, cursor });
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}
