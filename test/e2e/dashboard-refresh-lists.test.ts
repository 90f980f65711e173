/**
 * Refresh on lists read a page at a time (Events; an endpoint's History), in a real browser against
 * a real `herald serve`. Refresh read the first page again but kept the older pages read before
 * ("Load older"), joined after it: with 3 new events since, the new first page ended 3 items
 * earlier than the old one, and those 3 were shown nowhere: a silent gap in a list that looks
 * whole. Refresh now starts the list over from its first page. Any console error or page error
 * fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-refresh-lists-0123';

describe('dashboard Refresh of paged lists (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let p: string;
  let ui: string;
  let endpointId: string;
  let sent = 0;

  /** Sends `count` events and waits until the endpoint's attempts of all of them are recorded. */
  async function send(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const answer = await api(herald.url, ADMIN, 'POST', `${p}/events`, {
        type: 'tick',
        payload: { n: sent },
      });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      sent++;
    }
    for (let waited = 0; (await ids(`${p}/endpoints/${endpointId}/attempts`)).length < sent; waited += 50) {
      assert.ok(waited < 20_000, 'the attempts were never all recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The ids of a list, newest first, all of it (one page of up to 1000). */
  async function ids(path: string): Promise<string[]> {
    const read = await api<{ data: { id: string }[] }>(herald.url, ADMIN, 'GET', `${path}?limit=1000`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    return read.body.data.map((item) => item.id);
  }

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Ticker',
    });
    p = `/api/v1/projects/${project.body.id}`;
    ui = `${herald.url}/ui/projects/${project.body.id}`;
    const endpoint = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `${receiver.url}/hooks`,
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    endpointId = endpoint.body.id;
    await send(55);
  });

  after(() => receiver?.close());

  /** The ids the rows link to (events and attempts are linked by their id), in order. */
  async function shownIds(rows: Locator, pattern: RegExp): Promise<string[]> {
    const hrefs = await rows
      .locator('a')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    return hrefs.flatMap((href) => pattern.exec(href)?.slice(1, 2) ?? []);
  }

  async function rowCount(rows: Locator, count: number): Promise<void> {
    await rows.nth(count - 1).waitFor();
    assert.equal(await rows.count(), count);
  }

  /** Loads an older page, sends 3 events, refreshes: the rows are the newest of the whole list, without a gap. */
  async function refreshAfterOlder(
    page: Page,
    rows: Locator,
    pageSize: number,
    older: string,
    pattern: RegExp,
    path: string,
  ) {
    await rowCount(rows, pageSize);
    await page.getByRole('button', { name: older }).click();
    await rowCount(rows, Math.min(sent, 2 * pageSize));
    await send(3);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('button', { name: 'Refresh' }).and(page.locator(':enabled')).waitFor();
    const all = await ids(path);
    await page.waitForFunction(
      ([selector, newest]) => document.querySelector(selector)?.innerHTML.includes(newest!) ?? false,
      ['table tbody', all[0]!] as const,
    );
    const shown = await shownIds(rows, pattern);
    assert.deepEqual(shown, all.slice(0, shown.length), 'the rows are the newest, in order, none left out');
  }

  test('Events: Refresh after Load older events leaves none out', async () => {
    const page = await dash.signedInPage();
    await page.goto(`${ui}/events`);
    await refreshAfterOlder(
      page,
      page.locator('table tbody tr'),
      25,
      'Load older events',
      /\/events\/(evt_[^/?#]+)$/,
      `${p}/events`,
    );
    assert.deepEqual(problems, []);
  });

  test('History: Refresh after Load older attempts leaves none out', async () => {
    const page = await dash.signedInPage();
    await page.goto(`${ui}/endpoints/${endpointId}/history`);
    await refreshAfterOlder(
      page,
      page.locator('.history-table tbody tr'),
      50,
      'Load older attempts',
      /\/attempts\/(att_[^/?#]+)$/,
      `${p}/endpoints/${endpointId}/attempts`,
    );
    assert.deepEqual(problems, []);
  });
});
