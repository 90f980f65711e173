/**
 * The endpoints list in a real browser against a real `herald serve` on SQLite. Its success rate
 * and waiting columns were read for the first 100 endpoints only: every row after them showed "—",
 * as if nothing were known, with no word why. Each row now has its figures. Any console error, page
 * error or answer from 400 up fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-endpoints-list-0123';

describe('dashboard endpoints list (browser)', { timeout: 180_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  let herald: HeraldProcess;
  let p: string;
  let ui: string;
  let lastId: string;

  before(async () => {
    herald = dash.herald;
    p = await newProject(herald, ADMIN, 'Many endpoints');
    ui = `${herald.url}/ui${p.replace('/api/v1', '')}`;
    // The list is newest first: the first made is the 105th row, the only one that gets the event
    // below (its attempt fails: nothing listens).
    lastId = await quietEndpoint(herald, ADMIN, p, { name: 'Last one', eventTypes: ['tick'] });
    for (let i = 0; i < 104; i++) {
      await quietEndpoint(herald, ADMIN, p, {
        name: `Quiet ${String(i).padStart(3, '0')}`,
        eventTypes: ['other'],
      });
    }
    const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, { type: 'tick', payload: {} });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    for (let waited = 0; ; waited += 50) {
      const read = await api<{ data: unknown[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/endpoints/${lastId}/attempts`,
      );
      if (read.body.data.length > 0) break;
      assert.ok(waited < 20_000, 'the attempt was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  test('an endpoint past the first 100 shows its success rate and what waits for it', async () => {
    const page = await dash.page({ signedIn: true });
    await page.goto(ui);
    const row = page.locator('tbody tr', { has: page.getByRole('link', { name: 'Last one' }) });
    await row.waitFor();
    const cells = row.locator('td');
    // Success (24 h): the one failed attempt; Waiting: its retry.
    await page.waitForFunction((id) => {
      const link = document.querySelector(`a[href$="${id}"]`);
      const cells = link?.closest('tr')?.querySelectorAll('td');
      return cells !== undefined && /of 1/.test(cells[3]?.textContent ?? '');
    }, lastId);
    assert.equal(await page.locator('tbody tr').nth(104).locator('a').first().innerText(), 'Last one');
    assert.match(await cells.nth(3).innerText(), /0 % of 1/);
    assert.match(await cells.nth(4).innerText(), /1 pending/);
    assert.deepEqual(dash.problems, []);
  });
});
