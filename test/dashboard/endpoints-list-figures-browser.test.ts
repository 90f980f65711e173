/**
 * The endpoints list's figures (success rate over 24 h from …/stats, what waits from
 * …/deliveries?limit=1) in a real browser against a real `herald serve`, for a project of 2,000
 * endpoints. The list read both figures of every row, 50 rows at a time, at each visit: 4,000
 * requests for a window that shows some twenty rows, each chunk's answer drawing all 2,000 rows
 * again. It now reads the figures of the rows in and near the window, and those of the rows
 * scrolled into view when they come. Any console error, page error or answer from 400 up fails it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, quietEndpoint, useDashboardBrowser } from '../e2e/dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from '../e2e/harness.ts';
import { until } from '../support/wait-until.ts';

const ADMIN = 'dashboard-list-figures-admin-token-0123';
const ENDPOINTS = 2000;
/** Created first, so listed last (newest first): its row is the list's bottom one. */
const KNOWN = 'Known receiver';

describe('the endpoints list reads the figures of the rows in view (browser)', { timeout: 300_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  let herald: HeraldProcess;
  let receiver: Receiver;
  let ui: string;
  let knownId: string;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    const p = await newProject(herald, ADMIN, 'Many receivers');
    ui = `${herald.url}/ui${p.slice('/api/v1'.length)}`;
    // Its failed attempt is tried again in an hour: 1 pending for the rest of the test.
    knownId = await quietEndpoint(herald, ADMIN, p, {
      url: `${receiver.url}/hooks`,
      name: KNOWN,
      eventTypes: ['known.ping'],
      retrySchedule: [3600],
    });
    // The others receive nothing (a type never sent); 8 creates at a time.
    let next = 1;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ENDPOINTS) {
          const i = next++;
          await quietEndpoint(herald, ADMIN, p, { name: `Quiet ${i}`, eventTypes: ['quiet.never'] });
        }
      }),
    );
    // 3 answered 200, then 1 answered 500: 75.0 % of 4 attempts.
    for (let i = 0; i < 4; i++) {
      if (i === 3) receiver.respondWith(500);
      const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, {
        type: 'known.ping',
        payload: { i },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      await receiver.waitFor(i + 1, 20_000);
    }
    await until('the 4 attempts recorded', async () => {
      const read = await api<{ data: { attempts?: number }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/endpoints/${knownId}/attempts?limit=10`,
      );
      return read.body.data.length === 4;
    });
  });

  after(async () => {
    await receiver?.close();
  });

  /** The page's reads of endpoint figures: the ids whose …/stats, and whose …/deliveries, it asked. */
  function watchFigureReads(page: Page) {
    const reads = { stats: [] as string[], deliveries: [] as string[] };
    page.on('request', (request) => {
      const url = new URL(request.url());
      const figure = /\/endpoints\/([^/]+)\/(stats|deliveries)$/.exec(url.pathname);
      if (figure?.[2] === 'stats') reads.stats.push(figure[1]!);
      if (figure?.[2] === 'deliveries' && url.searchParams.get('limit') === '1')
        reads.deliveries.push(figure[1]!);
    });
    return reads;
  }

  test('only the rows in and near the window are read, those scrolled to when they come, and the figures are right', async (t) => {
    const page = await dash.signedInPage();
    const reads = watchFigureReads(page);
    await page.goto(ui);
    const rows = page.locator('table.endpoints-table tbody tr');
    await rows.nth(ENDPOINTS - 1).waitFor({ state: 'attached' });
    assert.equal(await rows.count(), ENDPOINTS);
    // The top rows' figures come without anything done (none sent to them: no attempts, none waiting).
    await rows.first().getByText('no attempts').waitFor();
    await rows.first().getByText('none', { exact: true }).waitFor();
    await page.waitForTimeout(1000);
    const fit = await page.evaluate(() => {
      const row = document.querySelector('table.endpoints-table tbody tr');
      return Math.ceil(window.innerHeight / (row?.getBoundingClientRect().height ?? 1));
    });
    const first = { stats: reads.stats.length, deliveries: reads.deliveries.length };
    assert.ok(
      first.stats <= 2 * fit && first.deliveries <= 2 * fit,
      `before scrolling, at most ${2 * fit} of each (twice the ${fit} rows a window holds): read ${first.stats} stats and ${first.deliveries} deliveries of ${ENDPOINTS} endpoints`,
    );
    assert.ok(!reads.stats.includes(knownId), 'the bottom row is not read before it is in view');

    // To the bottom: its rows are read, the known endpoint's figures shown as they are.
    const known = rows.filter({ hasText: KNOWN });
    await known.scrollIntoViewIfNeeded();
    await known.getByText('75.0 %').waitFor();
    assert.match(await known.innerText(), /75\.0 %\s*of 4/);
    await known.getByText('1 pending').waitFor();
    await page.waitForTimeout(1000);
    const scrolled = {
      stats: reads.stats.length - first.stats,
      deliveries: reads.deliveries.length - first.deliveries,
    };
    assert.ok(
      scrolled.stats <= 2 * fit && scrolled.deliveries <= 2 * fit,
      `at the bottom, at most ${2 * fit} more of each: read ${scrolled.stats} stats and ${scrolled.deliveries} deliveries`,
    );
    assert.deepEqual(
      [
        reads.stats.filter((id) => id === knownId).length,
        reads.deliveries.filter((id) => id === knownId).length,
      ],
      [1, 1],
      'the bottom row read once of each',
    );
    assert.equal(new Set(reads.stats).size, reads.stats.length, 'no endpoint read twice');

    // Refresh (its button at the top, scrolled to) reads the figures of the rows in view again, and
    // those of the bottom ones when they are back in view.
    const top = await rows.first().getAttribute('data-row-key');
    const readsOf = (id: string | null) => reads.stats.filter((read) => read === id).length;
    await page.getByRole('button', { name: 'Refresh' }).click();
    await until('the top row read again', () => readsOf(top) === 2);
    assert.equal(readsOf(knownId), 1, 'the bottom row, out of view, not read again yet');
    await known.scrollIntoViewIfNeeded();
    await until('the bottom row read again', () => readsOf(knownId) === 2);
    await known.getByText('75.0 %').waitFor();
    await known.getByText('1 pending').waitFor();
    t.diagnostic(
      `rows a window holds: ${fit}; figure reads before scrolling: ${first.stats} stats, ${first.deliveries} deliveries; at the bottom: ${scrolled.stats}, ${scrolled.deliveries} more`,
    );
    assert.deepEqual(dash.problems, []);
  });
});
