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
import { Pool } from 'undici';
import { STATE_REFRESH_MS } from '../../src/dashboard/app/endpoint-state.ts';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-endpoint-status-0123';
/** How many of the project's operational events the card looked through before 2026-12-06. */
const OLD_SCAN = 5000;

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

  test('an open page that next reads the endpoint disabled again shows the new disable, not the old one', async () => {
    const id = await quietEndpoint(herald, ADMIN, p, { name: 'Disabled twice' });
    assert.equal(
      (await api(herald.url, ADMIN, 'PATCH', `${p}/endpoints/${id}`, { active: false })).status,
      200,
    );
    const page = await dash.page({ signedIn: true, timezoneId: 'UTC' });
    await page.clock.install();
    await page.goto(`${herald.url}/ui${p.replace('/api/v1', '')}/endpoints/${id}`);
    const card = page.getByRole('region', { name: 'Disabled and enabled' });
    await card.locator('li').first().waitFor();
    const banner = page.locator('.banner-warn');
    const first = await banner.innerText();
    // Enabled and disabled again (by hand both times, no failures) between two of the page's
    // reads: its state, reason and failures read the same, only when it was disabled differs.
    // The disable's time is in whole seconds: the second comes in another second.
    const before = await api<{ disabledAt: string }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`);
    assert.equal((await api(herald.url, ADMIN, 'POST', `${p}/endpoints/${id}/enable`, {})).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await api<{ disabledAt: string }>(herald.url, ADMIN, 'PATCH', `${p}/endpoints/${id}`, {
      active: false,
    });
    assert.equal(again.status, 200);
    assert.notEqual(again.body.disabledAt, before.body.disabledAt);
    await page.clock.fastForward(STATE_REFRESH_MS);
    await card.locator('li').nth(2).waitFor();
    assert.equal(await card.locator('li').count(), 3, 'disabled, enabled, disabled again');
    assert.notEqual(await banner.innerText(), first, 'the banner says since when it is disabled now');
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

  test("an endpoint whose disables are older than the project's latest 5,000 operational events still shows them", async () => {
    // Before 2026-12-06 the card read the project's latest 5,000 operational events and picked the
    // endpoint's out of them: it said none were among them, behind a "Look further back" button.
    const busy = await newProject(herald, ADMIN, 'Busy status changes');
    const quiet = await quietEndpoint(herald, ADMIN, busy, { name: 'Disabled long ago' });
    // The same PATCHes api() sends, through undici's request() on four kept-alive connections:
    // api()'s fetch() cost this process ~1.2 ms of CPU a request, 6 s for the 5,004 (against 2 s).
    const pool = new Pool(herald.url, { connections: 4 });
    const patch = async (id: string, active: boolean) => {
      const answer = await pool.request({
        method: 'PATCH',
        path: `${busy}/endpoints/${id}`,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ active }),
      });
      const text = await answer.body.text();
      assert.equal(answer.statusCode, 200, text);
    };
    try {
      await patch(quiet, false);
      await patch(quiet, true);
      // More than the 5,000 newer ones, a disable and an enable at a time, on four noisy endpoints at once.
      const noisy = await Promise.all(
        [1, 2, 3, 4].map((n) => quietEndpoint(herald, ADMIN, busy, { name: `Noisy ${n}` })),
      );
      const cycles = Math.ceil((OLD_SCAN + 2) / (2 * noisy.length));
      await Promise.all(
        noisy.map(async (id) => {
          for (let i = 0; i < cycles; i++) {
            await patch(id, false);
            await patch(id, true);
          }
        }),
      );
    } finally {
      await pool.close();
    }
    const link = await api<{ token: string }>(herald.url, ADMIN, 'POST', `${busy}/portal-links`, {});
    assert.equal(link.status, 201);
    // The operator's overview, then the customer's through the portal link.
    for (const url of [
      `${herald.url}/ui${busy.replace('/api/v1', '')}/endpoints/${quiet}`,
      `${herald.url}/ui/portal/endpoints/${quiet}#token=${link.body.token}`,
    ]) {
      const page = await dash.page({ signedIn: !url.includes('/portal/'), timezoneId: 'UTC' });
      await page.goto(url);
      const card = page.getByRole('region', { name: 'Disabled and enabled' });
      // Its rows, or what it says instead of them.
      await card.locator('li, p.muted').first().waitFor();
      const rows = await card.locator('li').allInnerTexts();
      assert.equal(rows.length, 2, `${url}: ${await card.innerText()}`);
      assert.match(rows[0]!, /Enabled/);
      assert.match(rows[1]!, /Disabled by hand/);
      assert.equal(await card.getByRole('button', { name: 'Look further back' }).count(), 0);
    }
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
