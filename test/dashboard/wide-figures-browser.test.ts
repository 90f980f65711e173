/**
 * Figures and text too wide for their place, in a real browser (headless Chromium via playwright-core)
 * against the dashboard as built now and a canned API on loopback:
 * - an endpoint with over a million attempts: the Overview's figures, its chart's legend and table,
 *   and the endpoints list's "of N" have thousands separators (they read "1234568"), and the
 *   attempts chart's axis labels stay inside the chart ("1000000" began left of it);
 * - at 390 px, the empty events list of a project names its API path, which has no space in it,
 *   without making the page wider than the window (it was 451 px wide);
 * - at 390 px, the Access screen with an API key listed is no wider than the window (414 px: the
 *   keys table widened its card, where it is to scroll inside it), and the key's column is readable
 *   (the other columns squeezed it to 46 px: its name and prefix broke every three characters);
 * - a project named with 200 characters and no space (and a 60-character uid) wraps in its page's
 *   heading and breadcrumbs (every page of the project was 3,293 px wide at 390 px), as does an
 *   event's type of 200 characters in the event's heading (1,433 px for 150 characters).
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  type CannedDashboard,
  cannedApiKey,
  cannedEndpoint,
  cannedEvent,
  cannedProject,
  NOW,
  startCannedDashboard,
} from '../support/canned-api.ts';

// As long as the ids Herald makes (prj_ and 26 characters).
const PROJECT = 'prj_01m96qksxg9k3b50epmrrjnab9';
const ENDPOINT = 'ep_01m96qktn23sr7kcf1p0gretbg';
const SUCCEEDED = 1_234_567;
const FAILED = 1;

const project = cannedProject({ id: PROJECT, name: 'Busy Game' });
const LONG_PROJECT = 'prj_01m96s64tpva7wv8hfgsf0cj0z';
const LONG_EVENT = 'evt_01m96s64tpva7wv8hfgsf0cj0z';
const longEvent = cannedEvent({ id: LONG_EVENT, projectId: PROJECT, type: 'T'.repeat(200) });
const longProject = cannedProject({ id: LONG_PROJECT, uid: 'u'.repeat(60), name: 'P'.repeat(200) });
const endpoint = cannedEndpoint({
  id: ENDPOINT,
  projectId: PROJECT,
  name: 'Busy receiver',
  timeoutMs: 5_000,
});

const apiKey = cannedApiKey({
  id: 'key_01m96rb1czpq767mfxhgkfxwd0',
  projectId: PROJECT,
  name: 'backend key',
});

describe('wide figures and text (browser)', { timeout: 120_000 }, () => {
  let dashboard: CannedDashboard;
  const problems: string[] = [];

  before(async () => {
    dashboard = await startCannedDashboard({
      problems,
      timeout: 15_000,
      get: (path, url) => {
        const p = `/projects/${PROJECT}`;
        const e = `${p}/endpoints/${ENDPOINT}`;
        if (path === p) return project;
        if (path === `/projects/${LONG_PROJECT}`) return longProject;
        if (path === `${p}/events/${LONG_EVENT}`) return longEvent;
        if (path === e) return endpoint;
        if (path === `${p}/endpoints`) return { data: [endpoint], nextCursor: null };
        if (path === `${p}/api-keys`) return { data: [apiKey], nextCursor: null };
        if (path === `${e}/stats`) {
          // All of them in the bucket the period ends in.
          const until = Date.parse(url.searchParams.get('until') ?? NOW);
          const start = new Date(Math.floor(until / 3_600_000) * 3_600_000).toISOString();
          return {
            data: [{ start, succeeded: SUCCEEDED, failed: FAILED, avgDurationMs: 12, p95DurationMs: 30 }],
          };
        }
        return undefined;
      },
    });
  });

  after(async () => {
    await dashboard?.close();
  });

  /**
   * One page for the whole block, signed in as the admin, in a window `width` px wide and 900 high,
   * loading `path` anew at each call: a fresh context for each view was a new Chromium renderer,
   * ~0.9 s of CPU, where loading a view again in the same page costs a fraction of it. The window
   * takes its width before the view loads, as a fresh one had it. Nothing here adds to the page
   * (no route, handler or clock), and only the admin token is kept in its sessionStorage.
   */
  let shared: Page | undefined;
  async function open(path: string, width = 1280): Promise<Page> {
    if (!shared) {
      shared = await dashboard.open(path, { width });
      return shared;
    }
    await shared.setViewportSize({ width, height: 900 });
    await shared.goto(`${dashboard.base}/ui${path}`);
    return shared;
  }
  /**
   * Done with the view: the page is put back as a fresh one is: its sessionStorage emptied (the
   * admin token comes back at the next load), left for about:blank (the view's timers and reads stop).
   */
  async function leave(page: Page): Promise<void> {
    await page.evaluate(() => sessionStorage.clear());
    await page.goto('about:blank');
  }

  test('Overview: a million attempts read with separators, and the chart axis labels stay inside it', async () => {
    for (const width of [1280, 390]) {
      const page = await open(`/projects/${PROJECT}/endpoints/${ENDPOINT}`, width);
      const card = page.locator('section[aria-labelledby="stats-title"]');
      const chart = card.locator('figure.chart').first();
      await chart.waitFor();
      const kpis = await card.locator('.kpis dd').allInnerTexts();
      assert.deepEqual(kpis.slice(0, 2), ['1,234,568', '>99.9 %']);
      const caption = await chart.locator('figcaption').innerText();
      assert.match(caption, /succeeded 1,234,567/);
      assert.match(caption, /failed 1\b/);
      // Every axis label begins and ends within the chart's drawing.
      const labels = await chart.locator('svg text.chart-y-label').evaluateAll((nodes) =>
        nodes.map((node) => {
          const box = (node as SVGTextElement).getBBox();
          return { text: node.textContent, left: box.x, right: box.x + box.width };
        }),
      );
      assert.ok(labels.length >= 2);
      for (const label of labels) {
        assert.ok(label.left >= 0, `${width} px: axis label ${label.text} begins at ${label.left}`);
      }
      assert.deepEqual(
        labels.map((label) => label.text),
        ['0', '1M', '2M'],
      );
      await card.getByText('Show the figures as a table').click();
      const row = card.locator('.chart-data tbody tr', { hasText: '1,234,567' });
      assert.equal(await row.count(), 1);
      await leave(page);
    }
    assert.deepEqual(problems, []);
  });

  test('Endpoints list: a million attempts in 24 h read with separators', async () => {
    const page = await open(`/projects/${PROJECT}`);
    const row = page.locator('table.endpoints-table tbody tr', { hasText: 'Busy receiver' });
    await row.getByText('of 1,234,568').waitFor();
    assert.match(await row.innerText(), />99\.9 % of 1,234,568/);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('At 390 px, the empty events list names its API path within the window', async () => {
    const page = await open(`/projects/${PROJECT}/events`, 390);
    await page.getByText('No events yet').waitFor();
    await page.getByText(`/api/v1/projects/${PROJECT}/events`, { exact: false }).waitFor();
    const [scrollWidth, clientWidth] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      document.documentElement.clientWidth,
    ]);
    assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth} px wide in a ${clientWidth} px window`);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('At 390 px, the Access screen with a key listed is no wider than the window', async () => {
    const page = await open(`/projects/${PROJECT}/access`, 390);
    await page.locator('table.api-keys-table').getByText('backend key').waitFor();
    const [scrollWidth, clientWidth] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      document.documentElement.clientWidth,
    ]);
    assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth} px wide in a ${clientWidth} px window`);
    // The key's column is readable: its prefix on one line, no word of its name broken (the other
    // columns squeezed it to 46 px, three or four characters a line).
    const lines = await page.locator('table.api-keys-table td.key-name').evaluate((cell) => {
      const linesOf = (element: Element | null) =>
        new Set([...(element?.getClientRects() ?? [])].map((rect) => Math.round(rect.top))).size;
      return { prefix: linesOf(cell.querySelector('code')), name: linesOf(cell.querySelector('bdi')) };
    });
    assert.equal(lines.prefix, 1, `the key's prefix takes ${lines.prefix} lines`);
    assert.ok(lines.name <= apiKey.name.split(' ').length, `the key's name takes ${lines.name} lines`);
    // The table scrolls inside its card instead; its Revoke is reached so.
    await page
      .getByRole('button', { name: /^Revoke/ })
      .last()
      .scrollIntoViewIfNeeded();
    assert.ok(
      await page
        .getByRole('button', { name: /^Revoke/ })
        .last()
        .isVisible(),
    );
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test("A project's name and an event's type without spaces wrap in their headings", async () => {
    for (const width of [1280, 390]) {
      const page = await open(`/projects/${PROJECT}/events/${LONG_EVENT}`, width);
      await page.getByRole('heading', { name: longEvent.type }).waitFor();
      const [scrollWidth, clientWidth] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      assert.ok(scrollWidth <= clientWidth, `${width} px: the event's page is ${scrollWidth} px wide`);
      await leave(page);
    }
    for (const width of [1280, 390]) {
      const page = await open(`/projects/${LONG_PROJECT}`, width);
      await page.getByRole('heading', { name: longProject.name }).waitFor();
      await page
        .getByText('No endpoints yet')
        .or(page.getByRole('button', { name: 'Add endpoint' }))
        .first()
        .waitFor();
      const [scrollWidth, clientWidth] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      assert.ok(scrollWidth <= clientWidth, `${width} px: the page is ${scrollWidth} px wide`);
      await leave(page);
    }
    assert.deepEqual(problems, []);
  });
});
