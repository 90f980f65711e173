/**
 * The endpoints list's figures for a screen-reader and keyboard user, in a real browser against a
 * real `herald serve`, as Chromium's accessibility tree gives them. The list reads each row's
 * figures (success rate, what waits) only when the row comes in or near the window
 * (use-visible-rows.ts); a screen reader's cursor moves through the table without scrolling it, so:
 * - a row whose link gets the focus, in view or not, has its figures read (they were read only
 *   once it was scrolled into view: its cells said "…" however long the focus stayed on it);
 * - a figure not read yet says so in words, and how to have it read, and one being read says so
 *   and is aria-busy (each was an ellipsis titled "Loading", out of view or being read alike);
 * - each row's endpoint cell is its row header, so the figures' cells are read with the endpoint
 *   they belong to (a td: "75.0 % of 4", of which endpoint the reader could not tell);
 * - the figures coming in are not in a live region (2,000 rows' figures announced one by one).
 * Any console error, page error or answer from 400 up fails it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { newProject, quietEndpoint, useDashboardBrowser } from '../e2e/dashboard-browser.ts';
import type { HeraldProcess } from '../e2e/harness.ts';
import { accessibleOf } from '../support/browser.ts';

const ADMIN = 'dashboard-list-a11y-admin-token-012345';
const ENDPOINTS = 60;
/** A short window: the bottom rows are far below it and its half-window margins. */
const VIEWPORT = { width: 1280, height: 500 };

describe("the endpoints list's figures for a screen reader (browser)", { timeout: 180_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  let herald: HeraldProcess;
  let ui: string;
  /** The list's bottom row's endpoint (created first: the list is newest first). */
  let bottomId: string;

  before(async () => {
    herald = dash.herald;
    const p = await newProject(herald, ADMIN, 'Screen reader');
    ui = `${herald.url}/ui${p.slice('/api/v1'.length)}`;
    bottomId = await quietEndpoint(herald, ADMIN, p, { name: 'Bottom one', eventTypes: ['never.sent'] });
    for (let i = 1; i < ENDPOINTS; i++) {
      await quietEndpoint(herald, ADMIN, p, { name: `Quiet ${i}`, eventTypes: ['never.sent'] });
    }
  });

  /** The ids of the endpoints whose …/stats the page asked. */
  function watchStats(page: Page): string[] {
    const ids: string[] = [];
    page.on('request', (request) => {
      const stats = /\/endpoints\/([^/]+)\/stats$/.exec(new URL(request.url()).pathname);
      if (stats) ids.push(stats[1]!);
    });
    return ids;
  }

  const row = (id: string) => `table.endpoints-table tbody tr[data-row-key="${id}"]`;
  /** The row's success-rate and waiting cells (after the endpoint's, Status and Events). */
  const success = (id: string) => `${row(id)} > :nth-child(4)`;
  const waiting = (id: string) => `${row(id)} > :nth-child(5)`;

  test('a row out of view says its figures are not read yet, and reads them when its link gets the focus', async () => {
    const page = await dash.page({ signedIn: true, viewport: VIEWPORT });
    const stats = watchStats(page);
    await page.goto(ui);
    const rows = page.locator('table.endpoints-table tbody tr');
    await rows.nth(ENDPOINTS - 1).waitFor({ state: 'attached' });
    await rows.first().getByText('no attempts').waitFor();
    await page.waitForTimeout(500);
    assert.ok(!stats.includes(bottomId), 'the bottom row is not read before it is in view or focused');

    // Its cells as a screen reader's cursor finds them, the row not scrolled to.
    for (const cell of [success(bottomId), waiting(bottomId)]) {
      const unread = await accessibleOf(page, cell);
      assert.match(unread.name, /^not read yet: scroll to this row, or focus its link$/i, cell);
      assert.equal(unread.busy, false, `${cell}: not being read`);
    }

    // Its link focused, as a screen reader moves the focus (without scrolling the page): read.
    const link = page.locator(row(bottomId)).getByRole('link', { name: 'Bottom one' });
    await link.evaluate((element) => (element as HTMLElement).focus({ preventScroll: true }));
    await page.locator(row(bottomId)).getByText('no attempts').waitFor();
    await page.locator(row(bottomId)).getByText('none', { exact: true }).waitFor();
    const box = await page.locator(row(bottomId)).boundingBox();
    assert.ok(box && box.y > VIEWPORT.height, `the row is still out of view (at ${box?.y} px)`);
    assert.equal((await accessibleOf(page, success(bottomId))).name, 'no attempts');
    assert.equal(stats.filter((id) => id === bottomId).length, 1, 'read once');
    assert.deepEqual(dash.problems, []);
  });

  test("each row's endpoint cell is its header, under the column headers", async () => {
    const page = await dash.page({ signedIn: true, viewport: VIEWPORT });
    await page.goto(ui);
    await page.locator(row(bottomId)).waitFor({ state: 'attached' });
    const header = await accessibleOf(page, `${row(bottomId)} > :first-child`);
    assert.deepEqual(header, { role: 'rowheader', name: 'Bottom one http://127.0.0.1:9/hooks', busy: false });
    const columns = await page
      .locator('table.endpoints-table thead th')
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute('scope')));
    assert.deepEqual(columns, ['col', 'col', 'col', 'col', 'col']);
    assert.equal(
      (await accessibleOf(page, 'table.endpoints-table')).name,
      'Endpoints',
      'the table is named by its caption',
    );
    assert.deepEqual(dash.problems, []);
  });

  test('a figure being read says so and is busy; none of the table is a live region', async () => {
    const page = await dash.page({ signedIn: true, viewport: VIEWPORT });
    // The figures' reads held until the cells are checked, then let through.
    const held: Route[] = [];
    let hold = true;
    await page.route(/\/endpoints\/[^/]+\/stats\?/, (route) => (hold ? held.push(route) : route.continue()));
    await page.goto(ui);
    const top = page.locator('table.endpoints-table tbody tr').first();
    await top.waitFor();
    const topId = await top.getAttribute('data-row-key');
    assert.ok(topId);
    while (held.length === 0) await page.waitForTimeout(50);
    const reading = await accessibleOf(page, success(topId));
    assert.deepEqual(reading, { role: 'cell', name: 'reading', busy: true });

    hold = false;
    for (const route of held.splice(0)) await route.continue();
    await top.getByText('no attempts').waitFor();
    assert.deepEqual(await accessibleOf(page, success(topId)), {
      role: 'cell',
      name: 'no attempts',
      busy: false,
    });

    // Nothing in the table, nor around it, announces its figures as they come.
    const live = await page.evaluate(() => {
      const table = document.querySelector('table.endpoints-table');
      const isLive = (element: Element) =>
        (element.getAttribute('aria-live') ?? 'off') !== 'off' ||
        ['status', 'alert', 'log', 'marquee', 'timer'].includes(element.getAttribute('role') ?? '');
      const found: string[] = [];
      for (let at = table?.parentElement; at; at = at.parentElement)
        if (isLive(at)) found.push(`around: ${at.tagName}.${at.className}`);
      for (const element of table?.querySelectorAll('*') ?? [])
        if (isLive(element)) found.push(`in: ${element.tagName}.${element.className}`);
      return found;
    });
    assert.deepEqual(live, []);
    assert.deepEqual(dash.problems, []);
  });
});
