/**
 * Usability of the dashboard in a real browser (headless Chromium via playwright-core) against a real
 * `herald serve`: inline confirmations take the focus and give it back on Escape or Cancel; text over
 * an input's limit stays whole, says how long it is and is not sent; on a 375 px phone the tables say
 * that they scroll sideways and show where more columns are, and at desktop width they do not.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { errorOf } from '../support/browser.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-usability-0123456789';
const TIMEOUT = 15_000;
const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1280, height: 900 };

describe('dashboard usability (browser)', { timeout: 180_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let project: { id: string };
  let endpoint: { id: string };
  let eventId: string;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Usability' })
    ).body;
    endpoint = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `${receiver.url}/hooks/a-rather-long-path-for-a-narrow-screen`,
        name: 'Warehouse sync',
      })
    ).body;
    const sent = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${project.id}/events`,
      {
        type: 'order.shipped',
        payload: { order: 42 },
      },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    eventId = sent.body.id;
    await receiver.waitFor(1);
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const attempts = await api<{ data: unknown[] }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${project.id}/endpoints/${endpoint.id}/attempts`,
      );
      if (attempts.body.data.length >= 1) break;
      assert.ok(Date.now() < deadline, 'the attempt is recorded');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await receiver?.close();
  });

  /** A fresh context signed in as the operator, whose console and page errors are collected. */
  const operatorPage = (viewport = DESKTOP) => dash.page({ viewport, signedIn: true });

  /** The focused element's tag and text, e.g. "BUTTON Cancel". */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const element = document.activeElement;
      return element ? `${element.tagName} ${(element.textContent ?? '').trim()}` : 'none';
    });

  test('an inline confirmation takes the focus; Escape or Cancel closes it and returns the focus to its button', async () => {
    const page = await operatorPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/endpoints/${endpoint.id}`);
    const cases = [
      { opener: 'Delete…', confirm: /^Yes, delete/ },
      { opener: 'Rotate secret…', confirm: /^Rotate now$/ },
    ];
    for (const { opener, confirm } of cases) {
      const open = page.getByRole('button', { name: opener, exact: true });
      // Opened with the keyboard: the focus lands on the confirmation's Cancel.
      await open.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: confirm }).waitFor();
      assert.equal(await focused(page), 'BUTTON Cancel', `${opener}: focus moves into the confirmation`);
      // Escape cancels: the confirmation goes, its button is back and focused.
      await page.keyboard.press('Escape');
      await open.waitFor();
      assert.equal(await page.getByRole('button', { name: confirm }).count(), 0, `${opener}: Escape cancels`);
      assert.equal(await focused(page), `BUTTON ${opener}`, `${opener}: Escape returns the focus`);
      // Cancel does the same.
      await open.click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await open.waitFor();
      assert.equal(await focused(page), `BUTTON ${opener}`, `${opener}: Cancel returns the focus`);
    }
    // Escape from another control inside a confirmation (the rotation's grace period) cancels too.
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page.getByLabel('Old secret stops working').focus();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Rotate secret…' }).waitFor();
    assert.equal(await focused(page), 'BUTTON Rotate secret…');
    // Nothing was deleted or rotated.
    const still = await api(
      herald.url,
      ADMIN,
      'GET',
      `/api/v1/projects/${project.id}/endpoints/${endpoint.id}`,
    );
    assert.equal(still.status, 200);
    assert.deepEqual(problems, []);
  });

  test('text over an input limit stays whole, says the limit and its length, and is not sent', async () => {
    const page = await operatorPage();
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/api/')) posts.push(request.url());
    });
    await page.goto(`${herald.url}/ui/projects/${project.id}/endpoints/new`);
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/limits`);
    // Pasted (inserted as one piece of text, as a paste is).
    const name = page.getByLabel('Name', { exact: true });
    await name.focus();
    await page.keyboard.insertText('n'.repeat(230));
    assert.equal((await name.inputValue()).length, 230, 'the pasted text is not cut');
    assert.equal(await errorOf(name), 'Must be at most 200 characters long; this has 230.');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    assert.equal(await name.evaluate((input) => input === document.activeElement), true);
    // Header value over its limit: said by the headers, and not sent either.
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Token');
    const value = page.getByLabel('Header 1 value');
    await value.focus();
    await page.keyboard.insertText('v'.repeat(4100));
    assert.equal((await value.inputValue()).length, 4100);
    assert.equal(await value.getAttribute('aria-invalid'), 'true');
    const headersError = page.locator('fieldset:has(> legend:text-is("Custom headers")) > .field-error');
    assert.equal(
      await headersError.textContent(),
      'The value of X-Token: must be at most 4096 characters long; this has 4100.',
    );
    // Fixed: the messages go and the endpoint is created.
    await name.fill('n'.repeat(200));
    assert.equal(await errorOf(name), null);
    await value.fill('v'.repeat(4096));
    assert.equal(await headersError.count(), 0);
    // A bad or repeated header name: the input it is about is marked, and Create lands focus on it.
    await page.getByRole('button', { name: 'Add header' }).click();
    const name2 = page.getByLabel('Header 2 name');
    await name2.fill('Bad Header:');
    assert.equal(await headersError.textContent(), '“Bad Header:” is not a valid header name.');
    assert.equal(await name2.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Header 1 name').getAttribute('aria-invalid'), null);
    await name2.fill('x-token');
    assert.equal(await headersError.textContent(), 'x-token appears twice.');
    assert.equal(await name2.getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    assert.equal(await name2.evaluate((input) => input === document.activeElement), true);
    await page.getByRole('button', { name: 'Remove header x-token', exact: true }).click();
    assert.equal(await headersError.count(), 0);
    assert.deepEqual(posts, [], 'nothing was sent while text was too long');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Endpoint created.').waitFor();

    // The same on another form: the project name.
    await page.goto(`${herald.url}/ui/`);
    await page.getByRole('button', { name: 'New project' }).click();
    const projectName = page.getByRole('textbox', { name: 'Name', exact: true });
    await projectName.focus();
    await page.keyboard.insertText('p'.repeat(201));
    assert.equal(await errorOf(projectName), 'Must be at most 200 characters long; this has 201.');
    const before = posts.length;
    await page.getByRole('button', { name: 'Create project' }).click();
    assert.equal(await projectName.evaluate((input) => input === document.activeElement), true);
    assert.equal(posts.length, before, 'the project is not sent');
    assert.deepEqual(problems, []);
  });

  /** The scroll region of the table labelled `name`, and facts about it. */
  async function tableRegion(page: Page, name: RegExp): Promise<Locator> {
    const region = page.getByRole('region', { name });
    await region.locator('tbody tr').first().waitFor();
    return region;
  }
  const overflowOf = (region: Locator) =>
    region.evaluate((element) => element.scrollWidth - element.clientWidth);

  test('on a 375 px phone the tables say they scroll sideways and shade the edge with more columns; not on a desktop', async () => {
    const ui = `${herald.url}/ui/projects/${project.id}`;
    const screens = [
      { path: '', name: /^Endpoints/ },
      { path: `/endpoints/${endpoint.id}/history`, name: /^Delivery attempts/ },
      { path: `/events/${eventId}`, name: /^Deliveries of this event/ },
    ];
    const phone = await operatorPage(PHONE);
    for (const { path, name } of screens) {
      await phone.goto(`${ui}${path}`);
      const region = await tableRegion(phone, name);
      assert.ok((await overflowOf(region)) > 0, `${path || 'endpoints'}: the table is wider than a phone`);
      // Said in words, seen and heard: a visible line, and the region's name.
      await phone.getByText('Scroll sideways for more columns').waitFor({ state: 'visible' });
      assert.match((await region.getAttribute('aria-label')) ?? '', /scrolls sideways/);
      assert.equal(await region.getAttribute('tabindex'), '0', 'the keyboard can scroll it');
      // A shadow on the right edge, none on the left; scrolled to the end, the other way round.
      const frame = region.locator('xpath=..');
      assert.equal(await edgeOpacity(frame, '::after'), '1', `${path || 'endpoints'}: right edge shaded`);
      assert.equal(await edgeOpacity(frame, '::before'), '0');
      await region.evaluate((element) => {
        element.scrollLeft = element.scrollWidth;
      });
      await phone.waitForFunction(
        (element) => element?.parentElement?.classList.contains('more-left') ?? false,
        await region.elementHandle(),
      );
      assert.equal(await edgeOpacity(frame, '::before'), '1', 'left edge shaded at the end');
      assert.equal(await edgeOpacity(frame, '::after'), '0');
      // The page itself never scrolls sideways.
      const page = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(page <= 1, `${path || 'endpoints'}: the page scrolls sideways by ${page}px`);
    }

    const desktop = await operatorPage(DESKTOP);
    for (const { path, name } of screens) {
      await desktop.goto(`${ui}${path}`);
      const region = await tableRegion(desktop, name);
      assert.equal(await overflowOf(region), 0, `${path || 'endpoints'}: the table fits a desktop`);
      assert.equal(await desktop.getByText('Scroll sideways for more columns').count(), 0);
      assert.equal(await region.getAttribute('tabindex'), null);
      const frame = region.locator('xpath=..');
      assert.equal(await edgeOpacity(frame, '::after'), '0');
      assert.equal(await edgeOpacity(frame, '::before'), '0');
    }
    assert.deepEqual(problems, []);
  });
});

/** The computed opacity of a pseudo-element's shadow, once its transition is over. */
async function edgeOpacity(frame: Locator, pseudo: '::before' | '::after'): Promise<string> {
  await frame.page().waitForTimeout(250);
  return frame.evaluate((element, which) => getComputedStyle(element, which).opacity, pseudo);
}
