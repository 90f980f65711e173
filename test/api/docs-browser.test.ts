/**
 * /docs in a real browser (headless Chromium via playwright-core) over listen(0): Swagger UI still
 * renders and runs "Try it out" under its Content-Security-Policy, with no violation, and no page
 * may frame it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchLoopbackChromium } from '../support/browser.ts';
import { startApi, type TestApi } from './helpers.ts';

describe('/docs in a browser', () => {
  let api: TestApi;
  let browser: Browser;
  let origin: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(api.app.server.address() as { port: number }).port}`;
    browser = await launchLoopbackChromium();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  test('Swagger UI renders and sends "Try it out" requests with no CSP violation', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    try {
      await page.goto(`${origin}/docs/`);
      await page.waitForSelector('.opblock', { timeout: 15_000 });
      assert.ok((await page.locator('.opblock').count()) >= 30);
      // The topbar logo's inline style (allowed by hash) applies.
      assert.ok(await page.locator('.topbar svg').count(), 'the topbar logo');

      // Try it out on GET /healthz: the request reaches the API (connect-src 'self').
      const health = page.locator('.opblock-get', { hasText: '/healthz' }).first();
      await health.locator('.opblock-summary').click();
      await health.locator('button.try-out__btn').click();
      await health.locator('button.execute').click();
      await health.locator('.live-responses-table .response-col_status').first().waitFor();
      assert.match(await health.locator('.live-responses-table').innerText(), /"status": "ok"/);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('no page can frame it, not even one of its own origin (frame-ancestors none)', async () => {
    const page = await browser.newPage();
    try {
      // A page at Herald's own origin (served by the browser: Herald has no such route).
      await page.route(`${origin}/frame`, (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<iframe id="docs" src="${origin}/docs/" width="800" height="600"></iframe>`,
        }),
      );
      await page.goto(`${origin}/frame`, { waitUntil: 'load' });
      const frame = page.frames().find((f) => f !== page.mainFrame());
      // Chromium shows its error page in the frame instead of the docs.
      assert.equal(frame?.url(), 'chrome-error://chromewebdata/');
      assert.equal(await frame?.locator('#swagger-ui').count(), 0);
    } finally {
      await page.close();
    }
  });
});
