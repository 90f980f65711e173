/**
 * Operator actions of the dashboard in a real browser (headless Chromium via playwright-core)
 * against a real `herald serve`, after a re-tester found that:
 * - the event page offered "Retry now" on the deliveries of a disabled endpoint, and the click was
 *   answered 409 (the API refuses to retry those): now the button is disabled and says to enable
 *   the endpoint first, and offers it again once it is enabled;
 * - the Access tab created API keys and portal links but could neither list nor revoke keys, nor
 *   revoke portal links: now it lists the keys with a Revoke button each (after a confirmation)
 *   and revokes all of the project's portal links (after a confirmation).
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchLoopbackChromium, watchedPage } from '../support/browser.ts';
import { buildDashboard } from '../support/dashboard-build.ts';
import { refusedPort } from '../support/refused-port.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'e2e-admin-token-operator-actions-0123';
const TIMEOUT = 15_000;

describe('dashboard operator actions (browser)', { timeout: 120_000 }, () => {
  let herald: HeraldProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let project: { id: string };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    await buildDashboard();
    herald = await startHerald({
      env: {
        HERALD_ADMIN_TOKEN: ADMIN,
        HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      },
    });
    project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Moon Quest' })
    ).body;
    browser = await launchLoopbackChromium();
  });

  beforeEach(() => {
    problems.length = 0;
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await herald?.dispose();
  });

  /** A page signed in as the operator (the token in sessionStorage, as the sign-in form leaves it). */
  async function operatorPage(): Promise<Page> {
    const { context, page } = await watchedPage(browser, problems, { timeout: TIMEOUT });
    contexts.push(context);
    page.on('response', (response) => {
      if (response.status() >= 400)
        problems.push(`${response.status()} from ${response.request().method()} ${response.url()}`);
    });
    await page.addInitScript((token) => sessionStorage.setItem('herald.adminToken', token), ADMIN);
    return page;
  }

  test('event page: Retry now is disabled for a disabled endpoint, says why, and returns once it is enabled', async () => {
    const p = `/api/v1/projects/${project.id}`;
    const created = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `http://127.0.0.1:${await refusedPort()}/hook`,
      name: 'Switched off',
      // No retries: the delivery fails at its first attempt and stays failed, so enabling the
      // endpoint resumes nothing and the retry below cannot meet an attempt in flight (409).
      retrySchedule: [],
    });
    assert.equal(created.status, 201);
    const endpointId = created.body.id;
    const sent = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/events`, {
      type: 'order.paid',
      payload: { order: 1 },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    for (let waited = 0; ; waited += 50) {
      const read = await api<{ deliveries: { status: string }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/events/${sent.body.id}`,
      );
      if (read.body.deliveries[0]?.status === 'failed') break;
      assert.ok(waited < 10_000, `the delivery did not fail: ${JSON.stringify(read.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const off = await api(herald.url, ADMIN, 'PATCH', `${p}/endpoints/${endpointId}`, { active: false });
    assert.equal(off.status, 200);

    const page = await operatorPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/events/${sent.body.id}`);
    const row = page.locator('table tbody tr', { hasText: 'Switched off' });
    const retry = row.getByRole('button', { name: 'Retry now' });
    await row.getByText('Endpoint disabled').waitFor();
    assert.equal(await retry.isDisabled(), true);
    const hint = await retry.getAttribute('aria-describedby');
    assert.ok(hint, 'the button names its reason');
    assert.match(await page.locator(`#${hint}`).innerText(), /Endpoint disabled: enable it first/);

    // The hint's link leads to the endpoint, where it is enabled; back on the event, Retry works.
    await row.getByRole('link', { name: 'enable it' }).click();
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByText('Endpoint enabled').waitFor();
    await page.goBack();
    await row.getByText('Endpoint disabled').waitFor({ state: 'detached' });
    assert.equal(await retry.isEnabled(), true);
    await retry.click();
    await row.getByText('Queued').waitFor();
    assert.deepEqual(problems, []);
  });

  test('Access: lists the API keys and revokes one after a confirmation; revokes all portal links after one', async () => {
    const p = `/api/v1/projects/${project.id}`;
    const backend = await api<{ key: string; prefix: string }>(herald.url, ADMIN, 'POST', `${p}/api-keys`, {
      name: 'game backend',
    });
    await api(herald.url, ADMIN, 'POST', `${p}/api-keys`, { name: 'ci' });
    const link = await api<{ token: string }>(herald.url, ADMIN, 'POST', `${p}/portal-links`, {});
    assert.equal(link.status, 201);
    const withBackendKey = async () => (await api(herald.url, backend.body.key, 'GET', p)).status;
    const withPortalLink = async () => (await api(herald.url, link.body.token, 'GET', p)).status;
    assert.equal(await withBackendKey(), 200);
    assert.equal(await withPortalLink(), 200);

    const page = await operatorPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/access`);
    const rows = page.locator('table.api-keys-table tbody tr');
    const backendRow = rows.filter({ hasText: 'game backend' });
    await backendRow.waitFor();
    assert.equal(await rows.count(), 2);
    assert.match(await backendRow.innerText(), new RegExp(`${backend.body.prefix}…`));
    assert.doesNotMatch(await page.locator('table.api-keys-table').innerText(), new RegExp(backend.body.key));

    // Revoke asks first; Cancel leaves the key working.
    await backendRow.getByRole('button', { name: 'Revoke game backend…' }).click();
    await backendRow.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await withBackendKey(), 200);
    await backendRow.getByRole('button', { name: 'Revoke game backend…' }).click();
    await backendRow.getByRole('button', { name: 'Yes, revoke game backend' }).click();
    await page.getByRole('status').filter({ hasText: 'Key game backend' }).waitFor();
    await backendRow.waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    assert.equal(await withBackendKey(), 401);

    // A key created in the form joins the list.
    await page.getByRole('textbox', { name: 'Key name' }).fill('analytics');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await rows.filter({ hasText: 'analytics' }).waitFor();
    assert.equal(await rows.count(), 2);

    // Revoke all portal links asks first; then a link made before is refused.
    await page.getByRole('button', { name: 'Revoke all portal links…' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await withPortalLink(), 200);
    await page.getByRole('button', { name: 'Revoke all portal links…' }).click();
    await page.getByRole('button', { name: 'Yes, revoke all portal links' }).click();
    await page.getByRole('status').filter({ hasText: 'made until now is revoked' }).waitFor();
    assert.equal(await withPortalLink(), 401);
    assert.deepEqual(problems, []);
  });
});
