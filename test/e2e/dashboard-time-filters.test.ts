/**
 * The From and To filters of Events and of an endpoint's History, in a real browser against a real
 * `herald serve`. The fields hold minutes (datetime-local) while events and attempts have
 * milliseconds, and To was sent as the start of its minute: an event received at 10:42:31 was not
 * found with To 10:42, though the page shows it received at 10:42 (and From 10:42 To 10:42 found
 * nothing at all). To now takes in the whole minute it names, as the API's inclusive `until` does
 * for the time it is given.
 * Times were shown in the browser's zone without saying which, on pages that also show times in
 * UTC (an attempt's body `timestamp`, its response's Date header): an attempt "at 07:03 PM" beside
 * a body saying 00:03Z. Now each time names its zone.
 * History opened with an outcome its select does not offer (`?status=pending`) sent it and showed
 * the API's 400 as written, "querystring.status: must be one of succeeded, failed", under a select
 * saying All outcomes: it now shows all outcomes, as the select says.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-time-filters-0123';

describe('dashboard time filters (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let ui: string;
  let endpointId: string;
  let createdAt: string;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Clocks',
    });
    const p = `/api/v1/projects/${project.body.id}`;
    ui = `${herald.url}/ui/projects/${project.body.id}`;
    const endpoint = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `${receiver.url}/hooks`,
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    endpointId = endpoint.body.id;
    // Not in the first millisecond of a minute, where To's start and end would both find it.
    for (;;) {
      if (new Date().getUTCSeconds() > 0 && new Date().getUTCSeconds() < 58) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const sent = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/events`, {
      type: 'clock.struck',
      payload: { hour: 10 },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const event = await api<{ createdAt: string }>(herald.url, ADMIN, 'GET', `${p}/events/${sent.body.id}`);
    createdAt = event.body.createdAt;
    for (let waited = 0; ; waited += 50) {
      const attempts = await api<{ data: unknown[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/endpoints/${endpointId}/attempts`,
      );
      if (attempts.body.data.length === 1) break;
      assert.ok(waited < 10_000, 'the attempt was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(() => receiver?.close());

  /** The minute `iso` falls in, as the page's datetime-local fields write it (the browser's zone). */
  function minuteOf(page: Page, iso: string): Promise<string> {
    return page.evaluate((at) => {
      const date = new Date(at);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    }, iso);
  }

  async function countOf(rows: Locator, count: number): Promise<void> {
    await rows
      .nth(count - 1)
      .waitFor()
      .catch(() => {});
    assert.equal(await rows.count(), count);
  }

  test('To takes in the whole minute it names, on Events and on History', async () => {
    const page = await dash.page({ signedIn: true });
    await page.goto(`${ui}/events`);
    const minute = await minuteOf(page, createdAt);
    const events = page.locator('table tbody tr');
    await countOf(events, 1);
    await page.getByLabel('From').fill(minute);
    await page.getByLabel('To').fill(minute);
    await page.waitForURL(/until=/);
    await events.getByText('clock.struck').waitFor();
    await countOf(events, 1);

    await page.goto(`${ui}/endpoints/${endpointId}/history`);
    const attempts = page.locator('.history-table tbody tr');
    await countOf(attempts, 1);
    await page.getByLabel('From').fill(minute);
    await page.getByLabel('To').fill(minute);
    await page.waitForURL(/until=/);
    await attempts.getByText('clock.struck').waitFor();
    await countOf(attempts, 1);
    assert.equal(await page.getByLabel('To').inputValue(), minute, 'To still shows the minute picked');
    assert.deepEqual(problems, []);
  });

  test('History opened with an outcome it does not offer shows every outcome, as its select says', async () => {
    const page = await dash.page({ signedIn: true });
    // A link typed by hand or kept from elsewhere: `pending` is a delivery's status, no attempt's.
    await page.goto(`${ui}/endpoints/${endpointId}/history?status=pending`);
    await page.locator('.history-table tbody tr').getByText('clock.struck').waitFor();
    assert.equal(await page.getByLabel('Outcome').inputValue(), '', 'All outcomes');
    assert.deepEqual(problems, [], 'no 400, nor its `querystring.status: …` in a banner');
  });

  test("an attempt's time says in which zone it is shown", async () => {
    const page = await dash.page({ signedIn: true, timezoneId: 'Asia/Tokyo' });
    await page.goto(`${ui}/endpoints/${endpointId}/history`);
    await page.locator('.history-table tbody tr a').first().click();
    const time = page.locator('.facts div', { hasText: /^Time/ }).locator('dd');
    await time.waitFor();
    const tokyo = new Intl.DateTimeFormat('en-US', {
      timeZone: 'Asia/Tokyo',
      hour: '2-digit',
      minute: '2-digit',
    }).format(new Date(createdAt));
    const shown = await time.innerText();
    assert.ok(shown.includes(tokyo.slice(0, 5)), `${shown} is at ${tokyo} in Tokyo`);
    assert.match(shown, /GMT\+9\b/);
    assert.deepEqual(problems, []);
  });
});
