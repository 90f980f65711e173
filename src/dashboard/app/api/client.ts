/**
 * The dashboard's only way to the server: HTTP API v1 with a bearer token (the admin token, or a
 * portal token limited to one project). Errors come back as ApiError with the server's code and message.
 */
import { ApiError, toApiError } from './api-error.ts';
import { type Capped, readCapped } from './capped-list.ts';
import { deliverySettingsOf, parseJson, secretsOf } from './read-answers.ts';
import type {
  ApiKey,
  ApiKeyScope,
  Attempt,
  CreatedApiKey,
  DeliverySettings,
  DeliverySummary,
  Endpoint,
  EndpointDeliveriesPage,
  EndpointInput,
  EventSummary,
  EventType,
  HeraldEvent,
  OperationalEvent,
  Page,
  PortalLink,
  Project,
  ProjectInput,
  SigningSecret,
  StatsBucket,
  WaitingCounts,
  WaitingStatus,
} from './types.ts';

export type Query = Record<string, string | number | undefined | null>;

/** Bucket sizes …/stats accepts. */
export type StatsBucketSize = '1m' | '5m' | '15m' | '1h' | '6h' | '1d';

export interface AttemptFilter {
  status?: 'succeeded' | 'failed' | '';
  eventType?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string | null;
}

/** How many endpoints listEndpoints reads at most per call (pages of 100). */
export const ENDPOINTS_CAP = 2000;
/** How many event types listEventTypes reads at most (pages of 200). */
export const EVENT_TYPES_CAP = 5000;
/** How many of an event's deliveries its page shows at first, and reads on each "Show more". */
export const EVENT_DELIVERIES_PAGE = 100;
/** How many of an endpoint's waiting deliveries its overview shows at first, and reads on each "Show more". */
export const WAITING_PAGE = 20;
/**
 * How many pages of the endpoint's operational events (`?endpoint`) listEndpointStatusChanges reads
 * at most per call: each looks through the project's next 10,000 operational events at most (the API
 * has no index for the filter) and holds up to 1,000 of the endpoint's, its delivery.exhausted among
 * them, which the card does not show.
 */
const STATUS_CHANGES_PAGES = 5;
/** listEndpointStatusChanges stops once it has found this many. */
const STATUS_CHANGES_WANT = 20;
/** The most items one page of the API holds (`?limit`). */
const MAX_PAGE = 1000;

/** Typed calls of the API; every method rejects with ApiError. */
export interface HeraldClient {
  listProjects(cursor?: string | null): Promise<Page<Project>>;
  createProject(input: { name: string; uid?: string }): Promise<Project>;
  getProject(project: string): Promise<Project>;
  /** PATCH of the project (`uid` and `backlogLimit`: the admin token only). */
  updateProject(project: string, input: ProjectInput): Promise<Project>;
  /** A key of `scope` (the API's default, `full`, when not given). */
  createApiKey(project: string, name: string, scope?: ApiKeyScope): Promise<CreatedApiKey>;
  /** Every key of the project (one answer, not paginated), without key material. */
  listApiKeys(project: string): Promise<ApiKey[]>;
  /** Revokes the key at once, and the portal links it created. */
  deleteApiKey(project: string, key: string): Promise<void>;
  createPortalLink(project: string, expiresIn: number): Promise<PortalLink>;
  /** Revokes every portal link of the project issued until now, whoever created it. */
  revokePortalLinks(project: string): Promise<void>;

  /** The installation's delivery settings; null when the answer does not hold them. */
  getDeliverySettings(): Promise<DeliverySettings | null>;

  /** The catalog, up to EVENT_TYPES_CAP types, from `cursor` when given. */
  listEventTypes(cursor?: string | null): Promise<Capped<EventType>>;
  /** The catalog's type of that name, or null when it has none. */
  getEventType(name: string): Promise<EventType | null>;
  putEventType(name: string, input: Partial<Omit<EventType, 'name'>>): Promise<EventType>;

