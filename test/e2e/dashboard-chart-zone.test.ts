/**
 * The time zone of an endpoint's charts, in a real browser against a real `herald serve` on
 * SQLite. The charts' time axis, their bars' titles and the figures' table gave times in the
 * browser's zone without naming it ("Dec 5, 12:00 AM"), on a page whose other times name theirs and
 * whose bodies' timestamps are in UTC: a reader in Tokyo could not tell a 09:00 from 00:00 UTC.
 * Each now names its zone. Any console error, page error or answer from 400 up fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import type { HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-chart-zone-0123';

describe('dashboard chart times name their zone (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  let herald: HeraldProcess;
  let ui: string;

  before(async () => {
    herald = dash.herald;
    const p = await newProject(herald, ADMIN, 'Charts');
    const endpointId = await quietEndpoint(herald, ADMIN, p, { name: 'Charted' });
    ui = `${herald.url}/ui${p.replace('/api/v1', '')}/endpoints/${endpointId}`;
  });

  test('the axis labels, bar titles and table rows of a browser in Tokyo say GMT+9', async () => {
    const page = await dash.page({ signedIn: true, timezoneId: 'Asia/Tokyo' });
    await page.goto(ui);
    const axis = page.locator('svg text.chart-label:not(.chart-y-label)');
    await axis.first().waitFor();
    const labels = await axis.allTextContents();
    assert.equal(labels.length, 6, labels.join(' | '));
    for (const label of labels) assert.match(label, /GMT\+9/, label);
    const titles = await page.locator('svg title').allTextContents();
    assert.ok(titles.length > 0);
    for (const title of titles) assert.match(title, /GMT\+9/, title);
    await page.getByText('Show the figures as a table').click();
    const rows = await page.locator('.chart-data tbody th[scope="row"]').allTextContents();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.match(row, /GMT\+9/, row);
    assert.deepEqual(dash.problems, []);
  });
});
