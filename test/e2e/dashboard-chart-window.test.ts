/**
 * The window an endpoint's overview counts, in a real browser against a real `herald serve`.
 * "Last 24 hours" asked the stats for the 24 hours up to the end of the current hour (the window
 * rounded up to whole buckets), so it counted 23 to 24 hours: an attempt made 23 h 58 min ago was in
 * the endpoints list's "Success (24 h)" and missing from the overview's Attempts, its rate and its
 * chart, the two pages giving two counts for the same 24 hours (likewise up to a day short of "Last
 * 30 days"). The overview now counts the period up to now, as the list does.
 * The attempt is made by a server whose clock runs 23 h 58 min behind (the preload
 * test/support/shifted-clock.ts, on the thread that sends: HERALD_DELIVERY_THREAD=false), and the
 * browser's clock is set (Playwright's page.clock) to a time less than 24 hours after the attempt
 * but in the same hour as its 24th: the window rounded up to the end of that hour then starts after
 * the attempt. Whatever the wall clock says: no wait for a part of the hour. Any console error or
 * page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-chart-window-0123';
const PRELOAD = fileURLToPath(new URL('../support/shifted-clock.ts', import.meta.url));
const BEHIND_MS = (23 * 60 + 58) * 60_000;

describe('dashboard chart window (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({
    adminToken: ADMIN,
    problemStatus: 400,
    env: {
      NODE_OPTIONS: `--import=${PRELOAD}`,
      HERALD_TEST_CLOCK_SHIFT_MS: String(-BEHIND_MS),
      HERALD_DELIVERY_THREAD: 'false',
    },
  });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let ui: string;
  let endpointId: string;
  /** The browser's now: under 24 h after the attempt, in the same UTC hour as 24 h after it. */
  let browserNow: number;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Late',
    });
    const p = `/api/v1/projects/${project.body.id}`;
    ui = `${herald.url}/ui/projects/${project.body.id}`;
    const endpoint = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `${receiver.url}/hooks`,
      name: 'Night shift',
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    endpointId = endpoint.body.id;
    const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, { type: 'shift.ended', payload: {} });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    type Attempts = { data: { startedAt: string }[] };
    for (let waited = 0; ; waited += 50) {
      const attempts = await api<Attempts>(herald.url, ADMIN, 'GET', `${p}/endpoints/${endpointId}/attempts`);
      if (attempts.body.data.length === 1) {
        const startedAt = Date.parse(attempts.body.data[0]!.startedAt);
        const age = Date.now() - startedAt;
        assert.ok(age > 23 * 3600_000, `the attempt is ${age} ms old: the server's clock is not behind`);
        // Half of what the day after the attempt is into its hour (at least a millisecond) before
        // it: the right window (24 h up to now) holds the attempt, one rounded up to the end of the
        // hour starts after it (when that day ends within a millisecond past the hour, both hold
        // it: the test then cannot tell them apart, about twice in 3.6 million runs).
        const dayAfter = startedAt + 24 * 3600_000;
        browserNow = dayAfter - Math.max(1, Math.floor((dayAfter % 3600_000) / 2));
        break;
      }
      assert.ok(waited < 10_000, 'the attempt was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(() => receiver?.close());

  test('the overview counts the same last 24 hours as the endpoints list', async () => {
    const page = await dash.page({ signedIn: true });
    await page.clock.setFixedTime(browserNow);
    await page.goto(ui);
    const row = page.locator('table tbody tr', { hasText: 'Night shift' });
    await row.getByText('of 1').waitFor();
    await page.goto(`${ui}/endpoints/${endpointId}`);
    const attempts = page.locator('.kpis div', { hasText: /^Attempts/ }).locator('dd');
    await attempts.waitFor();
    assert.equal(await attempts.innerText(), '1');
    assert.equal(
      await page
        .locator('.kpis div', { hasText: /^Success rate/ })
        .locator('dd')
        .innerText(),
      '100 %',
    );
    assert.deepEqual(problems, []);
  });
});