  /** Up to ENDPOINTS_CAP endpoints, from `cursor` when given (the nextCursor of the call before). */
  listEndpoints(project: string, cursor?: string | null): Promise<Capped<Endpoint>>;
  getEndpoint(project: string, endpoint: string): Promise<Endpoint>;
  createEndpoint(project: string, input: EndpointInput): Promise<Endpoint>;
  updateEndpoint(project: string, endpoint: string, input: Partial<EndpointInput>): Promise<Endpoint>;
  deleteEndpoint(project: string, endpoint: string): Promise<void>;
  /** The endpoint as enabled, and how many of its parked deliveries the enable made due. */
  enableEndpoint(project: string, endpoint: string): Promise<Endpoint & { resumed: number }>;
  /** The secrets valid now, current first. */
  getSecrets(project: string, endpoint: string): Promise<SigningSecret[]>;
  /** Rotates to `secret` when given (the receiver already accepts it), else to a generated one. */
  rotateSecret(
    project: string,
    endpoint: string,
    graceSeconds: number,
    secret?: string,
  ): Promise<SigningSecret[]>;
  sendTest(project: string, endpoint: string, eventType?: string): Promise<{ eventId: string }>;
  recover(
    project: string,
    endpoint: string,
    since: string,
    until?: string,
  ): Promise<{ recovered: number; nextSince: string | null }>;
  replay(
    project: string,
    endpoint: string,
    since: string,
  ): Promise<{ replayed: number; nextSince: string | null }>;
  listAttempts(project: string, endpoint: string, filter: AttemptFilter): Promise<Page<Attempt>>;
  getAttempt(project: string, attempt: string): Promise<Attempt>;
  stats(
    project: string,
    endpoint: string,
    query: { since: string; until: string; bucket: StatsBucketSize },
  ): Promise<StatsBucket[]>;
  /**
   * What waits for the endpoint in the order it is due: WAITING_PAGE of its pending or parked
   * deliveries, from `cursor` when given; the first page (no cursor) also counts both states.
   */
  listEndpointDeliveries(
    project: string,
    endpoint: string,
    status: WaitingStatus,
    cursor?: string | null,
  ): Promise<EndpointDeliveriesPage>;
  /** How many of the endpoint's deliveries are pending and parked (the first page's counts, of one row). */
  endpointBacklog(project: string, endpoint: string): Promise<WaitingCounts>;
  /**
   * The endpoint's `endpoint.disabled` and `endpoint.recovered` operational events, newest first:
   * those among the next STATUS_CHANGES_PAGES pages of its operational events from `cursor` (its
   * newest when not given), or fewer once STATUS_CHANGES_WANT are found; `nextCursor` goes on from there.
   */
  listEndpointStatusChanges(
    project: string,
    endpoint: string,
    cursor?: string | null,
  ): Promise<Capped<OperationalEvent>>;
  /** One delivery's state, as its event lists it, without the event's other deliveries. */
  getDelivery(project: string, delivery: string): Promise<DeliverySummary>;
  retryDelivery(project: string, delivery: string): Promise<void>;

  listEvents(
    project: string,
    query: { type?: string; since?: string; until?: string; key?: string; cursor?: string | null },
  ): Promise<Page<HeraldEvent>>;
  /**
   * The event alone (`?deliveries=false`): screens read its deliveries a page at a time, and an
   * event that fanned out to 10,000 endpoints is ~3 MB with them.
   */
  getEvent(project: string, event: string): Promise<EventSummary>;
  /**
   * The event's deliveries in id order (as getEvent lists them): the first `upTo` of them
   * (EVENT_DELIVERIES_PAGE by default), or EVENT_DELIVERIES_PAGE from `cursor`.
   */
  listEventDeliveries(
    project: string,
    event: string,
    from?: { upTo?: number; cursor?: string | null },
  ): Promise<Capped<DeliverySummary>>;
  /** The event's attempts, newest first: a page of up to 100, from `cursor` when given. */
  listEventAttempts(project: string, event: string, cursor?: string | null): Promise<Capped<Attempt>>;
}

