/**
 * What the dashboard shows when a list or a chart read for new filters fails, in a real browser
 * against a real `herald serve` that stops answering after the page has loaded: each test's page
 * reaches it through a loopback forwarder of its own (test/support/tcp-proxy.ts), which the test
 * closes: its connections cut, new ones refused, as a killed server's are. History
 * and Events kept the rows of the filters before under the new filters, next to the error, as if
 * they matched them; an endpoint's charts kept the period before under the new period, and said
 * nothing of the error at all. Rows and charts are now shown only under what they were read for.
 * Any console error or page error fails the test, but the refused connections to the stopped server.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api } from './harness.ts';

const ADMIN = 'e2e-admin-token-failed-reads-0123';

describe('dashboard reads that fail after a change of filters (browser)', { timeout: 120_000 }, () => {
  // One server for the block; each test stops the forwarder its page reaches it through. (Each
  // test started and killed a server of its own: ~2 s of CPU and more of wall time each.)
  const dash = useDashboardBrowser({ adminToken: ADMIN });
  const { problems } = dash;
  let own: TcpProxy | undefined;

  // The page of each test, closed after it: its endpoint page reads the stopped server on, and the
  // refusals would be logged during the next test.
  let page: Page | undefined;

  afterEach(async () => {
    await page?.context().close();
    page = undefined;
    await own?.close();
    own = undefined;
  });

  /**
   * A project of the test's own with one endpoint (to a port nothing listens on) and one event of
   * `order.paid` whose first attempt is recorded (failed), its next an hour away; the UI paths of
   * its project and endpoint, through a forwarder of the test's own to the server.
   */
  async function serverWithAttempt(): Promise<{ ui: string; endpointUi: string }> {
    const herald = dash.herald;
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Lighthouse',
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const p = `/api/v1/projects/${project.body.id}`;
    // Its retry an hour away: with the default schedule the second attempt came 5 s after the
    // first, and a page that read the stats after it (a loaded machine) showed Attempts 2.
    const endpoint = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: 'http://127.0.0.1:9/hooks',
      retrySchedule: [3_600],
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, { type: 'order.paid', payload: {} });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    for (let waited = 0; ; waited += 50) {
      const attempts = await api<{ data: unknown[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/endpoints/${endpoint.body.id}/attempts`,
      );
      if (attempts.body.data.length > 0) break;
      assert.ok(waited < 10_000, 'the attempt was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    own = await startTcpProxy(Number(new URL(herald.url).port));
    const ui = `http://127.0.0.1:${own.port}/ui/projects/${project.body.id}`;
    return { ui, endpointUi: `${ui}/endpoints/${endpoint.body.id}` };
  }

  /**
   * Stops the page's server, as the page sees it: the forwarder cuts its connections and stops
   * listening, so every read from now on fails (the browser logs each refusal).
   */
  async function stopServer(): Promise<void> {
    dash.expectConsole = /ERR_CONNECTION_REFUSED|Failed to load resource/;
    await own?.close();
  }

  const alert = (page: Page) => page.getByRole('alert').first();

  test('History: the rows of the outcome before are gone when the read for another fails', async () => {
    const { endpointUi } = await serverWithAttempt();
    page = await dash.page({ signedIn: true });
    await page.goto(`${endpointUi}/history`);
    const rows = page.locator('.history-table tbody tr');
    await rows.getByText('order.paid').first().waitFor();
    await stopServer();
    // The attempt failed: it is no succeeded one, yet it stayed listed under "Succeeded".
    await page.getByLabel('Outcome').selectOption('succeeded');
    await alert(page).waitFor();
    assert.equal(await rows.count(), 0, 'no failed attempt is shown under Succeeded');
    assert.deepEqual(problems, []);
  });

  test('Events: the rows of the time range before are gone when the read for another fails', async () => {
    const { ui } = await serverWithAttempt();
    page = await dash.page({ signedIn: true });
    await page.goto(`${ui}/events`);
    const rows = page.locator('table tbody tr');
    await rows.getByText('order.paid').first().waitFor();
    await stopServer();
    // Sent today: no event of it was sent by 2020, yet it stayed listed under that To.
    await page.getByLabel('To').fill('2020-01-01T00:00');
    await page.waitForURL(/until=/);
    await alert(page).waitFor();
    assert.equal(await rows.count(), 0, 'no event of today is shown under To 2020');
    assert.deepEqual(problems, []);
  });

  test("an endpoint's charts of the period before are gone, and the error said, when another fails", async () => {
    const { endpointUi } = await serverWithAttempt();
    page = await dash.page({ signedIn: true });
    await page.goto(endpointUi);
    const stats = page.getByRole('region', { name: 'Delivery attempts' });
    await stats
      .locator('.kpis div', { hasText: /^Attempts/ })
      .locator('dd', { hasText: /^1$/ })
      .waitFor();
    await stopServer();
    // Last 24 hours, then Last hour: the 24 hours' counts and charts stayed, with no error said.
    await page.getByLabel('Period').selectOption('1h');
    await stats.getByRole('alert').waitFor();
    assert.equal(await stats.locator('.kpis').count(), 0, 'no counts of the last 24 hours under Last hour');
    assert.equal(await stats.locator('svg').count(), 0, 'no charts of the last 24 hours under Last hour');
    assert.deepEqual(problems, []);
  });
});
