/**
 * The Copy buttons where the browser has no Clipboard API, in a real browser against a real
 * `herald serve`. navigator.clipboard exists only in a secure context, so a dashboard served over
 * plain http from a host other than localhost (http://herald.internal:8080, a LAN address) has
 * none: a reviewer found every Copy button (secret, portal link, API key, code blocks) answered
 * "Copy failed: select the text" there. Such a page is stood for here by removing the API before the
 * app loads (the test's own reference to it reads back what was copied).
 * An attempt's page shows its request body formatted (indented JSON), and its Copy copied that
 * text: not the bytes that were sent and signed, so a developer checking a signature against the
 * copied body got a mismatch (and another Content-Length). Copy now gives the body as sent.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-copy-buttons-0123';

declare global {
  interface Window {
    /** The clipboard's text, through the API the page itself no longer has. */
    readClipboard?: () => Promise<string>;
  }
}

describe('dashboard Copy buttons without the Clipboard API (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let p: string;
  let endpointId: string;

  before(async () => {
    herald = dash.herald;
    p = await newProject(herald, ADMIN, 'Glass Moon');
    endpointId = await quietEndpoint(herald, ADMIN, p, { name: 'Copied' });
  });

  /** A signed-in page as on plain http: no navigator.clipboard. */
  async function insecurePage(): Promise<Page> {
    const page = await dash.page({ signedIn: true });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: herald.url });
    await page.addInitScript(() => {
      const real = navigator.clipboard;
      window.readClipboard = () => real.readText();
      Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
    });
    return page;
  }

  const clipboard = (page: Page) => page.evaluate(() => window.readClipboard!());

  test('the revealed secret is copied, and the focus stays on Copy', async () => {
    const page = await insecurePage();
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${endpointId}`);
    assert.equal(await page.evaluate(() => 'clipboard' in navigator && navigator.clipboard), undefined);
    await page.getByRole('button', { name: 'Reveal' }).click();
    const copy = page.locator('.secret-row').getByRole('button', { name: 'Copy' });
    await copy.focus();
    const secret = await page.getByTestId('secret-value').innerText();
    assert.match(secret, /^whsec_/);
    await page.keyboard.press('Enter');
    await page.locator('.secret-row').getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await clipboard(page), secret);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Copied');
    assert.deepEqual(problems, []);
  });

  test('a new portal link is copied', async () => {
    const page = await insecurePage();
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/access`);
    await page.getByRole('button', { name: 'Create portal link' }).click();
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.match(await clipboard(page), /\/ui\/portal#token=hpt_/);
    assert.deepEqual(problems, []);
  });

  test("an attempt's request body is copied as it was sent and signed, not as shown formatted", async () => {
    const receiver = await startReceiver();
    try {
      const made = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
        url: `${receiver.url}/hooks`,
        eventTypes: ['seat.booked'],
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, {
        type: 'seat.booked',
        payload: { seat: '12A', guests: [{ name: 'Zoë' }] },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      const [received] = await receiver.waitFor(1);
      type Attempts = { data: { id: string; request: { body: string } }[] };
      let attempts: Attempts = { data: [] };
      for (let waited = 0; attempts.data.length === 0; waited += 50) {
        assert.ok(waited < 10_000, 'the attempt was never recorded');
        await new Promise((resolve) => setTimeout(resolve, 50));
        attempts = (await api<Attempts>(herald.url, ADMIN, 'GET', `${p}/endpoints/${made.body.id}/attempts`))
          .body;
      }
      const attempt = attempts.data[0]!;
      assert.equal(attempt.request.body, received!.body, 'the API holds the body as sent');
      const page = await insecurePage();
      await page.goto(
        `${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${made.body.id}/attempts/${attempt.id}`,
      );
      const copy = page.getByRole('button', { name: 'Copy Request body' });
      await copy.click();
      await page.getByRole('button', { name: 'Copied' }).waitFor();
      assert.equal(await clipboard(page), received!.body);
      assert.deepEqual(problems, []);
    } finally {
      await receiver.close();
    }
  });
});
