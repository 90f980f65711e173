/** The validated, frozen configuration every part of Herald receives (read once in src/config/). */
import type { ProxyBypass } from '../domain/proxy-bypass.ts';

export interface DeliveryConfig {
  /** Per-attempt timeout when an endpoint sets none (connect + response). */
  defaultTimeoutMs: number;
  /** Largest timeout an endpoint may set. */
  maxTimeoutMs: number;
  /** Delays in seconds between attempts (each from the one before), when neither project nor endpoint sets one. */
  retrySchedule: number[];
  /** ± share of each delay drawn at random (0.2 = ±20 %). */
  retryJitter: number;
  /** Consecutive failed attempts that disable an endpoint. */
  failureThreshold: number;
  /** Attempts in flight at once in this process. */
  concurrency: number;
  /** Attempts in flight at once towards one endpoint from this process. */
  perEndpointConcurrency: number;
  /** Attempts in flight at once for one project's endpoints from this process. */
  perProjectConcurrency: number;
  /**
   * Bytes of request bodies the attempts in flight in this process hold together (each counted by
   * its payload and envelope); an attempt that does not fit waits in its endpoint's queue, and one
   * larger than this goes out alone (delivery/byte-budget.ts).
   */
  bytesInFlight: number;
  /** Deliveries leased per claim. */
  claimBatch: number;
  /** How long a claim is held; longer than the largest timeout, so a live worker finishes within it. */
  leaseMs: number;
  /** Idle poll interval (a wake-up from ingest comes sooner). */
  pollIntervalMs: number;
  /** Response body bytes kept per attempt. */
  maxResponseBytes: number;
  /** CIDRs delivery may reach although private (HERALD_ALLOW_NETWORKS). */
  allowNetworks: string[];
  userAgent: string;
  /** PEM of CA certificates trusted besides the system ones (HERALD_TLS_CA_FILE); null: system only. */
  tlsCa: string | null;
  /** Run the dispatcher on a worker thread of its own (HERALD_DELIVERY_THREAD), so API and delivery use a core each. */
  thread: boolean;
  /** The HTTP proxy every delivery connection is tunnelled through (HERALD_PROXY_URL); null: direct. */
  proxy: DeliveryProxy | null;
}

/** An HTTP forward proxy for deliveries (parse-proxy-url.ts). */
export interface DeliveryProxy {
  /** `http://host:port`, without credentials: what logs may show. */
  url: string;
  /** Hostname or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** `Basic …` from the URL's user and password; null when it has none. */
  authorization: string | null;
  /** Receivers reached directly (HERALD_PROXY_BYPASS); none by default. */
  bypass: ProxyBypass;
}

