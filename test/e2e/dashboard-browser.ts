/**
 * What every browser test of the dashboard against a real `herald serve` sets up, for a describe
 * block: the dashboard built from the tree (published into dist/dashboard without disturbing the
 * other files that load pages from it meanwhile: test/support/dashboard-build.ts), a server with
 * the admin token, headless Chromium reaching only loopback, and pages whose console errors, page
 * errors and requests outside the server are collected as problems, for the test to assert none came.
 *
 * The server's data directory is the harness's, in memory (/dev/shm) where the machine has room
 * (test/support/memory-dir.ts): its SQLite database is the same, but a commit's fsync costs nothing
 * there, and these tests seed through the API, one commit a request (endpoint-status's 5,004
 * PATCHes waited 45 s of fsyncs on this machine's disk, 21 s in memory).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, beforeEach } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchLoopbackChromium, watchedPage } from '../support/browser.ts';
import { buildDashboard } from '../support/dashboard-build.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

/** Each Playwright wait's limit. */
export const PAGE_TIMEOUT = 15_000;

export interface DashboardBrowserOptions {
  /** The admin token the server takes (HERALD_ADMIN_TOKEN) and signed-in pages carry. */
  adminToken: string;
  /** More settings for `herald serve`; HERALD_ALLOW_NETWORKS is 127.0.0.0/8 (receivers on loopback). */
  env?: Record<string, string>;
  /** Answers from this status up are problems too, with their method and URL; none when unset. */
  problemStatus?: number;
  /**
   * false: the block starts no server (its tests start their own, startDashboardServer), and
   * `herald` is not to be read. True when unset.
   */
  server?: boolean;
}

export interface DashboardBrowser {
  /** The server (started before the describe block's own `before` hooks run). */
  readonly herald: HeraldProcess;
  readonly browser: Browser;
  /** What went wrong in the pages since the test began (emptied before each test). */
  readonly problems: string[];
  /**
   * Console errors matching this are let pass meanwhile: Chromium logs every 4xx answer to fetch as
   * one, and a test causes some on purpose. Read at each message; back to null before each test.
   */
  expectConsole: RegExp | null;
  /**
   * A page in a fresh context (its own sessionStorage), closed after the block. `signedIn`: with
   * the admin token in sessionStorage, as the sign-in form leaves it. 1280×900 unless `viewport`;
   * in the machine's time zone unless `timezoneId`.
   */
  page(options?: {
    viewport?: { width: number; height: number };
    signedIn?: boolean;
    timezoneId?: string;
  }): Promise<Page>;
  /**
   * The block's one signed-in page (1280×900, the machine's time zone), for a test that opens its
   * first view with goto and adds nothing of its own to the page (no route, no dialog or other
   * handler, no other viewport, no closing it): made at the first call and handed to each later
   * test that asks.
   * A new context is a new Chromium renderer process, ~1 s of CPU with its first page, where
   * loading a page again in one costs 0.2-0.4 s. After each test it is put back as a fresh
   * page is: its sessionStorage emptied (the token comes back at the next load), left for
   * about:blank (the view's timers stop), the light scheme and no other media emulated, 1280×900;
   * its history is kept (a test going Back past its own first view needs a page of its own).
   */
  signedInPage(): Promise<Page>;
}

/**
 * Starts `herald serve` with the admin token, receivers on loopback allowed (HERALD_ALLOW_NETWORKS
 * 127.0.0.0/8) and `env`, on the harness's data directory (in memory where it can be, see above),
 * which dispose deletes.
 */
export function startDashboardServer(
  adminToken: string,
  env: Record<string, string> = {},
): Promise<HeraldProcess> {
  return startHerald({
    env: { HERALD_ADMIN_TOKEN: adminToken, HERALD_ALLOW_NETWORKS: '127.0.0.0/8', ...env },
  });
}

/** Registers the block's before, beforeEach and after hooks; call it first in the describe block. */
export function useDashboardBrowser(options: DashboardBrowserOptions): DashboardBrowser {
  let herald: HeraldProcess | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let shared: Page | undefined;

  const session: DashboardBrowser = {
    get herald() {
      assert.ok(herald, 'the server is started in before()');
      return herald;
    },
    get browser() {
      assert.ok(browser, 'the browser is launched in before()');
      return browser;
    },
    problems,
    expectConsole: null,
    async page({ viewport, signedIn = false, timezoneId } = {}) {
      const { context, page } = await watchedPage(session.browser, problems, {
        viewport,
        timezoneId,
        timeout: PAGE_TIMEOUT,
        ignoreConsole: () => session.expectConsole,
      });
      contexts.push(context);
      const from = options.problemStatus;
      if (from !== undefined) {
        page.on('response', (response) => {
          if (response.status() >= from)
            problems.push(`${response.status()} from ${response.request().method()} ${response.url()}`);
        });
      }
      if (signedIn) {
        await page.addInitScript(
          (token) => sessionStorage.setItem('herald.adminToken', token),
          options.adminToken,
        );
      }
      return page;
    },
    async signedInPage() {
      if (!shared || shared.isClosed()) shared = await session.page({ signedIn: true });
      return shared;
    },
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    // Chromium starts while the server does, each its own process: at a load of 17 on this
    // 2-core machine the server was ready in 14-19 s and Chromium in 2.3-2.7 s, both 11-14 s at
    // once against 16-21 s one after the other. Whichever started is kept for after() to close
    // when the other failed.
    const [started, launched] = await Promise.allSettled([
      // The UI as it is in the tree now, not a stale build.
      buildDashboard().then(() =>
        options.server === false ? undefined : startDashboardServer(options.adminToken, options.env),
      ),
      launchLoopbackChromium(),
    ]);
    if (started.status === 'fulfilled') herald = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
  });

  beforeEach(() => {
    problems.length = 0;
    session.expectConsole = null;
  });

  afterEach(async () => {
    if (!shared || shared.isClosed()) return;
    await shared.evaluate(() => sessionStorage.clear()).catch(() => {}); // none on about:blank
    await shared.goto('about:blank');
    await shared.emulateMedia({
      media: null,
      colorScheme: 'light',
      reducedMotion: 'no-preference',
      forcedColors: 'none',
    });
    await shared.setViewportSize({ width: 1280, height: 900 });
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await herald?.dispose();
  });

  return session;
}

/** A new project for a block's own endpoints: its API path, `/api/v1/projects/prj_…`. */
export async function newProject(herald: HeraldProcess, adminToken: string, name: string): Promise<string> {
  const made = await api<{ id: string }>(herald.url, adminToken, 'POST', '/api/v1/projects', { name });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return `/api/v1/projects/${made.body.id}`;
}

/**
 * A new endpoint of the project at `projectPath` to a loopback port nothing listens on (for pages
 * that send it nothing, or whose sends may fail), with `fields` added; its id.
 */
export async function quietEndpoint(
  herald: HeraldProcess,
  adminToken: string,
  projectPath: string,
  fields: Record<string, unknown>,
): Promise<string> {
  const made = await api<{ id: string }>(herald.url, adminToken, 'POST', `${projectPath}/endpoints`, {
    url: 'http://127.0.0.1:9/hooks',
    ...fields,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.id;
}
