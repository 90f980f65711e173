/**
 * An endpoint's disables and enables in the dashboard, in a real browser against a real `herald
 * serve` on SQLite. The API reports them as operational events (`endpoint.disabled` with its reason
 * and what it parked, `endpoint.recovered` with what it resumed: docs/api.md "Operational events"),
 * which portal links may read too, but the dashboard showed them nowhere: an operator or a customer
 * saw "Disabled by hand" and no when, and once enabled no trace of it. The endpoint's overview now
 * lists them, newest first, for the operator and in the customer portal; another endpoint's are
 * not among them. Any console error, page error or answer from 400 up fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-endpoint-status-0123';

describe('dashboard: an endpoint shows when and why it was disabled and enabled (browser)', {
  timeout: 120_000,
}, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  let herald: HeraldProcess;
  let p: string;
  let endpointId: string;
  let neverId: string;

  before(async () => {
    herald = dash.herald;
    p = await newProject(herald, ADMIN, 'Status changes');
    endpointId = await quietEndpoint(herald, ADMIN, p, { name: 'Orders' });
    const other = await quietEndpoint(herald, ADMIN, p, { name: 'Other' });
    neverId = await quietEndpoint(herald, ADMIN, p, { name: 'Never disabled' });
    const patch = (id: string, active: boolean) =>
      api(herald.url, ADMIN, 'PATCH', `${p}/endpoints/${id}`, { active });
    assert.equal((await patch(endpointId, false)).status, 200);
    assert.equal(
      (await api(herald.url, ADMIN, 'POST', `${p}/endpoints/${endpointId}/enable`, {})).status,
      200,
    );
    assert.equal((await patch(other, false)).status, 200);
    assert.equal((await patch(endpointId, false)).status, 200);
  });

  /** The rows of the overview's list of disables and enables, as text. */
  async function statusRows(page: Page): Promise<string[]> {
    const list = page.getByRole('region', { name: 'Disabled and enabled' });
    await list.locator('li').nth(2).waitFor();
    return list.locator('li').allInnerTexts();
  }

  function assertRows(rows: string[]) {
    assert.equal(rows.length, 3, rows.join('\n'));
    assert.match(rows[0]!, /Disabled by hand/);
    assert.match(rows[0]!, /parked nothing/);
    assert.match(rows[1]!, /Enabled/);
    assert.match(rows[1]!, /resumed nothing/);
    assert.match(rows[2]!, /Disabled by hand/);
    // Each says when, naming the zone, as the dashboard's other times.
    for (const row of rows) assert.match(row, /\d:\d\d:\d\d( [AP]M)? (UTC|GMT)/, row);
  }

  test('the operator sees them on the overview, newest first, and since when it is disabled', async () => {
    const page = await dash.page({ signedIn: true, timezoneId: 'UTC' });
    await page.goto(`${herald.url}/ui${p.replace('/api/v1', '')}/endpoints/${endpointId}`);
    assertRows(await statusRows(page));
    const banner = page.locator('.banner-warn');
    assert.match(await banner.innerText(), /Disabled by hand since .*\d:\d\d:\d\d( [AP]M)? UTC/);
    assert.deepEqual(dash.problems, []);
  });

  test('an endpoint never disabled says none is recorded', async () => {
    const page = await dash.page({ signedIn: true });
    await page.goto(`${herald.url}/ui${p.replace('/api/v1', '')}/endpoints/${neverId}`);
    const card = page.getByRole('region', { name: 'Disabled and enabled' });
    await card.getByText(/^None recorded/).waitFor();
    assert.equal(await card.locator('li').count(), 0);
    assert.deepEqual(dash.problems, []);
  });

  test('a portal link sees them too', async () => {
    const link = await api<{ token: string }>(herald.url, ADMIN, 'POST', `${p}/portal-links`, {});
    assert.equal(link.status, 201);
    const page = await dash.page({ timezoneId: 'UTC' });
    await page.goto(`${herald.url}/ui/portal/endpoints/${endpointId}#token=${link.body.token}`);
    assertRows(await statusRows(page));
    assert.deepEqual(dash.problems, []);
  });
});