/**
 * A client sending `token`. `onUnauthorized` runs on any 401 (expired portal link, wrong admin
 * token) so the app can go back to its sign-in screen.
 */
export function createClient(token: string, onUnauthorized: (error: ApiError) => void): HeraldClient {
  async function call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const url = `/api/v1${path}${toQueryString(query)}`;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(
        0,
        'NETWORK',
        'The server could not be reached. Check your connection and try again.',
      );
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) {
      const error = toApiError(response.status, parsed, text);
      if (response.status === 401) onUnauthorized(error);
      throw error;
    }
    return parsed as T;
  }

  const p = (project: string) => `/projects/${encodeURIComponent(project)}`;
  const ep = (project: string, endpoint: string) => `${p(project)}/endpoints/${encodeURIComponent(endpoint)}`;

  return {
    listProjects: (cursor) => call('GET', '/projects', undefined, { limit: 100, cursor }),
    createProject: (input) => call('POST', '/projects', input),
    getProject: (project) => call('GET', p(project)),
    updateProject: (project, input) => call('PATCH', p(project), input),
    createApiKey: (project, name, scope) =>
      call('POST', `${p(project)}/api-keys`, scope ? { name, scope } : { name }),
    listApiKeys: async (project) => (await call<Page<ApiKey>>('GET', `${p(project)}/api-keys`)).data,
    deleteApiKey: async (project, key) => {
      await call('DELETE', `${p(project)}/api-keys/${encodeURIComponent(key)}`);
    },
    createPortalLink: (project, expiresIn) => call('POST', `${p(project)}/portal-links`, { expiresIn }),
    revokePortalLinks: async (project) => {
      await call('DELETE', `${p(project)}/portal-links`);
    },

    getDeliverySettings: async () => deliverySettingsOf(await call('GET', '/installation')),

    listEventTypes: (cursor) =>
      readCapped<EventType>(
        (at) => call('GET', '/event-types', undefined, { limit: 200, cursor: at }),
        EVENT_TYPES_CAP,
        cursor ?? null,
      ),
    getEventType: async (name) => {
      try {
        return await call<EventType>('GET', `/event-types/${encodeURIComponent(name)}`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
    putEventType: (name, input) => call('PUT', `/event-types/${encodeURIComponent(name)}`, input),

    listEndpoints: (project, cursor) =>
      readCapped<Endpoint>(
        (at) => call('GET', `${p(project)}/endpoints`, undefined, { limit: 100, cursor: at }),
        ENDPOINTS_CAP,
        cursor ?? null,
      ),
    getEndpoint: (project, endpoint) => call('GET', ep(project, endpoint)),
    createEndpoint: (project, input) => call('POST', `${p(project)}/endpoints`, input),
    updateEndpoint: (project, endpoint, input) => call('PATCH', ep(project, endpoint), input),
    deleteEndpoint: async (project, endpoint) => {
      await call('DELETE', ep(project, endpoint));
    },
    enableEndpoint: (project, endpoint) => call('POST', `${ep(project, endpoint)}/enable`, {}),
    getSecrets: async (project, endpoint) => secretsOf(await call('GET', `${ep(project, endpoint)}/secret`)),
    rotateSecret: async (project, endpoint, graceSeconds, secret) =>
      secretsOf(
        await call(
          'POST',
          `${ep(project, endpoint)}/secret/rotate`,
          secret === undefined ? { graceSeconds } : { graceSeconds, secret },
        ),
      ),
    sendTest: (project, endpoint, eventType) =>
      call('POST', `${ep(project, endpoint)}/test`, eventType ? { eventType } : {}),
    recover: (project, endpoint, since, until) =>
      call('POST', `${ep(project, endpoint)}/recover`, until ? { since, until } : { since }),
    replay: (project, endpoint, since) => call('POST', `${ep(project, endpoint)}/replay`, { since }),
    listAttempts: (project, endpoint, filter) =>
      call('GET', `${ep(project, endpoint)}/attempts`, undefined, {
        status: filter.status || undefined,
        eventType: filter.eventType || undefined,
        since: filter.since || undefined,
        until: filter.until || undefined,
        limit: filter.limit ?? 50,
        cursor: filter.cursor,
      }),
    getAttempt: (project, attempt) => call('GET', `${p(project)}/attempts/${encodeURIComponent(attempt)}`),
    stats: async (project, endpoint, query) => {
      const result = await call<StatsBucket[] | { data: StatsBucket[] }>(
        'GET',
        `${ep(project, endpoint)}/stats`,
        undefined,
        query,
      );
      return Array.isArray(result) ? result : result.data;
    },
    listEndpointDeliveries: (project, endpoint, status, cursor) =>
      call('GET', `${ep(project, endpoint)}/deliveries`, undefined, { status, limit: WAITING_PAGE, cursor }),
    endpointBacklog: async (project, endpoint) => {
      const page: EndpointDeliveriesPage = await call(
        'GET',
        `${ep(project, endpoint)}/deliveries`,
        undefined,
        {
          limit: 1,
        },
      );
      // A first page always counts (the API's contract); a missing one would be a broken server.
      if (!page.counts) throw new Error('the API answered no counts for a first page');
      return page.counts;
    },
    listEndpointStatusChanges: async (project, endpoint, cursor) => {
      const data: OperationalEvent[] = [];
      let next = cursor ?? null;
      let pages = 0;
      do {
        // The endpoint's only (both kinds, and its delivery.exhausted, left out below).
        const page = await call<Page<OperationalEvent>>(
          'GET',
          `${p(project)}/operational-events`,
          undefined,
          {
            endpoint,
            limit: MAX_PAGE,
            cursor: next,
          },
        );
        pages++;
        data.push(...page.data.filter(isStatusChange));
        next = page.nextCursor ?? null;
      } while (next !== null && pages < STATUS_CHANGES_PAGES && data.length < STATUS_CHANGES_WANT);
      return { data, nextCursor: next };
    },
    getDelivery: (project, delivery) =>
      call('GET', `${p(project)}/deliveries/${encodeURIComponent(delivery)}`),
    retryDelivery: async (project, delivery) => {
      await call('POST', `${p(project)}/deliveries/${encodeURIComponent(delivery)}/retry`, {});
    },

    listEvents: (project, query) =>
      call('GET', `${p(project)}/events`, undefined, {
        type: query.type || undefined,
        since: query.since || undefined,
        until: query.until || undefined,
        idempotencyKey: query.key || undefined,
        cursor: query.cursor,
        limit: 25,
      }),
    getEvent: (project, event) =>
      call('GET', `${p(project)}/events/${encodeURIComponent(event)}`, undefined, { deliveries: 'false' }),
    listEventDeliveries: async (project, event, from = {}) => {
      // Exactly `upTo`: a page re-reading what it shows reads those and no more.
      const want = from.upTo ?? EVENT_DELIVERIES_PAGE;
      const data: DeliverySummary[] = [];
      let cursor = from.cursor ?? null;
      do {
        const page = await call<Page<DeliverySummary>>(
          'GET',
          `${p(project)}/events/${encodeURIComponent(event)}/deliveries`,
          undefined,
          { limit: Math.min(MAX_PAGE, want - data.length), cursor },
        );
        data.push(...page.data);
        cursor = page.nextCursor ?? null;
      } while (cursor !== null && data.length < want);
      return { data, nextCursor: cursor };
    },
    listEventAttempts: async (project, event, cursor) => {
      const result = await call<Attempt[] | Page<Attempt>>(
        'GET',
        `${p(project)}/events/${encodeURIComponent(event)}/attempts`,
        undefined,
        { limit: 100, cursor },
      );
      return Array.isArray(result)
        ? { data: result, nextCursor: null }
        : { data: result.data, nextCursor: result.nextCursor ?? null };
    },
  };
}

/** An `endpoint.disabled` or `endpoint.recovered` (not a `delivery.exhausted`). */
function isStatusChange(op: OperationalEvent): boolean {
  return op.type === 'endpoint.disabled' || op.type === 'endpoint.recovered';
}

function toQueryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
