/**
 * What the browser keeps of the API's answers, in a real Chromium against a real `herald serve`.
 * The API said nothing about caching, so Chromium stored its answers in its HTTP cache: an
 * endpoint's signing secret revealed in the dashboard or the portal, payloads, response bodies,
 * new API keys. The tokens are kept in sessionStorage so that they are gone when the tab closes,
 * but the browser's cache (on disk, in a real profile) outlived it: a secret revealed in the
 * dashboard was read back from it, after signing out, by a `force-cache` fetch with no token.
 * Every /api/ answer now says `Cache-Control: no-store`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import type { HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-not-cached-0123456';

describe('the API’s answers are not kept by the browser (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN });
  let herald: HeraldProcess;
  let projectPath: string;
  let endpointId: string;

  before(async () => {
    herald = dash.herald;
    projectPath = await newProject(herald, ADMIN, 'Cache');
    endpointId = await quietEndpoint(herald, ADMIN, projectPath, { name: 'Receiver' });
  });

  test('a secret revealed in the dashboard is not read back from the cache after signing out', async () => {
    // A context of its own: the harness's pages route every request to keep them on loopback, and
    // Playwright turns the HTTP cache off for routed contexts (Chromium keeps to loopback anyway).
    const context = await dash.browser.newContext();
    after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${herald.url}/ui/`);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    // Settled before the click: the panel's own read of /secret on mounting could answer the wait
    // below instead of Reveal's, and the panels above (charts, waiting deliveries) grow as they load,
    // so a click could land on one of them. Likely what failed once in CI (2026-12-07, load low): the
    // secret was read from a /secret answer and never shown within 30 s.
    await page.goto(`${herald.url}/ui${projectPath.slice('/api/v1'.length)}/endpoints/${endpointId}`, {
      waitUntil: 'networkidle',
    });
    const revealed = page.waitForResponse((response) => response.url().endsWith('/secret'));
    await page.getByRole('button', { name: 'Reveal' }).click();
    const secret = ((await (await revealed).json()) as { secret: string }).secret;
    await page.getByText(secret).first().waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();

    // Any later page of the origin, without the token, asking for what the browser kept (with the
    // dashboard's credentials mode, which Chromium's cache keys its entries by).
    const fromCache = await page.evaluate(async (path) => {
      const response = await fetch(path, { cache: 'force-cache', credentials: 'omit' });
      return { status: response.status, body: await response.text() };
    }, `${projectPath}/endpoints/${endpointId}/secret`);
    assert.ok(!fromCache.body.includes(secret), 'the signing secret came back from the browser cache');
    assert.equal(fromCache.status, 401);
  });

  test('answers holding credentials or tenants’ data, and refusals, all say no-store', async () => {
    const cacheControl = async (token: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${herald.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      await response.arrayBuffer();
      return `${response.status} ${response.headers.get('cache-control')}`;
    };
    const answers = {
      'api key': await cacheControl(ADMIN, 'POST', `${projectPath}/api-keys`, { name: 'k' }),
      'portal link': await cacheControl(ADMIN, 'POST', `${projectPath}/portal-links`, {}),
      'event accepted': await cacheControl(ADMIN, 'POST', `${projectPath}/events`, {
        type: 'order.paid',
        payload: { card: '4242' },
      }),
      events: await cacheControl(ADMIN, 'GET', `${projectPath}/events`),
      endpoint: await cacheControl(ADMIN, 'GET', `${projectPath}/endpoints/${endpointId}`),
      projects: await cacheControl(ADMIN, 'GET', '/api/v1/projects'),
      'a wrong token': await cacheControl('not-the-token', 'GET', `${projectPath}/events`),
      'an unknown id': await cacheControl(ADMIN, 'GET', `${projectPath}/endpoints/ep_none`),
      'a bad body': await cacheControl(ADMIN, 'POST', `${projectPath}/events`, { type: 1 }),
    };
    assert.deepEqual(answers, {
      'api key': '201 no-store',
      'portal link': '201 no-store',
      'event accepted': '202 no-store',
      events: '200 no-store',
      endpoint: '200 no-store',
      projects: '200 no-store',
      'a wrong token': '401 no-store',
      'an unknown id': '404 no-store',
      'a bad body': '400 no-store',
    });
  });
});
