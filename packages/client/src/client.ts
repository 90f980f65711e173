/**
 * A client for Herald's HTTP API v1 (DESIGN.md), on an undici Pool: keep-alive connections to one
 * Herald, JSON in and out, a `HeraldApiError` for every answer that is not 2xx. One client per
 * Herald URL and token; `close()` when done.
 */
import { Pool } from 'undici';
import { withIdempotencyKey } from './auto-idempotency-key.ts';
import {
  type CallOptions,
  DEFAULT_BATCH,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type HeraldClientOptions,
} from './client-options.ts';
import { HeraldEventTooLargeError } from './errors.ts';
import {
  INSTALLATION,
  LIST,
  LIST_BY_NAME,
  NO_CONTENT,
  SECRETS,
  WITH_ID,
  WITH_NAME,
} from './expected-answers.ts';
import { sendEventBatches } from './send-event-batches.ts';
import { type Method, type RequestOptions, sendRequest, type Transport } from './transport.ts';
import type {
  ApiKey,
  ApiKeyScope,
  ApiKeyWithSecret,
  Attempt,
  AttemptQuery,
  DeliveryState,
  Endpoint,
  EndpointDeliveriesPage,
  EndpointDeliveryQuery,
  EndpointInput,
  EndpointSecrets,
  EventDeliveryQuery,
  EventInput,
  EventQuery,
  EventSummary,
  EventType,
  EventTypeInput,
  HeraldEvent,
  Installation,
  JsonInput,
  OperationalEvent,
  OperationalEventQuery,
  Page,
  PageQuery,
  PortalLink,
  Project,
  ProjectInput,
  StatsBucket,
  TestSent,
} from './types.ts';

export class HeraldClient {
  readonly #transport: Transport;
  readonly #batchSize: number;
  readonly #maxBodyBytes: number;
  readonly #autoIdempotencyKeys: boolean;
  /** Calls under way (with their waits between tries): close() lets them finish. */
  readonly #calls = new Set<Promise<unknown>>();

