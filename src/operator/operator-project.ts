/**
 * The operator webhook (HERALD_OPERATOR_WEBHOOK_URL) is an ordinary endpoint in a project of
 * Herald's own, uid `herald-operator`: operational events are accepted into it as events, so they
 * are signed (Standard Webhooks), retried, kept in history and visible in the API and dashboard
 * like any other webhook. This file creates that project and endpoint at start and keeps the
 * endpoint's URL and secret in line with the configuration.
 */
import type { OperatorWebhookConfig } from '../config/config-types.ts';
import { counted } from '../domain/counted.ts';
import { DEFAULT_ROTATION_GRACE_SECONDS, generateSecret, sameSecret } from '../domain/secret.ts';
import type { Endpoint, OperationalEventType } from '../domain/types.ts';
import { type Store, StoreConflictError } from '../store/store.ts';
import { urlOrigin } from './url-origin.ts';

/** Reserved: the project Herald keeps its operational events in. */
export const OPERATOR_PROJECT_UID = 'herald-operator';
/** Name of the endpoint Herald manages from HERALD_OPERATOR_WEBHOOK_URL (others in the project are left alone). */
export const OPERATOR_ENDPOINT_NAME = 'HERALD_OPERATOR_WEBHOOK_URL';
/** The managed endpoint's description while its URL is configured. */
export const OPERATOR_ENDPOINT_DESCRIPTION =
  'Operational events of this Herald installation (managed from its configuration)';

/**
 * Its description once Herald disabled it because HERALD_OPERATOR_WEBHOOK_URL was unset: says why
 * (the store's disabledReason is `manual` for any disable that is not the dispatcher's), and marks
 * it for enabling again when the URL is set, which an endpoint disabled for another reason is not.
 */
