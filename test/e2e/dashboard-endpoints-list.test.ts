/**
 * The endpoints list in a real browser against a real `herald serve` on SQLite. Its success rate
 * and waiting columns were read for the first 100 endpoints only: every row after them showed "—",
 * as if nothing were known, with no word why. Each row now has its figures. And the list had no
 * Refresh: an endpoint added, or disabled, elsewhere (the API, the CLI, another tab) showed only
 * after reloading the page; Refresh reads the list and its figures again. The figures are read for
 * the rows in and near the window, those further down when they are scrolled to (a project of 2,000
 * endpoints sent 4,000 reads: test/dashboard/endpoints-list-figures-browser.test.ts). Any console
 * error, page error or answer from 400 up fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-endpoints-list-0123';
/** How long a row's figures may take to show (see cell). */
const FIGURES_TIMEOUT = 60_000;

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
    // Its retry an hour later: the figures stay what the test sent meanwhile.
    lastId = await quietEndpoint(herald, ADMIN, p, {
      name: 'Last one',
      eventTypes: ['tick'],
      retrySchedule: [3600],
    });
    for (let i = 0; i < 104; i++) {
      await quietEndpoint(herald, ADMIN, p, {
        name: `Quiet ${String(i).padStart(3, '0')}`,
        eventTypes: ['other'],
      });
    }
    await tick(1);
  });

  /** Sends a tick and waits until `Last one` has `attempts` attempts recorded. */
  async function tick(attempts: number): Promise<void> {
    const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, { type: 'tick', payload: {} });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    for (let waited = 0; ; waited += 50) {
      const read = await api<{ data: unknown[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/endpoints/${lastId}/attempts`,
      );
      if (read.body.data.length >= attempts) break;
      assert.ok(waited < 20_000, 'the attempt was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Waits until the row linking to endpoint `id` has `pattern` in its cell `column` (3: success, 4:
   * waiting). Its figures come after all 105 rows' reads: at a load of 17 on 2 cores that took
   * over the pages' 15 s (PAGE_TIMEOUT), with nothing wrong; 60 s still ends a page that never shows them.
   */
  async function cell(page: Page, id: string, column: number, pattern: string): Promise<void> {
    await page.waitForFunction(
      ([id, column, pattern]) => {
        const link = document.querySelector(`a[href$="${id}"]`);
        const cells = link?.closest('tr')?.children; // the row's header (th), then its tds
        return cells !== undefined && new RegExp(pattern).test(cells[column]?.textContent ?? '');
      },
      [id, column, pattern] as const,
      { timeout: FIGURES_TIMEOUT },
    );
  }

  test('an endpoint past the first 100 shows its success rate and what waits for it', async () => {
    const page = await dash.signedInPage();
    await page.goto(ui);
    const row = page.locator('tbody tr', { has: page.getByRole('link', { name: 'Last one' }) });
    await row.scrollIntoViewIfNeeded();
    const cells = row.locator(':scope > th, :scope > td');
    // Success (24 h): the one failed attempt; Waiting: its retry.
    await cell(page, lastId, 3, 'of 1');
    await cell(page, lastId, 4, 'pending');
    assert.equal(await page.locator('tbody tr').nth(104).locator('a').first().innerText(), 'Last one');
    assert.match(await cells.nth(3).innerText(), /0 % of 1/);
    assert.match(await cells.nth(4).innerText(), /1 pending/);
    assert.deepEqual(dash.problems, []);
  });

  test("each row's figures are read once, not again as each chunk of them answers", async () => {
    const page = await dash.page({ signedIn: true });
    const reads = new Map<string, number>();
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      const stats = /\/endpoints\/([^/]+)\/stats$/.exec(path);
      if (request.method() === 'GET' && stats) reads.set(stats[1]!, (reads.get(stats[1]!) ?? 0) + 1);
    });
    await page.goto(ui);
    // The top rows' figures, then, scrolled to the bottom, those of `Last one` (the 105th row) and
    // the rows near it; the rows between were never near the window.
    await page.locator('tbody tr').first().getByText('no attempts').waitFor();
    await page
      .locator('tbody tr', { has: page.getByRole('link', { name: 'Last one' }) })
      .scrollIntoViewIfNeeded();
    await cell(page, lastId, 3, 'of 1');
    await cell(page, lastId, 4, 'pending');
    await page.waitForTimeout(300);
    assert.ok(reads.size < 105, `the rows never near the window are not read: ${reads.size} of 105 were`);
    const twice = [...reads].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], `${twice.length} endpoints' success rates were read more than once`);
    assert.deepEqual(dash.problems, []);
  });

  test('Refresh reads the list and its figures again', async () => {
    const page = await dash.signedInPage();
    await page.goto(ui);
    const last = page.locator('tbody tr', { has: page.getByRole('link', { name: 'Last one' }) });
    await last.scrollIntoViewIfNeeded();
    await cell(page, lastId, 3, 'of 1');
    const added = await quietEndpoint(herald, ADMIN, p, { name: 'Added later', eventTypes: ['other'] });
    await tick(2);
    const refresh = page.getByRole('button', { name: 'Refresh' });
    await refresh.click();
    // The button at the top (scrolled to) and the row added, newest, at the top; `Last one` once
    // back in view.
    await page.getByRole('link', { name: 'Added later' }).waitFor();
    await cell(page, added, 3, 'no attempts');
    await last.scrollIntoViewIfNeeded();
    await cell(page, lastId, 3, 'of 2');
    await refresh.and(page.locator(':enabled')).waitFor();
    assert.deepEqual(dash.problems, []);
  });
});