  constructor(options: HeraldClientOptions) {
    // Unset (`process.env.HERALD_URL!`), empty or without its scheme: Node's "Invalid URL" alone
    // did not say which option.
    const url = parseUrl(options.url);
    if (url === null) {
      throw new TypeError(
        `url: expected an absolute http:// or https:// URL (Herald's root), got ${
          options.url === undefined ? 'undefined' : JSON.stringify(options.url)
        }`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`url: expected http:// or https://, got ${url.protocol}`);
    }
    if (!options.token) throw new TypeError('token: required (the admin token or a project API key)');
    this.#transport = {
      pool: new Pool(url.origin, { connections: options.connections ?? 8 }),
      // Herald's address is its root (or a proxy's path prefix): the client adds /api/v1 itself, so a
      // URL copied with it (`…/api/v1`, as the docs write the API's paths) would get 404 on every call.
      base: url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, ''),
      auth: `Bearer ${options.token}`,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retries: options.retries ?? DEFAULT_RETRIES,
      parseJson: options.parseJson ?? JSON.parse,
    };
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#autoIdempotencyKeys = options.autoIdempotencyKeys ?? true;
  }

  /**
   * Closes the connections once the calls under way have finished: a call waiting to send its
   * request again (a 429's or 503's Retry-After) has none in the pool, which would close under it.
   */
  async close(): Promise<void> {
    await Promise.allSettled(this.#calls);
    await this.#transport.pool.close();
  }

  /** `call`, counted among the calls close() waits for until it settles. */
  #track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const settled = () => this.#calls.delete(call);
    call.then(settled, settled);
    return call;
  }

  /**
   * One API call: `path` below `/api/v1` (`/projects/p/events`), or a whole path starting with
   * `/api/`. `repeatable`: the request may be sent again after a network error (default: GET, PUT
   * and DELETE).
   */
  request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return this.#track(sendRequest<T>(this.#transport, method, path, options));
  }

  // ── events ─────────────────────────────────────────────────────────────
  /** Sends one event: stored and fanned out before Herald answers. */
  async sendEvent(
    project: string,
    input: EventInput<JsonInput>,
    call: CallOptions = {},
  ): Promise<HeraldEvent> {
    const event = this.#autoIdempotencyKeys ? withIdempotencyKey(input) : input;
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.#maxBodyBytes) throw new HeraldEventTooLargeError(0, bytes, this.#maxBodyBytes);
    return this.request('POST', `/projects/${seg(project)}/events`, {
      signal: call.signal,
      json,
      repeatable: Boolean(event.idempotencyKey),
      expect: WITH_ID,
    });
  }

  /**
   * Sends many events in batch requests of at most `batchSize` events and `maxBodyBytes` bytes, one
   * request at a time, in order; returns them in input order. A batch refused with 413
   * `HERALD_ERR_TOO_MANY_DELIVERIES` (its events would fan out to more deliveries than Herald takes
   * per request; nothing of it was stored) is sent again as smaller batches, sized from the answer's
   * `limit` and `deliveries`; a single event refused so throws. A batch refused with 413
   * `HERALD_ERR_BODY_TOO_LARGE` (Herald's body limit is below `maxBodyBytes`) is cut again, with the
   * batches after it, to the answer's `limitBytes`. Any other failing batch throws: the
   * batches before it are stored, none after it is sent (give events idempotency keys to send them
   * all again safely). An event larger than `maxBodyBytes` on its own throws
   * HeraldEventTooLargeError (naming its index) before any batch is sent.
   */
  async sendEvents(
    project: string,
    events: readonly EventInput<JsonInput>[],
    call: CallOptions = {},
  ): Promise<HeraldEvent[]> {
    // Tracked as a whole: close() waits for the batches still to send, not only the one being sent.
    return this.#track(
      sendEventBatches(
        this,
        `/projects/${seg(project)}/events/batch`,
        this.#autoIdempotencyKeys ? events.map(withIdempotencyKey) : events,
        this.#batchSize,
        this.#maxBodyBytes,
        call.signal,
      ),
    );
  }

  /** Newest first, without deliveries (`getEvent` has them). */
  listEvents(project: string, query: EventQuery = {}, call: CallOptions = {}): Promise<Page<EventSummary>> {
    return this.request('GET', `/projects/${seg(project)}/events`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }

  getEvent(project: string, event: string, call: CallOptions = {}): Promise<HeraldEvent> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  /** The event as `listEvents` gives it (with `deliveryCount`), without reading its deliveries. */
  getEventWithoutDeliveries(project: string, event: string, call: CallOptions = {}): Promise<EventSummary> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}`, {
      signal: call.signal,
      query: { deliveries: 'false' },
      expect: WITH_ID,
    });
  }

  /**
   * The event's deliveries a page at a time, in the order `getEvent` lists them (by id), optionally
   * in one status: an event may fan out to 100,000 endpoints, which `getEvent` answers at once.
   */
  listEventDeliveries(
    project: string,
    event: string,
    query: EventDeliveryQuery = {},
    call: CallOptions = {},
  ): Promise<Page<DeliveryState>> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}/deliveries`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }

  listEventAttempts(
    project: string,
    event: string,
    query: PageQuery = {},
    call: CallOptions = {},
  ): Promise<Page<Attempt>> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}/attempts`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }

  getAttempt(project: string, attempt: string, call: CallOptions = {}): Promise<Attempt> {
    return this.request('GET', `/projects/${seg(project)}/attempts/${seg(attempt)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  /**
   * One delivery as its event lists it (status, attempts so far, nextAttemptAt, inFlight), without
   * reading the event's other deliveries: poll this, not `getEvent`, to follow one.
   */
  getDelivery(project: string, delivery: string, call: CallOptions = {}): Promise<DeliveryState> {
    return this.request('GET', `/projects/${seg(project)}/deliveries/${seg(delivery)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  /** Makes a delivery due now (also a failed or parked one); answers the delivery. */
  retryDelivery(project: string, delivery: string, call: CallOptions = {}): Promise<DeliveryState> {
    return this.request('POST', `/projects/${seg(project)}/deliveries/${seg(delivery)}/retry`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  // ── projects ───────────────────────────────────────────────────────────
  createProject(input: ProjectInput, call: CallOptions = {}): Promise<Project> {
    return this.request('POST', '/projects', { signal: call.signal, body: input, expect: WITH_ID });
  }
  listProjects(query: PageQuery = {}, call: CallOptions = {}): Promise<Page<Project>> {
    return this.request('GET', '/projects', { signal: call.signal, query: { ...query }, expect: LIST });
  }
  getProject(project: string, call: CallOptions = {}): Promise<Project> {
    return this.request('GET', `/projects/${seg(project)}`, { signal: call.signal, expect: WITH_ID });
  }
  updateProject(project: string, input: Partial<ProjectInput>, call: CallOptions = {}): Promise<Project> {
    return this.request('PATCH', `/projects/${seg(project)}`, {
      signal: call.signal,
      body: input,
      expect: WITH_ID,
    });
  }
  async deleteProject(project: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}`, { signal: call.signal, expect: NO_CONTENT });
  }
  /**
   * A key that sees only this project, and there what `scope` allows (default `full`; `send` for a
   * service that only sends events); `key` is in this answer only (admin token only).
   */
  createApiKey(
    project: string,
    name: string,
    options: { scope?: ApiKeyScope | undefined } = {},
    call: CallOptions = {},
  ): Promise<ApiKeyWithSecret> {
    return this.request('POST', `/projects/${seg(project)}/api-keys`, {
      signal: call.signal,
      body: options.scope === undefined ? { name } : { name, scope: options.scope },
      expect: { object: { id: 'string', key: 'string' } },
    });
  }
  /** The project's keys, without the keys themselves (one page: `nextCursor` is null). */
  listApiKeys(project: string, call: CallOptions = {}): Promise<Page<ApiKey>> {
    return this.request('GET', `/projects/${seg(project)}/api-keys`, { signal: call.signal, expect: LIST });
  }
  /** Revokes a key at once, and the portal links it created. */
  async deleteApiKey(project: string, key: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/api-keys/${seg(key)}`, {
      signal: call.signal,
      expect: NO_CONTENT,
    });
  }

  // ── operational events and portal links ────────────────────────────────
  /**
   * What Herald reported about the project's endpoints (disabled, recovered, exhausted), newest
   * first; `type` narrows it to one kind, `endpoint` to one endpoint's (follow `nextCursor`: such a
   * page may hold fewer than `limit`).
   */
  listOperationalEvents(
    project: string,
    query: OperationalEventQuery = {},
    call: CallOptions = {},
  ): Promise<Page<OperationalEvent>> {
    return this.request('GET', `/projects/${seg(project)}/operational-events`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  /** A signed link to the project's customer portal; `expiresIn` in seconds (default 3600, at most 7 days). */
  createPortalLink(
    project: string,
    options: { expiresIn?: number | undefined } = {},
    call: CallOptions = {},
  ): Promise<PortalLink> {
    return this.request('POST', `/projects/${seg(project)}/portal-links`, {
      signal: call.signal,
      body: options,
      expect: { object: { url: 'string', token: 'string' } },
    });
  }
  /** Revokes every portal link of the project issued until now. */
  async revokePortalLinks(project: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/portal-links`, {
      signal: call.signal,
      expect: NO_CONTENT,
    });
  }

  // ── endpoints ──────────────────────────────────────────────────────────
  /** Registers an endpoint; the answer includes its `secret`. */
  createEndpoint(project: string, input: EndpointInput, call: CallOptions = {}): Promise<Endpoint> {
    return this.request('POST', `/projects/${seg(project)}/endpoints`, {
      signal: call.signal,
      body: input,
      expect: WITH_ID,
    });
  }
  listEndpoints(project: string, query: PageQuery = {}, call: CallOptions = {}): Promise<Page<Endpoint>> {
    return this.request('GET', `/projects/${seg(project)}/endpoints`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  getEndpoint(project: string, endpoint: string, call: CallOptions = {}): Promise<Endpoint> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }
  /** `resumed` is there when `active: true` re-enabled a disabled endpoint (as `enableEndpoint`). */
  updateEndpoint(
    project: string,
    endpoint: string,
    input: Partial<Omit<EndpointInput, 'secret'>>,
    call: CallOptions = {},
  ): Promise<Endpoint & { resumed?: number }> {
    return this.request('PATCH', `/projects/${seg(project)}/endpoints/${seg(endpoint)}`, {
      signal: call.signal,
      body: input,
      expect: WITH_ID,
    });
  }
  async deleteEndpoint(project: string, endpoint: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/endpoints/${seg(endpoint)}`, {
      signal: call.signal,
      expect: NO_CONTENT,
    });
  }
  /** The endpoint with its signing secrets valid now, current first (`secret` is the current one). */
  getEndpointSecret(project: string, endpoint: string, call: CallOptions = {}): Promise<EndpointSecrets> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/secret`, {
      signal: call.signal,
      expect: SECRETS,
    });
  }
  /**
   * A new secret (`secret`: one you chose, e.g. one the receiver already accepts). The old one stays
   * valid for `graceSeconds`: `standard` and `stripe` sign with both meanwhile; `hmac-sha256`,
   * `github`, `sha256-body` and `hmac-sha1-url` sign with the new one only, at once.
   */
  rotateEndpointSecret(
    project: string,
    endpoint: string,
    options: { graceSeconds?: number | undefined; secret?: string | undefined } = {},
    call: CallOptions = {},
  ): Promise<EndpointSecrets> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/secret/rotate`, {
      signal: call.signal,
      body: options,
      expect: SECRETS,
    });
  }
  /** Sends a test event (the type's example payload) to this endpoint only. */
  testEndpoint(
    project: string,
    endpoint: string,
    eventType?: string,
    call: CallOptions = {},
  ): Promise<TestSent> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/test`, {
      signal: call.signal,
      body: eventType ? { eventType } : {},
      expect: { object: { eventId: 'string' } },
    });
  }
  /** Re-enables a disabled endpoint; its parked deliveries become due (`resumed` of them). */
  enableEndpoint(
    project: string,
    endpoint: string,
    call: CallOptions = {},
  ): Promise<Endpoint & { resumed: number }> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/enable`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }
  /**
   * Sends again every failed delivery of the endpoint in the time range, oldest first (`recovered` of
   * them). A request that runs out of time (about 20 s) stops and `nextSince` says where to go on
   * (recover again with it as `since`, same `until`); null when the range is done. A disabled
   * endpoint is refused (409 HERALD_ERR_ENDPOINT_DISABLED): enable it first.
   */
  recoverEndpoint(
    project: string,
    endpoint: string,
    range: { since: string | number; until?: string | number | undefined },
    call: CallOptions = {},
  ): Promise<{ recovered: number; nextSince: string | null }> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/recover`, {
      signal: call.signal,
      body: range,
      expect: { object: { recovered: 'number' } },
    });
  }
  /**
   * Sends the endpoint the events of the time range it has no delivery for (created before it, or
   * before its filter took their type; not test events): `replayed` new deliveries. Past the
   * server's per-request limit, or out of time (about 20 s), it stops and `nextSince` says where to
   * go on (replay again with it as `since`); null when the range is done. A disabled endpoint is refused (409
   * HERALD_ERR_ENDPOINT_DISABLED): enable it first.
   */
  replayEndpoint(
    project: string,
    endpoint: string,
    range: { since: string | number; until?: string | number | undefined },
    call: CallOptions = {},
  ): Promise<{ replayed: number; nextSince: string | null }> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/replay`, {
      signal: call.signal,
      body: range,
      expect: { object: { replayed: 'number' } },
    });
  }
  /** The endpoint's delivery history, newest first. */
  listEndpointAttempts(
    project: string,
    endpoint: string,
    query: AttemptQuery = {},
    call: CallOptions = {},
  ): Promise<Page<Attempt>> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/attempts`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  /**
   * What waits for the endpoint: its pending deliveries (in flight ones included) in the order they
   * are due (`nextAttemptAt`, then id) or, with `status: 'parked'`, those parked while it is
   * disabled (`nextAttemptAt` null) in the order they were due then. The first page (no `cursor`) also has `counts` of both states, each
   * up to `counts.atMost` (a count equal to it means at least that many). Read live: a delivery
   * attempted or parked between two pages moves in the order.
   */
  listEndpointDeliveries(
    project: string,
    endpoint: string,
    query: EndpointDeliveryQuery = {},
    call: CallOptions = {},
  ): Promise<EndpointDeliveriesPage> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/deliveries`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  endpointStats(
    project: string,
    endpoint: string,
    query: {
      since?: string | number | undefined;
      until?: string | number | undefined;
      bucket?: string | undefined;
    } = {},
    call: CallOptions = {},
  ): Promise<{ data: StatsBucket[]; bucketMs: number }> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/stats`, {
      signal: call.signal,
      query,
      expect: { object: { data: 'array', bucketMs: 'number' } },
    });
  }

  // ── event types ────────────────────────────────────────────────────────
  putEventType(name: string, input: EventTypeInput, call: CallOptions = {}): Promise<EventType> {
    return this.request('PUT', `/event-types/${seg(name)}`, {
      signal: call.signal,
      body: input,
      expect: WITH_NAME,
    });
  }
  listEventTypes(query: PageQuery = {}, call: CallOptions = {}): Promise<Page<EventType>> {
    return this.request('GET', '/event-types', {
      signal: call.signal,
      query: { ...query },
      expect: LIST_BY_NAME,
    });
  }
  getEventType(name: string, call: CallOptions = {}): Promise<EventType> {
    return this.request('GET', `/event-types/${seg(name)}`, { signal: call.signal, expect: WITH_NAME });
  }

  // ── installation ───────────────────────────────────────────────────────
  /** This installation's delivery settings: timeout default and maximum, default retry schedule. */
  getInstallation(call: CallOptions = {}): Promise<Installation> {
    return this.request('GET', '/installation', { signal: call.signal, expect: INSTALLATION });
  }
}
const seg = (s: string): string => encodeURIComponent(s);

/**
 * `URL.parse` as Node 20.18 and 22.1 have it (null for what is not a URL), written out: the
 * package runs from Node 20.18.1 (undici's floor), and Node 21 and 22.0 have no `URL.parse`.
 */
function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
