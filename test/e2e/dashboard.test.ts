/**
 * The dashboard in a real browser (headless Chromium via playwright-core) against a real
 * `herald serve` and a loopback receiver: the operator signs in, creates an endpoint, sends a test
 * event, finds it in History, opens the attempt, resends it and rotates the secret; a portal link
 * shows its own project and nothing else, the older secret still valid after a rotation, and says
 * when it was revoked. Any console error or page error fails the test.
 * With HERALD_UPDATE_SCREENSHOTS=1 it takes the screenshots in docs/screenshots/ (the ones the
 * README shows); a plain test run takes none (they asserted nothing and cost ~4 s), so it leaves the
 * work tree clean.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { STATE_REFRESH_MS } from '../../src/dashboard/app/endpoint-state.ts';
import { errorOf } from '../support/browser.ts';
import { refusedPort } from '../support/refused-port.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** Where the screenshots go, or null for none. */
const SHOTS = process.env.HERALD_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : null;
const ADMIN = 'e2e-admin-token-0123456789abcdef';
const TIMEOUT = 15_000;

describe('dashboard (browser)', { timeout: 180_000 }, () => {
  // A 5xx is a problem too; a 4xx a step causes on purpose is let pass by dash.expectConsole.
  const dash = useDashboardBrowser({
    adminToken: ADMIN,
    env: { HERALD_RETRY_SCHEDULE: '1,1,1', HERALD_RETRY_JITTER: '0' },
    problemStatus: 500,
  });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let projectA: { id: string; name: string };
  let projectB: { id: string; name: string };

  before(async () => {
    herald = dash.herald;
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    receiver = await startReceiver();
    const put = await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/level.completed', {
      description: 'A player finished a level.',
      schema: { type: 'object', properties: { player: { type: 'string' }, level: { type: 'integer' } } },
      example: { player: 'p_42', level: 7, score: 9100 },
    });
    assert.ok(put.status < 300, `PUT event type: ${put.status} ${JSON.stringify(put.body)}`);
    await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/score.high', {
      description: 'A new high score.',
      example: { player: 'p_42', score: 12000 },
    });
    projectA = (
      await api<{ id: string; name: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
        name: 'Moon Quest',
      })
    ).body;
    projectB = (
      await api<{ id: string; name: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
        name: 'Secret Rival',
      })
    ).body;
    assert.ok(projectA.id && projectB.id, 'projects created');
  });

  /** Fails with the problems seen, and the server's error log lines to explain any 5xx. */
  function assertNoProblems(): void {
    const serverErrors = herald.logLines().filter((line) => Number(line['level']) >= 50);
    assert.deepEqual(problems, [], JSON.stringify(serverErrors, null, 2));
  }

  after(async () => {
    await receiver?.close();
  });

  /** A fresh browser context (own sessionStorage) whose console errors are collected. */
  const newPage = (viewport = { width: 1280, height: 900 }) => dash.page({ viewport });

  const shot = async (page: Page, name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  test('operator: sign in, create endpoint, test event, history, attempt, resend, rotate secret, portal link', async () => {
    const page = await newPage();
    await page.goto(`${herald.url}/ui/`);

    // Sign in with the keyboard only.
    await page.getByLabel('Admin token').focus();
    await page.keyboard.type('not-the-token-123');
    dash.expectConsole = /status of 401/;
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    dash.expectConsole = null;
    await page.getByLabel('Admin token').fill(ADMIN);
    await shot(page, 'sign-in');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByRole('link', { name: 'Moon Quest' }).waitFor();
    await shot(page, 'projects');

    // Endpoints: empty state, then the form.
    await page.getByRole('link', { name: 'Moon Quest' }).click();
    await page.getByText('No endpoints yet').waitFor();
    await page.getByRole('link', { name: 'Add endpoint' }).first().click();
    await page.getByLabel('Endpoint URL').fill('not a url');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('This is not a valid URL.').waitFor();
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/hooks/moon`);
    await page.getByLabel('Name', { exact: true }).fill('CRM sync');
    await page.getByLabel('Description').fill('Creates a CRM contact when a level is completed.');
    await page.getByText('A player finished a level.').waitFor();
    await page.getByRole('checkbox', { name: /level\.completed/ }).check();
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Api-Key');
    await page.getByLabel('Header 1 value').fill('crm-123');
    await page.getByLabel('Retry schedule (seconds)').fill('1, 1');
    await shot(page, 'endpoint-form');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Endpoint created.').waitFor();
    await page.getByRole('heading', { name: 'CRM sync' }).waitFor();

    // Send a test event and find it in History.
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText(/Test event .* queued/).waitFor();
    const [delivered] = await receiver.waitFor(1);
    assert.equal(delivered?.headers['x-api-key'], 'crm-123');
    assert.match(String(delivered?.headers['webhook-signature']), /^v1,/);
    await page.getByRole('link', { name: 'See it in History' }).click();
    const rows = page.locator('.history-table tbody tr');
    await waitForRows(page, rows, 1);
    await page.locator('.history-table').getByText('level.completed').first().waitFor();
    await page.locator('.history-table').getByText('200').first().waitFor();
    await shot(page, 'history');

    // Open the attempt: request and response, then resend.
    await rows.first().getByRole('link').click();
    await page.getByRole('heading', { name: /Attempt #1/ }).waitFor();
    await page.getByText(/webhook-signature: v1,/).waitFor();
    await page.getByText('HTTP 200').waitFor();
    await shot(page, 'attempt');
    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByText('Delivery queued again').waitFor();
    await receiver.waitFor(2);
    await page.getByRole('link', { name: '← Back to history' }).click();
    await waitForRows(page, rows, 2);

    // Example tab: the signed request for the endpoint's scheme.
    await page.getByRole('link', { name: 'Example' }).click();
    await page.getByText('"score": 9100').first().waitFor();
    await page.getByText(/webhook-signature: v1,<base64 HMAC-SHA256/).waitFor();
    await shot(page, 'example');

    // Secret: reveal, rotate, and the new one differs.
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('button', { name: 'Reveal' }).click();
    const secret = page.getByTestId('secret-value');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="secret-value"]')?.textContent?.startsWith('whsec_'),
    );
    const before = await secret.textContent();
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page.getByLabel('Old secret stops working').selectOption('0');
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByText('Secret rotated.').waitFor();
    const afterRotation = await secret.textContent();
    assert.match(afterRotation ?? '', /^whsec_/);
    assert.notEqual(afterRotation, before);
    await page.locator('.chart svg').first().waitFor();
    // The waiting deliveries card loaded (its counts shown), not its spinner, in the screenshot.
    await page.locator('section[aria-labelledby="waiting-title"] .kpis').waitFor();
    await shot(page, 'endpoint-overview');

    // Events log with per-endpoint delivery status.
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.locator('table').getByText('level.completed').first().waitFor();
    await shot(page, 'events');

    // Portal link for project A.
    await page.getByRole('link', { name: 'Access' }).click();
    await page.getByRole('button', { name: 'Create portal link' }).click();
    const portalUrl = (await page.getByTestId('portal-url').textContent()) ?? '';
    assert.match(portalUrl, /\/ui\/portal#token=hpt_/);

    const portal = await newPage();
    await portal.goto(portalUrl.replace(/^https?:\/\/[^/]+/, herald.url));
    await portal.getByRole('heading', { name: 'Moon Quest' }).waitFor();
    await portal.getByRole('link', { name: 'CRM sync' }).waitFor();
    assert.equal(new URL(portal.url()).hash, '', 'the token leaves the address bar');
    assert.equal(await portal.getByText('Secret Rival').count(), 0);
    assert.equal(await portal.getByRole('link', { name: 'Projects' }).count(), 0);
    assert.equal(await portal.getByRole('link', { name: 'Access' }).count(), 0);
    assert.equal(await portal.getByRole('button', { name: 'Sign out' }).count(), 0);
    await shot(portal, 'portal');

    // The portal's token reaches its own project only, and cannot mint links or keys.
    const token = new URLSearchParams(new URL(portalUrl).hash.slice(1)).get('token') ?? '';
    assert.equal(
      (await api(herald.url, token, 'GET', `/api/v1/projects/${projectA.id}/endpoints`)).status,
      200,
    );
    assert.equal(
      (await api(herald.url, token, 'GET', `/api/v1/projects/${projectB.id}/endpoints`)).status,
      404,
    );
    assert.notEqual(
      (await api(herald.url, token, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {})).status,
      201,
    );
    assert.notEqual(
      (await api(herald.url, token, 'POST', `/api/v1/projects/${projectA.id}/api-keys`, { name: 'x' }))
        .status,
      201,
    );
    assert.equal((await api(herald.url, token, 'GET', '/api/v1/projects')).status >= 400, true);

    // Phone width: the endpoint page stays usable.
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(portalUrl.replace(/^https?:\/\/[^/]+/, herald.url));
    await phone.getByRole('link', { name: 'CRM sync' }).click();
    await phone.getByRole('heading', { name: 'CRM sync' }).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page scrolls sideways on a phone by ${overflow}px`);
    await shot(phone, 'portal-phone');

    assertNoProblems();
  });

  /**
   * A page of its own signed in as the operator (the token in sessionStorage, as the sign-in form
   * leaves it), for a page whose requests are counted or with a clock installed; the others take
   * the block's one (dash.signedInPage()).
   */
  async function operatorPage(): Promise<Page> {
    const page = await newPage();
    await page.addInitScript((token) => sessionStorage.setItem('herald.adminToken', token), ADMIN);
    return page;
  }

  /** Waits until the API holds `count` attempts of an endpoint. */
  async function attemptsOf(project: string, endpoint: string, count: number): Promise<void> {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const page = await api<{ data: unknown[] }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${project}/endpoints/${endpoint}/attempts`,
      );
      if (page.body.data.length >= count) return;
      assert.ok(Date.now() < deadline, `${count} attempts of ${endpoint}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test("the server's refusals show next to the field they name, once, and without a useless Try again", async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Forms' })
    ).body;
    await api(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Taken', uid: 'forms-taken' });
    const endpoint = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `${receiver.url}/forms`,
      })
    ).body;
    const page = await dash.signedInPage();
    const ui = `${herald.url}/ui/projects/${project.id}`;
    dash.expectConsole = /status of (400|409|422)/;

    // New endpoint: a URL only the server refuses, then a header value it cannot send.
    await page.goto(`${ui}/endpoints/new`);
    const url = page.getByLabel('Endpoint URL');
    await url.fill('http:///x');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Must name a host after "//"', { exact: false }).waitFor();
    assert.match((await errorOf(url)) ?? '', /^Must name a host after "\/\/"/);
    await url.fill(`${receiver.url}/forms-2`);
    assert.equal(await errorOf(url), null, 'editing the field answers its error');
    // A Content-Type that does not describe the body of the method and scheme, a header Herald
    // sets, or a value HTTP cannot carry: the editor refuses each itself, in the server's words
    // (until 2026-12-06 it left a Content-Type to the server).
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('Content-Type');
    await page.getByLabel('Header 1 value').fill('text/plain');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const headersError = page.locator('fieldset', { hasText: 'Custom headers' }).locator('.field-error');
    await headersError.waitFor();
    // The header as it was written, then the reason.
    assert.match(
      (await headersError.textContent()) ?? '',
      /^Content-Type: text\/plain does not describe the body/,
    );
    assert.equal(await page.getByLabel('Header 1 value').getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Remove header Content-Type' }).click();
    // The inputs say when text is over the API's limit (docs/api.md "Limits"), and send nothing
    // (dashboard-usability.test.ts)…
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('n'.repeat(500));
    assert.equal((await name.inputValue()).length, 500, 'nothing is cut');
    assert.equal(await errorOf(name), 'Must be at most 200 characters long; this has 500.');
    // …and should the server's limit be lower, its refusal still shows by the field.
    await name.evaluate((input) => input.removeAttribute('data-over-limit'));
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Must be at most 200 characters long', { exact: true }).waitFor();
    assert.equal(await errorOf(name), 'Must be at most 200 characters long');
    assert.equal(await page.locator('.banner-error').count(), 0, 'no banner repeats it');
    assert.equal(await page.getByText('(body.name)').count(), 0);

    // History and Events: From later than To, by the date inputs, with nothing to try again.
    const later = new Date(Date.now() - 3600_000).toISOString();
    const earlier = new Date(Date.now() - 7200_000).toISOString();
    for (const screen of [`${ui}/endpoints/${endpoint.id}/history`, `${ui}/events`]) {
      await page.goto(`${screen}?since=${later}&until=${earlier}`);
      await page.getByText('Must not be later than To.').waitFor();
      assert.equal(await errorOf(page.getByLabel('From')), 'Must not be later than To.');
      assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0);
      assert.equal(await page.getByText('querystring.since').count(), 0);
    }

    // New project: a malformed uid and a taken one, next to the UID field.
    await page.goto(`${herald.url}/ui/`);
    await page.getByRole('button', { name: 'New project' }).click();
    const projectName = page.getByRole('textbox', { name: 'Name', exact: true });
    await projectName.fill('Forms too');
    const uid = page.getByLabel('UID (optional)');
    await uid.fill('-bad');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByText('Must start with a letter or a digit', { exact: false }).waitFor();
    assert.match((await errorOf(uid)) ?? '', /^Must start with a letter or a digit/);
    await uid.fill('forms-taken');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByText('A project with this uid exists').waitFor();
    assert.equal(await errorOf(uid), 'A project with this uid exists');
    assert.equal(await errorOf(projectName), null);

    // API key: a name the server refuses, next to the name.
    await page.goto(`${ui}/access`);
    const keyName = page.getByRole('textbox', { name: 'Key name' });
    await keyName.fill('k'.repeat(201));
    await keyName.evaluate((input) => input.removeAttribute('data-over-limit'));
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByText('Must be at most 200 characters long', { exact: true }).waitFor();
    assert.equal(await errorOf(keyName), 'Must be at most 200 characters long');
    assertNoProblems();
  });

  test('the deliveries chart labels its axis with distinct whole numbers (one attempt: 0 and 1)', async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'One attempt' })
    ).body;
    const endpoint = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `${receiver.url}/one`,
      })
    ).body;
    await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/events`, {
      type: 'score.high',
      payload: { score: 1 },
    });
    await attemptsOf(project.id, endpoint.id, 1);
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/endpoints/${endpoint.id}`);
    await page.getByText('succeeded 1').waitFor();
    // The Y axis labels: right-aligned left of the plot (the X labels sit below it).
    const labels = await page.locator('.chart svg').first().locator('text[x="42"]').allTextContents();
    assert.deepEqual(labels, ['0', '1']);
    assertNoProblems();
  });

  /**
   * A project with two unnamed endpoints, each with an attempt for an event of a type the catalog
   * does not hold (the README's own example) and one of a type it does.
   */
  async function anyTypeProject(): Promise<{ id: string; endpoints: { id: string }[] }> {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Any type' })
    ).body;
    const endpoints: { id: string }[] = [];
    for (const path of ['/shop/a', '/shop/b']) {
      endpoints.push(
        (
          await api<{ id: string }>(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
            url: `${receiver.url}${path}`,
          })
        ).body,
      );
    }
    const sent = await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/events/batch`, {
      events: [
        { type: 'PurchasePlayerPurchase', payload: { n: 1 } },
        { type: 'score.high', payload: { n: 2 } },
      ],
    });
    assert.ok(sent.status < 300, JSON.stringify(sent.body));
    for (const endpoint of endpoints) await attemptsOf(project.id, endpoint.id, 2);
    return { id: project.id, endpoints };
  }

  test('the Events list tells deliveries to unnamed endpoints apart by host and path', async () => {
    const project = await anyTypeProject();
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/events`);
    const host = new URL(receiver.url).host;
    await page.getByText(`${host}/shop/a: succeeded`).first().waitFor();
    await page.getByText(`${host}/shop/b: succeeded`).first().waitFor();
    assert.equal(await page.getByText('endpoint: succeeded').count(), 0);
    assertNoProblems();
  });

  test('the Events list reads of each event only the deliveries it shows: four badges, then "+2 more" to its page', async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Wide fan-out' })
    ).body;
    // Receivers 0-3 take every type, 4 and 5 only score.high: a level.completed goes to four
    // endpoints (all of them shown), a score.high to six (four shown, and more).
    for (let i = 0; i < 6; i++) {
      const created = await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `${receiver.url}/wide/${i}`,
        name: `Wide ${i}`,
        ...(i >= 4 ? { eventTypes: ['score.high'] } : {}),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const sent = await api<{ data: { id: string; deliveries: unknown[] }[] }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${project.id}/events/batch`,
      {
        events: [
          { type: 'score.high', payload: { score: 1 } },
          { type: 'level.completed', payload: { level: 1 } },
        ],
      },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const [wide, narrow] = sent.body.data;
    assert.deepEqual([wide?.deliveries.length, narrow?.deliveries.length], [6, 4]);

    const page = await operatorPage();
    const apiReads: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/api/v1/')) apiReads.push(`${url.pathname}${url.search}`);
    });
    await page.goto(`${herald.url}/ui/projects/${project.id}/events`);
    const wideRow = page.locator('tbody tr').filter({ hasText: wide!.id });
    const narrowRow = page.locator('tbody tr').filter({ hasText: narrow!.id });
    // How many more: the event's deliveryCount (6) less the four shown, not read from them.
    const more = wideRow.getByRole('link', { name: '+2 more deliveries' });
    await more.waitFor();
    for (let i = 0; i < 4; i++) await narrowRow.getByText(new RegExp(`^Wide ${i}: `)).waitFor();
    assert.equal(await wideRow.locator('.badge').count(), 4, 'four badges of the six');
    assert.equal(await narrowRow.locator('.badge').count(), 4);
    assert.equal(await narrowRow.getByRole('link').count(), 1, 'only the event id: no "more" of four');
    // The first four in id order, as the event's page lists them.
    for (let i = 0; i < 4; i++) await wideRow.getByText(new RegExp(`^Wide ${i}: `)).waitFor();

    const eventsPath = `/api/v1/projects/${project.id}/events`;
    const whole = apiReads.filter((read) => /\/events\/[^/?]+(\?|$)/.test(read));
    assert.deepEqual(whole, [], 'no event read whole');
    assert.deepEqual(
      apiReads.filter((read) => read.includes('/deliveries')).sort(),
      [wide!.id, narrow!.id].map((id) => `${eventsPath}/${id}/deliveries?limit=4`).sort(),
      'one page of four per event',
    );
    await more.click();
    await page.getByRole('link', { name: 'Wide 5', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/ui/projects/${project.id}/events/${wide!.id}`);
    // The event's page reads the event without its deliveries, and them a page at a time.
    await page.getByText(wide!.id).first().waitFor();
    assert.deepEqual(
      apiReads.filter(
        (read) => read.startsWith(`${eventsPath}/${wide!.id}?`) || read === `${eventsPath}/${wide!.id}`,
      ),
      [`${eventsPath}/${wide!.id}?deliveries=false`],
    );
    assertNoProblems();
  });

  test("Events and History filter by any event type typed in, not only the catalog's", async () => {
    const project = await anyTypeProject();
    const page = await dash.signedInPage();
    const ui = `${herald.url}/ui/projects/${project.id}`;
    await page.goto(`${ui}/events`);
    const rows = page.locator('table tbody tr');
    await waitForCount(rows, 2);
    await page.getByLabel('Event type').fill('PurchasePlayerPurchase');
    await page.getByLabel('Event type').press('Enter');
    await waitForCount(rows, 1);
    await rows.getByText('PurchasePlayerPurchase').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('type'), 'PurchasePlayerPurchase');

    await page.goto(`${ui}/endpoints/${project.endpoints[0]!.id}/history`);
    const attempts = page.locator('.history-table tbody tr');
    await waitForCount(attempts, 2);
    await page.getByLabel('Event type').fill('PurchasePlayerPurchase');
    await page.getByLabel('Event type').press('Enter');
    await waitForCount(attempts, 1);
    await attempts.getByText('PurchasePlayerPurchase').waitFor();
    assertNoProblems();
  });

  test('a 64-bit number in a payload shows as it was sent, not as the nearest double', async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Exact' })
    ).body;
    const endpoint = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `${receiver.url}/exact`,
      })
    ).body;
    // Raw text: JSON.stringify here would already round the number.
    const sent = await fetch(`${herald.url}/api/v1/projects/${project.id}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: '{"type":"score.high","payload":{"playerId":9007199254740993,"score":12000}}',
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    const eventId = ((await sent.json()) as { id: string }).id;
    await attemptsOf(project.id, endpoint.id, 1);
    const attempts = await api<{ data: { id: string }[] }>(
      herald.url,
      ADMIN,
      'GET',
      `/api/v1/projects/${project.id}/endpoints/${endpoint.id}/attempts`,
    );
    const page = await dash.signedInPage();
    const ui = `${herald.url}/ui/projects/${project.id}`;
    await page.goto(`${ui}/events/${eventId}`);
    await page.getByText('"playerId": 9007199254740993').first().waitFor();
    assert.equal(await page.getByText('9007199254740992').count(), 0);
    await page.goto(`${ui}/endpoints/${endpoint.id}/attempts/${attempts.body.data[0]!.id}`);
    await page.getByText('"playerId": 9007199254740993').first().waitFor();
    assert.equal(await page.getByText('9007199254740992').count(), 0);
    assertNoProblems();
  });

  test('why an endpoint is disabled and why an attempt failed, in words rather than codes', async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Broken' })
    ).body;
    const create = async (body: Record<string, unknown>) =>
      (await api<{ id: string }>(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, body))
        .body;
    const refused = await create({
      url: `http://127.0.0.1:${await refusedPort()}/down`,
      name: 'Down',
      eventTypes: ['fail.many'],
      retrySchedule: [],
    });
    const failing = await create({
      url: `${receiver.url}/answers-500`,
      eventTypes: ['fail.once'],
      retrySchedule: [],
    });
    const events = Array.from({ length: 10 }, (_, n) => ({ type: 'fail.many', payload: { n } }));
    await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/events/batch`, { events });
    receiver.respondWith(500);
    try {
      await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/events`, {
        type: 'fail.once',
        payload: {},
      });
      await attemptsOf(project.id, failing.id, 1);
    } finally {
      receiver.respondWith(200);
    }
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const got = await api<{ status: string }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${project.id}/endpoints/${refused.id}`,
      );
      if (got.body.status === 'disabled') break;
      assert.ok(Date.now() < deadline, 'disabled after 10 failed attempts');
      await new Promise((r) => setTimeout(r, 50));
    }
    const page = await dash.signedInPage();
    const ui = `${herald.url}/ui/projects/${project.id}`;

    await page.goto(ui);
    await page.getByText(/^After \d+ failed attempts in a row$/).waitFor();
    await page.goto(`${ui}/endpoints/${refused.id}`);
    await page
      .getByText(/Disabled after \d+ failed attempts in a row since .+\. New events skip it/)
      .waitFor();
    await page.goto(`${ui}/endpoints/${refused.id}/history`);
    await page.locator('.history-table').getByText('Could not connect').first().waitFor();
    assert.equal(await page.getByText('consecutive_failures').count(), 0);

    const [attempt] = (
      await api<{ data: { id: string }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${project.id}/endpoints/${failing.id}/attempts`,
      )
    ).body.data;
    await page.goto(`${ui}/endpoints/${failing.id}/attempts/${attempt!.id}`);
    await page.getByText('The receiver answered HTTP 500: only a 2xx status counts as delivered.').waitFor();
    assert.equal(await page.getByText('http_status').count(), 0);
    assertNoProblems();
  });

  test('an open endpoint page follows its state: disabled and enabled elsewhere, it says so within seconds', async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Flapping' })
    ).body;
    const path = `/api/v1/projects/${project.id}/endpoints`;
    const endpoint = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', path, { url: `${receiver.url}/flap` })
    ).body;
    const page = await operatorPage();
    // The page's clock (it runs on as the real one), to bring its next read of the state forward
    // rather than wait STATE_REFRESH_MS for it.
    await page.clock.install();
    await page.goto(`${herald.url}/ui/projects/${project.id}/endpoints/${endpoint.id}`);
    const banner = page.getByText(/New events skip it/);
    await page.getByRole('button', { name: 'Send test event' }).waitFor();
    assert.equal(await banner.count(), 0);
    // As an auto-disable does while the page is open (after an Enable here whose deliveries fail again).
    const patch = (active: boolean) => api(herald.url, ADMIN, 'PATCH', `${path}/${endpoint.id}`, { active });
    assert.equal((await patch(false)).status, 200);
    await page.clock.fastForward(STATE_REFRESH_MS);
    await banner.waitFor({ timeout: STATE_REFRESH_MS * 3 });
    // What a disabled endpoint refuses is not offered: said instead of a 409 after the click.
    const send = page.getByRole('button', { name: 'Send test event' });
    const recover = page.getByRole('button', { name: 'Recover' });
    assert.equal(await send.isDisabled(), true);
    assert.equal(await recover.isDisabled(), true);
    await page.getByText('The endpoint is disabled: enable it first (above) to send it a test.').waitFor();
    assert.equal((await patch(true)).status, 200);
    await page.clock.fastForward(STATE_REFRESH_MS);
    await banner.waitFor({ state: 'detached', timeout: STATE_REFRESH_MS * 3 });
    assert.equal(await send.isDisabled(), false);
    assert.equal(await recover.isDisabled(), false);
    assertNoProblems();
  });

  test('an expired or forged portal link says so instead of showing anything', async () => {
    const page = await newPage();
    const claims = (exp: number) =>
      Buffer.from(JSON.stringify({ projectId: projectB.id, exp })).toString('base64url');
    // Expired: the page knows without asking the server.
    await page.goto(`${herald.url}/ui/portal#token=hpt_${claims(1)}.AAAA`);
    await page.getByRole('heading', { name: 'This link is no longer valid' }).waitFor();
    // Forged (future expiry, wrong signature): the server refuses it with 401.
    dash.expectConsole = /status of 401/;
    const forged = await newPage();
    const refused = forged.waitForResponse((response) => response.status() === 401);
    await forged.goto(
      `${herald.url}/ui/portal#token=hpt_${claims(Math.floor(Date.now() / 1000) + 3600)}.AAAA`,
    );
    await refused;
    await forged.getByRole('heading', { name: 'This link is no longer valid' }).waitFor();
    assert.equal(await forged.getByText('Secret Rival').count(), 0);
    assertNoProblems();
  });

  test('a portal visitor sees the older secret still valid after a rotation; a revoked link says it was revoked', async () => {
    const project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Rotation Co' })
    ).body;
    const endpoints = `/api/v1/projects/${project.id}/endpoints`;
    const endpoint = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', endpoints, {
        url: `${receiver.url}/rotated`,
        name: 'Rotated',
      })
    ).body;
    const rotated = await api<{ secrets: { secret: string; expiresAt: string | null }[] }>(
      herald.url,
      ADMIN,
      'POST',
      `${endpoints}/${endpoint.id}/secret/rotate`,
      { graceSeconds: 3600 },
    );
    assert.equal(rotated.status, 200);
    const [current, previous] = rotated.body.secrets;
    assert.ok(current && previous?.expiresAt, JSON.stringify(rotated.body));
    const link = (
      await api<{ token: string }>(
        herald.url,
        ADMIN,
        'POST',
        `/api/v1/projects/${project.id}/portal-links`,
        {},
      )
    ).body;

    const page = await newPage();
    await page.goto(`${herald.url}/ui/portal/endpoints/${endpoint.id}#token=${link.token}`);
    const card = page.locator('section[aria-labelledby="secret-title"]');
    const older = card.getByTestId('older-secrets').locator('li');
    await older.first().waitFor();
    assert.equal(await older.count(), 1);
    assert.equal(await older.locator('time').getAttribute('datetime'), previous.expiresAt);
    assert.doesNotMatch(await card.innerText(), /whsec_/);
    await card.getByRole('button', { name: 'Reveal' }).click();
    await card.getByText(previous.secret).waitFor();
    assert.equal(await card.getByTestId('secret-value').textContent(), current.secret);

    // The project's links are revoked: the next load is refused (401) and the page says why.
    const revoked = await api(herald.url, ADMIN, 'DELETE', `/api/v1/projects/${project.id}/portal-links`);
    assert.equal(revoked.status, 204);
    dash.expectConsole = /status of 401/;
    await page.reload();
    await page.getByRole('heading', { name: 'This link is no longer valid' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /expired or been revoked/);
    assert.equal(await page.getByText('Rotated').count(), 0);
    assertNoProblems();
  });
});

/** Waits until `rows` holds exactly `count` elements. */
async function waitForCount(rows: ReturnType<Page['locator']>, count: number): Promise<void> {
  const deadline = Date.now() + TIMEOUT;
  while ((await rows.count()) !== count) {
    if (Date.now() > deadline) throw new Error(`${await rows.count()} rows, not ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Clicks Refresh until the history table shows at least `count` rows (delivery is asynchronous). */
async function waitForRows(page: Page, rows: ReturnType<Page['locator']>, count: number): Promise<void> {
  const deadline = Date.now() + TIMEOUT;
  while ((await rows.count()) < count) {
    if (Date.now() > deadline) throw new Error(`history shows ${await rows.count()} of ${count} attempts`);
    await page.waitForTimeout(300);
    const refresh = page.getByRole('button', { name: 'Refresh' });
    if (await refresh.isEnabled()) await refresh.click();
  }
}
