/**
 * The Events list when some events' deliveries cannot be read, in a real browser against a real
 * `herald serve`. Each listed event's first deliveries are read apart (GET …/events/:event/
 * deliveries); one that failed (here the admin token's API rate limit, 429, as a busy dashboard
 * meets it) left its cell at "…" for good, which reads as "still loading": the failure was shown
 * as nothing, and the deliveries (failed ones among them) as not there yet. Now such a cell says
 * they could not be read, and links to the event's page. Any page error fails the test; console
 * errors other than the 429s it asks for too.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-events-unread-0123';

describe('dashboard events list with unread deliveries (browser)', { timeout: 120_000 }, () => {
  // 12 requests a minute for the admin token: the page's first reads pass, its 25 delivery reads cannot all.
  const dash = useDashboardBrowser({ adminToken: ADMIN, env: { HERALD_API_RATE_LIMIT: '12' } });
  const { problems } = dash;
  let herald: HeraldProcess;
  let ui: string;

  before(async () => {
    herald = dash.herald;
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Busy',
    });
    assert.equal(project.status, 201);
    ui = `${herald.url}/ui/projects/${project.body.id}`;
    // The rest with a key of the project: its own budget.
    const key = await api<{ key: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${project.body.id}/api-keys`,
      {
        name: 'setup',
      },
    );
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const p = `/api/v1/projects/${project.body.id}`;
    const endpoint = await api(herald.url, key.body.key, 'POST', `${p}/endpoints`, {
      url: 'http://127.0.0.1:9/down',
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const events = Array.from({ length: 25 }, (_, n) => ({ type: 'order.paid', payload: { n } }));
    const sent = await api(herald.url, key.body.key, 'POST', `${p}/events/batch`, { events });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
  });

  test('a cell whose deliveries could not be read says so, and links to the event', async () => {
    const page = await dash.page({ signedIn: true });
    dash.expectConsole = /status of 429/;
    await page.goto(`${ui}/events`);
    const rows = page.locator('table tbody tr');
    await rows.nth(24).waitFor();
    const unread = rows.filter({ hasText: 'Not read' });
    await unread.first().waitFor();
    // Every cell ends read or saying it was not: none stays "…".
    await page.waitForFunction(
      () => ![...document.querySelectorAll('table tbody tr')].some((row) => row.textContent?.includes('…')),
    );
    const link = unread.first().getByRole('link', { name: /Not read/ });
    assert.match((await link.getAttribute('href')) ?? '', /\/events\/evt_/);
    assert.deepEqual(problems, []);
  });
});
