/**
 * The canned API the dashboard's browser tests (test/dashboard/*-browser.test.ts) run the dashboard
 * against: the objects the API answers with, shaped as Herald's answers (an endpoint, an event, an
 * attempt, a delivery, an API key, an event type, a project), each with the usual values unless the
 * test says otherwise; `pageOf` for a list read a page at a time; and `startCannedDashboard`, the
 * dashboard as built now (buildDashboard) and the test's answers to `GET /api/v1/*` on one Fastify
 * server on 127.0.0.1:0, with a loopback-only Chromium to open its pages signed in as the operator.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { dashboardPlugin } from '../../src/dashboard/serve.ts';
import { CHROMIUM, launchLoopbackChromium, watchedPage } from './browser.ts';
import { buildDashboard, DASHBOARD_DIST } from './dashboard-build.ts';

/** When every canned object was made, unless it says otherwise. */
export const NOW = new Date().toISOString();

export function cannedProject(fields: { id: string; name: string; uid?: string | null }) {
  return { uid: null as string | null, createdAt: NOW, ...fields };
}

/** An active POST endpoint to a closed loopback port, every setting its default. */
export function cannedEndpoint<T extends { id: string; projectId: string }>(fields: T) {
  return {
    url: 'http://127.0.0.1:9/hook',
    name: 'Receiver',
    description: '',
    eventTypes: [] as string[],
    method: 'POST',
    headers: {} as Record<string, string>,
    dev: false,
    timeoutMs: 10_000,
    envelope: 'standard',
    signature: { scheme: 'standard' },
    retrySchedule: null,
    rateLimit: null,
    status: 'active',
    disabledReason: null as string | null,
    consecutiveFailures: 0,
    createdAt: NOW,
    ...fields,
  };
}

/** A live event with an empty payload, as `GET …/events/:event` answers it (no deliveries unless given). */
export function cannedEvent<T extends { id: string; projectId: string; type: string }>(fields: T) {
  return {
    payload: {},
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: NOW,
    deliveries: [] as unknown[],
    ...fields,
  };
}

/** A first attempt (12 ms) of a POST with `{}` to `url`, answered 200 if it succeeded and 500 if not. */
export function cannedAttempt(fields: {
  id: string;
  projectId: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  outcome: 'succeeded' | 'failed';
  url: string;
  deliveryId?: string;
  number?: number;
}) {
  const { url, ...rest } = fields;
  return {
    deliveryId: `dlv_${fields.id}`,
    number: 1,
    startedAt: NOW,
    durationMs: 12,
    request: { method: 'POST', url, headers: {}, body: '{}' },
    response: { status: fields.outcome === 'succeeded' ? 200 : 500, headers: {}, body: '' },
    error: null,
    ...rest,
  };
}

/** One delivery of an event to an endpoint, succeeded at the first attempt. */
export function cannedDelivery(eventId: string, endpoint: { id: string; url: string }) {
  return {
    id: `dlv_${eventId}_${endpoint.id}`,
    eventId,
    endpointId: endpoint.id,
    url: endpoint.url,
    status: 'succeeded',
    attempts: 1,
    nextAttemptAt: null,
    inFlight: false,
    lastAttemptAt: NOW,
    createdAt: NOW,
  };
}

/** A send key never used, as the keys list shows it (its prefix, never the key). */
export function cannedApiKey(fields: { id: string; projectId: string; name: string }) {
  return { scope: 'send', prefix: 'hk_ujCvaYh', createdAt: NOW, lastUsedAt: null, ...fields };
}

/** A catalog entry with no description, schema or example, not deprecated. */
export function cannedEventType<T extends { name: string }>(fields: T) {
  return {
    description: '',
    schema: null as unknown,
    example: null as unknown,
    deprecated: false,
    createdAt: NOW,
    updatedAt: NOW,
    ...fields,
  };
}

/** `?limit&cursor` over `items`, the cursor being the index to go on from. */
export function pageOf<T>(items: T[], query: Record<string, string>) {
  const from = Number(query['cursor'] ?? 0);
  const limit = Number(query['limit'] ?? 50);
  const data = items.slice(from, from + limit);
  return { data, nextCursor: from + limit < items.length ? String(from + limit) : null };
}

/**
 * The test's answer to a `GET /api/v1/…`: `path` is what follows /api/v1, without the query.
 * Returning undefined answers an empty page (`{ data: [], nextCursor: null }`).
 */
export type CannedGet = (
  path: string,
  url: URL,
  reply: FastifyReply,
  request: FastifyRequest,
) => unknown | Promise<unknown>;

export interface CannedDashboardOptions {
  get: CannedGet;
  /** Hooks and routes of the test's own, added before `GET /api/v1/*`. */
  setup?: (server: FastifyInstance) => void;
  /** Where console errors, page errors and requests off loopback are recorded (watchedPage). */
  problems: string[];
  /** Each Playwright wait's limit. */
  timeout: number;
}

export interface CannedDashboard {
  /** http://127.0.0.1:port */
  base: string;
  /**
   * A page of the dashboard (path under /ui) in a fresh context, signed in with the admin token;
   * `width` of a 900 px high window (1280 unless given), `clock`: Playwright's installed first.
   * Close its context when done.
   */
  open(path: string, options?: { width?: number; clock?: boolean }): Promise<Page>;
  close(): Promise<void>;
}

export async function startCannedDashboard(options: CannedDashboardOptions): Promise<CannedDashboard> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  // The UI as it is in the tree now, as the browser tests against `herald serve` have it.
  await buildDashboard();
  const server = Fastify();
  let browser: Browser | undefined;
  try {
    await server.register(dashboardPlugin, { distDir: DASHBOARD_DIST });
    options.setup?.(server);
    server.get('/api/v1/*', async (request, reply) => {
      const url = new URL(request.url, 'http://x');
      const answer = await options.get(url.pathname.slice('/api/v1'.length), url, reply, request);
      return answer === undefined ? { data: [], nextCursor: null } : answer;
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchLoopbackChromium();
  } catch (error) {
    await server.close();
    throw error;
  }
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const started = browser;
  return {
    base,
    async open(path, { width = 1280, clock = false } = {}) {
      const { context, page } = await watchedPage(started, options.problems, {
        timeout: options.timeout,
        viewport: { width, height: 900 },
      });
      // At each load of the server's pages (about:blank, where a test leaves a page, has no storage).
      await context.addInitScript(() => {
        if (location.protocol === 'http:') window.sessionStorage.setItem('herald.adminToken', 'admin-token');
      });
      if (clock) await page.clock.install();
      await page.goto(`${base}/ui${path}`);
      return page;
    },
    async close() {
      await started.close();
      await server.close();
    },
  };
}