export const OPERATOR_ENDPOINT_UNSET_DESCRIPTION =
  'Disabled by Herald: HERALD_OPERATOR_WEBHOOK_URL is unset, so operational events are not forwarded; set it again to resume';
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
 * endpoint: each looks again after creating one, and all but the oldest are deleted.
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
  let endpoint = await keepOldest(store, projectId);
  if (!endpoint) {
    endpoint = await store.createEndpoint(
      {
        projectId,
        url: webhook.url,
        name: OPERATOR_ENDPOINT_NAME,
        description: OPERATOR_ENDPOINT_DESCRIPTION,
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
    // Another process starting at the same time may have created one too between our look and our
    // create: each would then forward every operational event, signed with a secret of its own.
    // The oldest stays; the process that looks last sees them all and deletes the others.
    const kept = await keepOldest(store, projectId);
    if (kept && kept.id !== endpoint.id) return { projectId, endpointId: kept.id };
    log?.info(
      { projectId, endpointId: endpoint.id, url: urlOrigin(webhook.url) },
      webhook.secret
        ? 'operator webhook: endpoint created'
        : `operator webhook: endpoint created with a generated secret; read it with GET /api/v1/projects/${OPERATOR_PROJECT_UID}/endpoints/${endpoint.id}/secret (admin token)`,
    );
    return { projectId, endpointId: endpoint.id };
  }
  if (endpoint.url !== webhook.url) {
    endpoint = (await store.updateEndpoint(projectId, endpoint.id, { url: webhook.url }, now)) ?? endpoint;
    log?.info(
      { projectId, endpointId: endpoint.id, url: urlOrigin(webhook.url) },
      'operator webhook: URL updated',
    );
    // Disabled by its own deliveries' failures (or a 410) at the old URL: a new URL is the
    // operator's answer to that, so it is tried again, its parked deliveries with it. One a person
    // disabled stays disabled.
    if (endpoint.status === 'disabled' && endpoint.disabledReason !== 'manual') {
      const since = new Date(endpoint.disabledAt ?? now).toISOString();
      const enabled = await store.enableEndpoint(projectId, endpoint.id, now);
      if (enabled) {
        log?.info(
          { projectId, endpointId: endpoint.id, resumed: enabled.resumed, reason: endpoint.disabledReason },
          `operator webhook: its endpoint, disabled by failures at the old URL, is enabled for the new one (${counted(enabled.resumed, 'parked deliveries')} resumed); send the operational events recorded while it was disabled with POST /api/v1/projects/${OPERATOR_PROJECT_UID}/endpoints/${endpoint.id}/replay {"since": "${since}"}`,
        );
        endpoint = enabled.endpoint;
      }
    }
  }
  if (webhook.secret) {
    const [current] = await store.getEndpointSecrets(projectId, endpoint.id, now);
    if (!current || !sameSecret('standard', current.secret, webhook.secret)) {
      // The one it replaces stays valid for a day, as an API rotation's does: every operational
      // event meanwhile carries both signatures, so the receiver can move to the new secret after
      // this start instead of at its very moment. After a leak, retire the old one at once with
      // POST …/secret/rotate {"secret": <the configured one>, "graceSeconds": 0} before restarting.
      await store.rotateEndpointSecret(
        projectId,
        endpoint.id,
        webhook.secret,
        DEFAULT_ROTATION_GRACE_SECONDS * 1000,
        now,
      );
      log?.info(
        { projectId, endpointId: endpoint.id },
        'operator webhook: the configured secret is now current; the one before stays valid for 24 h',
      );
    }
  }
  if (endpoint.description === OPERATOR_ENDPOINT_UNSET_DESCRIPTION) {
    // Disabled by retireOperatorEndpoint, not by failures or a person: the URL is back, so is it.
    endpoint =
      (await store.updateEndpoint(
        projectId,
        endpoint.id,
        { description: OPERATOR_ENDPOINT_DESCRIPTION, active: true },
        now,
      )) ?? endpoint;
    log?.info(
      { projectId, endpointId: endpoint.id, url: urlOrigin(webhook.url) },
      'operator webhook: HERALD_OPERATOR_WEBHOOK_URL is set again; its endpoint is enabled and operational events are forwarded',
    );
  }
  if (endpoint.status === 'disabled') {
    // The forwarder goes on meanwhile: the events it accepts get no delivery to a disabled
    // endpoint, and enabling it sends only the parked ones. The replay gives it the others.
    const since = new Date(endpoint.disabledAt ?? now).toISOString();
    const path = `/api/v1/projects/${OPERATOR_PROJECT_UID}/endpoints/${endpoint.id}`;
    log?.warn(
      { projectId, endpointId: endpoint.id, reason: endpoint.disabledReason, disabledAt: since },
      `operator webhook: its endpoint is disabled, operational events are stored but not sent; enable it with POST ${path}/enable, then send those recorded while it was disabled with POST ${path}/replay {"since": "${since}"}`,
    );
  }
  return { projectId, endpointId: endpoint.id };
}

/**
 * At a start without HERALD_OPERATOR_WEBHOOK_URL: an operator endpoint that is still active is
 * disabled (its pending deliveries parked, its URL and secret kept) with a description saying why,
 * and one info line says that operational events are no longer forwarded, so the setting's removal
 * shows in the API and dashboard instead of an endpoint that looks active and gets nothing.
 * Setting the URL again enables it (ensureOperatorEndpoint). Nothing when there is none.
 */
export async function retireOperatorEndpoint(
  store: Store,
  options: { now: number; log?: OperatorLog },
): Promise<void> {
  const project = await store.getProject(OPERATOR_PROJECT_UID);
  if (!project) return;
  const active = (await managedEndpoints(store, project.id)).filter((e) => e.status === 'active');
  for (const endpoint of active) {
    await store.updateEndpoint(
      project.id,
      endpoint.id,
      { active: false, description: OPERATOR_ENDPOINT_UNSET_DESCRIPTION },
      options.now,
    );
  }
  if (active[0]) {
    options.log?.info(
      { projectId: project.id, endpointId: active[0].id, url: urlOrigin(active[0].url) },
      'operator webhook: HERALD_OPERATOR_WEBHOOK_URL is unset, so operational events are no longer forwarded; its endpoint is disabled (set the URL again to resume)',
    );
  }
}

/** Deletes all but the oldest of the endpoints Herald manages in the operator project; returns it. */
async function keepOldest(store: Store, projectId: string): Promise<Endpoint | undefined> {
  const [oldest, ...extra] = await managedEndpoints(store, projectId);
  for (const e of extra) await store.deleteEndpoint(projectId, e.id, Date.now());
  return oldest;
}

/** The endpoints Herald manages in the operator project, oldest first. */
async function managedEndpoints(store: Store, projectId: string): Promise<Endpoint[]> {
  return (await allEndpoints(store, projectId))
    .filter((e) => e.name === OPERATOR_ENDPOINT_NAME)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
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