export interface Config {
  port: number;
  host: string;
  /** `sqlite:PATH` or `postgres://…`. */
  databaseUrl: string;
  /** Directory for the embedded database and key files. */
  dataDir: string;
  /**
   * Whether a flag or the environment said where the database is (--database, HERALD_DATABASE_URL,
   * --data-dir, HERALD_DATA_DIR), rather than the default data directory being taken.
   */
  databasePlaceGiven: boolean;
  adminToken: string;
  /** True when the admin token was generated at this start. */
  adminTokenGenerated: boolean;
  /**
   * True when the admin token is the one kept in the data directory (generated at this start or an
   * earlier one), not HERALD_ADMIN_TOKEN: `serve` shows it once it listens, if no start has yet.
   */
  adminTokenFromFile: boolean;
  encryptionKey: string | null;
  /** HERALD_ENCRYPTION_KEY_PREVIOUS: keys being rotated out (secrets sealed with them are resealed at start). */
  previousEncryptionKeys: string[];
  logLevel: string;
  role: 'api' | 'worker' | 'all';
  /** Largest request body the API accepts (413 above). */
  maxBodyBytes: number;
  /** Bytes of request bodies the API takes in at once; more wait, then 503 (api/body-budget.ts). */
  maxBodyBytesInFlight: number;
  /**
   * This process's V8 heap limit (`--max-old-space-size`, or V8's own from the machine's memory),
   * which bounds what the API holds of answers not read yet (api/answers-in-flight.ts) and the
   * default delivery byte budget.
   */
  heapLimitBytes: number;
  /** Longest a client may take to send a request's headers (slowloris); 408 and closed after. */
  headersTimeoutMs: number;
  /** Longest a client may take to send a whole request, headers and body; 408 and closed after. */
  requestTimeoutMs: number;
  /**
   * HERALD_SHUTDOWN_DELAY_MS: on SIGTERM, how long /readyz answers 503 while everything else goes
   * on as before (new connections taken, requests answered, deliveries sent), so that a load balancer
   * takes the process out of rotation before its port closes. 0: the stop begins at once.
   */
  shutdownDelayMs: number;
  /**
   * HERALD_SCHEMA_CHECK_WALL_MS: how long on the clock an event type's schema check may take before
   * it is ended and answered 503 busy (its limit of 1,000 ms of the child's CPU time is fixed): a
   * machine that gives the check's child less than a tenth of a core does not end it within the
   * default 10 s, though the check needs less than its CPU time.
   */
  schemaCheckWallMs: number;
  /** Largest number of events in one batch request. */
  maxBatchEvents: number;
  /**
   * Deliveries one event request (single or batch) may create, summed over its events' fan-out;
   * more: 413 HERALD_ERR_TOO_MANY_DELIVERIES and nothing stored (HERALD_MAX_DELIVERIES_PER_REQUEST).
   */
  maxDeliveriesPerRequest: number;
  /** Public base URL used in links (portal links); defaults to http://host:port. */
  publicUrl: string;
  /**
   * CSP frame-ancestors sources allowed to embed the customer portal (/ui/portal); the operator's
   * pages allow only 'self' of them. Default only Herald itself.
   */
  frameAncestors: string[];
  delivery: DeliveryConfig;
  /** Requests per API credential (or client address) per window, per process; null = no limit. */
  apiRateLimit: ApiRateLimitConfig | null;
  /**
   * Pending deliveries a project may have before its new events get 429 (api/backlog-gate.ts);
   * null = no limit (HERALD_PROJECT_BACKLOG_LIMIT 0).
   */
  projectBacklogLimit: number | null;
  /**
   * Reverse proxies (CIDRs) whose `X-Forwarded-For` names the client address (rate limits of
   * unauthenticated and refused requests, logs); empty: the connection's address is the client's.
   */
  trustProxy: string[];
  /** Events, attempts and operational events older than this many days are purged; 0 = never. */
  retentionDays: number;
  /** How long after the start the first retention round runs (HERALD_RETENTION_START_DELAY_MS). */
  retentionStartDelayMs: number;
  /** Where operational events are delivered as signed webhooks; null = stored only. */
  operatorWebhook: OperatorWebhookConfig | null;
  /**
   * Start on a database that has migrations this version does not know (a newer Herald applied
   * them) instead of refusing (HERALD_ALLOW_NEWER_SCHEMA): for an old process during a rolling
   * upgrade, at the operator's risk; downgrades are not supported.
   */
  allowNewerSchema: boolean;
}

/** HERALD_API_RATE_LIMIT: at most `max` requests per `windowMs` (fixed window) per key. */
export interface ApiRateLimitConfig {
  max: number;
  windowMs: number;
}

/** HERALD_OPERATOR_WEBHOOK_URL / _SECRET. A null secret: generated once and kept in the database. */
export interface OperatorWebhookConfig {
  url: string;
  secret: string | null;
}

/** Defaults, one line each, with why. */
/**
 * A lease must outlive the longest attempt plus the time to record it, or a live worker loses its
 * claims (HERALD_LEASE_MS is at least the longest timeout plus this); a delivery waiting in its
 * endpoint's queue starts only with this much lease left beyond its timeout (endpoint-queues.ts).
 */
export const LEASE_MARGIN_MS = 5_000;

export const DEFAULT_DELIVERY: DeliveryConfig = {
  defaultTimeoutMs: 5_000, // DESIGN: 5 s per attempt
  maxTimeoutMs: 30_000, // DESIGN: per endpoint up to 30 s
  retrySchedule: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000], // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
  retryJitter: 0.2, // ±20 %
  failureThreshold: 10, // DESIGN: auto-disable after 10 consecutive failures
  concurrency: 1024, // in flight per process: 16 endpoints at their cap; cheap with keep-alive pools
  // One slow endpoint holds at most this many of the process's slots; as many as its origin's pool
  // has connections (sender.ts), so a fast receiver with a backlog is not held to half of them.
  perEndpointConcurrency: 64,
  // One project (one tenant) holds at most three quarters of the process's slots: slow endpoints of
  // one tenant cannot leave the others none (10 endpoints of one project at their cap still fit).
  perProjectConcurrency: 768,
  // 256 attempts of a 1 MiB event at once, 192 of one project (4-6 bytes resident per byte
  // counted: 1,000 such attempts peaked at ~900 MiB, docs/delivery.md); far above what 1024
  // attempts of ordinary events hold (a few MiB).
  bytesInFlight: 256 * 1024 * 1024,
  claimBatch: 256, // deliveries per claim transaction
  leaseMs: 60_000, // > maxTimeoutMs + time to record
  pollIntervalMs: 500, // fallback when no wake-up arrives
  maxResponseBytes: 64 * 1024, // DESIGN: first 64 KiB of the response body
  allowNetworks: [],
  userAgent: 'Herald-Webhooks/0.1',
  tlsCa: null, // the system's trusted CAs only
  thread: true, // the API and the dispatcher each get a core (src/delivery/threaded-dispatcher.ts)
  proxy: null, // deliveries connect to receivers directly
};
