/**
 * The endpoint's Settings tab in a real browser against a real `herald serve`, after a reviewer found
 * that the form sent back the Active box as the tab opened with it: an endpoint enabled from the
 * banner above the form and then renamed was disabled again by the save, and one disabled after
 * failures while the form was open (the 5 s refresh showed it) was enabled again by saving any
 * other setting. The box now follows the endpoint's state until it is clicked, and only a click
 * there changes it. A timeout emptied there ("Empty: 5000 ms") was left out of the PATCH, which
 * keeps the one stored: the form said saved, the endpoint kept its old timeout. In a project that
 * enforces its catalog the event picker offered a field for other event types, each refused (422).
 * After one save the button stayed "Saving…" and disabled: a second change could not be saved
 * without reloading the page. Enable endpoint said "parked deliveries resume now" whether there
 * were any or not: it now says how many the server resumed (its answer counts them).
 * A signature header named as the timestamp header (one left empty being its default,
 * X-Webhook-Timestamp) is refused by the field typed, before anything is sent: the form created
 * such an endpoint, whose requests carried the timestamp and no signature.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { STATE_REFRESH_MS } from '../../src/dashboard/app/endpoint-state.ts';
import { errorOf } from '../support/browser.ts';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-settings-form-0123';

describe('dashboard endpoint settings form (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let p: string;

  before(async () => {
    herald = dash.herald;
    p = await newProject(herald, ADMIN, 'Sky Forge');
  });

  const endpoint = (name: string, active: boolean) => quietEndpoint(herald, ADMIN, p, { name, active });

  /** Saves the form and waits for it to say so. */
  async function save(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Settings saved.').waitFor();
  }

  const statusOf = async (id: string) =>
    (await api<{ status: string }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`)).body.status;

  /** A signed-in page on a new endpoint's form, its URL and name filled in. */
  async function newEndpointForm(name: string, path: string): Promise<Page> {
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/new`);
    await page.getByLabel('Endpoint URL').fill(`http://127.0.0.1:9/${path}`);
    await page.getByLabel('Name', { exact: true }).fill(name);
    return page;
  }

  /**
   * A signed-in page on the endpoint's Settings tab. `clock`: with Playwright's clock installed (it
   * runs on as the real one until moved forward).
   */
  async function settingsOf(id: string, { clock = false } = {}): Promise<Page> {
    // A clock installed stays with its page: such a page is one of its own.
    const page = clock ? await dash.page({ signedIn: true }) : await dash.signedInPage();
    if (clock) await page.clock.install();
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${id}/settings`);
    return page;
  }

  test('enabled from the banner, then saved: it stays enabled', async () => {
    const id = await endpoint('Enabled then renamed', false);
    const page = await settingsOf(id);
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByText('Endpoint enabled').waitFor();
    assert.equal(await page.getByLabel('Active').isChecked(), true, 'the box shows the endpoint enabled');
    await page.getByLabel('Name').fill('Renamed after enabling');
    await save(page);
    assert.equal(await statusOf(id), 'active');
    assert.equal(await page.locator('.endpoint-state').innerText(), 'active');
    assert.deepEqual(problems, []);
  });

  test('disabled while the form is open, then saved: it stays disabled', async () => {
    const id = await endpoint('Disabled meanwhile', true);
    const page = await settingsOf(id, { clock: true });
    await page.getByLabel('Name').waitFor();
    // As after failures in a row: disabled elsewhere, which the page's state refresh shows (brought
    // forward on the page's clock rather than waited for).
    const disabled = await api(herald.url, ADMIN, 'PATCH', `${p}/endpoints/${id}`, { active: false });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    await page.clock.fastForward(STATE_REFRESH_MS);
    await page.getByRole('button', { name: 'Enable endpoint' }).waitFor();
    assert.equal(await page.getByLabel('Active').isChecked(), false, 'the box shows the endpoint disabled');
    await page.getByLabel('Description').fill('Saved while disabled');
    await save(page);
    assert.equal(await statusOf(id), 'disabled');
    await page.getByRole('button', { name: 'Enable endpoint' }).waitFor();
    assert.deepEqual(problems, []);
  });

  test('the box clicked and saved: that is what the endpoint becomes', async () => {
    const id = await endpoint('Switched off here', true);
    const page = await settingsOf(id);
    await page.getByLabel('Active').uncheck();
    await save(page);
    assert.equal(await statusOf(id), 'disabled');
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByText('Endpoint enabled').waitFor();
    assert.equal(
      await page.getByLabel('Active').isChecked(),
      true,
      'after a save the box follows the state again',
    );
    assert.deepEqual(problems, []);
  });

  test('a timeout emptied and saved goes back to the default, as the hint says', async () => {
    const id = await quietEndpoint(herald, ADMIN, p, { name: 'Patient', timeoutMs: 20_000 });
    const page = await settingsOf(id);
    const timeout = page.getByLabel('Timeout (ms)');
    assert.equal(await timeout.inputValue(), '20000');
    await page.getByText('Empty: 5000 ms.').waitFor();
    await timeout.fill('');
    await save(page);
    const stored = await api<{ timeoutMs: number }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`);
    assert.equal(stored.body.timeoutMs, 5000, 'the emptied timeout is the default, not the one kept');
    assert.deepEqual(problems, []);
  });

  test('saved, then changed again: the second save goes through as well', async () => {
    const id = await quietEndpoint(herald, ADMIN, p, { name: 'Saved twice', headers: { 'X-Keep': 'kept' } });
    const page = await settingsOf(id);
    await page.getByLabel('Name', { exact: true }).fill('Saved once');
    await save(page);
    // The button was left saying "Saving…", disabled, until the page was reloaded.
    await page.getByLabel('Name', { exact: true }).fill('Saved twice over');
    await page.getByLabel('Retry schedule (seconds)').fill('1, 2.5');
    await page.getByRole('button', { name: 'Save changes' }).click({ timeout: 5_000 });
    await page.waitForFunction(
      () => document.querySelector('.endpoint h2')?.textContent === 'Saved twice over',
    );
    const stored = await api<{ name: string; retrySchedule: number[]; headers: Record<string, string> }>(
      herald.url,
      ADMIN,
      'GET',
      `${p}/endpoints/${id}`,
    );
    assert.equal(stored.body.name, 'Saved twice over');
    assert.deepEqual(stored.body.retrySchedule, [1, 2.5]);
    assert.deepEqual(stored.body.headers, { 'X-Keep': 'kept' }, 'the headers are kept through both saves');
    assert.deepEqual(problems, []);
  });

  test('a rate limit written with a decimal comma is refused by its field, not saved as another number', async () => {
    const id = await quietEndpoint(herald, ADMIN, p, { name: 'Comma typed', rateLimit: { perSecond: 10 } });
    const page = await settingsOf(id);
    const rate = page.getByLabel('Rate limit (requests per second)');
    assert.equal(await rate.inputValue(), '10');
    // 7.5 a second, as many write it: a number input dropped the comma and held "75" (and held ''
    // for text it could not read at all, "5e", which the form took for "Empty: no limit").
    await rate.fill('');
    await rate.pressSequentially('7,5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    assert.equal(await errorOf(rate), 'A number above 0.');
    assert.equal(await page.getByText('Settings saved.').count(), 0);
    const stored = await api<{ rateLimit: unknown }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`);
    assert.deepEqual(stored.body.rateLimit, { perSecond: 10 }, 'the rate limit is kept, not 75 a second');
    assert.deepEqual(problems, []);
  });

  test('an event type typed under Other event type and not added is saved with the endpoint, not dropped', async () => {
    const page = await newEndpointForm('Typed filter', 'typed-filter');
    // As a first user does with an empty catalog ("type event names below"): typed, then Create.
    await page.getByLabel('Other event type').fill('invoice.sent');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Endpoint created.').waitFor();
    const id = decodeURIComponent(/\/endpoints\/([^/?]+)/.exec(page.url())?.[1] ?? '');
    const stored = await api<{ eventTypes: string[] }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`);
    assert.deepEqual(stored.body.eventTypes, ['invoice.sent'], 'it did not become an endpoint of every type');

    // In Settings too: a second type typed and saved without Add.
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Other event type').fill('invoice.paid');
    await save(page);
    const saved = await api<{ eventTypes: string[] }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`);
    assert.deepEqual(saved.body.eventTypes, ['invoice.sent', 'invoice.paid']);
    assert.equal(await page.getByLabel('Other event type').inputValue(), '', 'the name moved into the list');
    await page.getByRole('checkbox', { name: /invoice\.paid/ }).waitFor();
    assert.deepEqual(problems, []);
  });

  test('a retry schedule not in plain decimal is refused by its field, not saved as other delays', async () => {
    const id = await quietEndpoint(herald, ADMIN, p, { name: 'Hex schedule', retrySchedule: [5, 60] });
    const page = await settingsOf(id);
    const schedule = page.getByLabel('Retry schedule (seconds)');
    assert.equal(await schedule.inputValue(), '5, 60');
    // Number() read "0x10" as 16 s and "1e3" as 1000 s, and the form saved those.
    await schedule.fill('0x10, 1e3');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    assert.match((await errorOf(schedule)) ?? '(no error by the field)', /^Seconds above 0/);
    assert.equal(await page.getByText('Settings saved.').count(), 0);
    const stored = await api<{ retrySchedule: unknown }>(herald.url, ADMIN, 'GET', `${p}/endpoints/${id}`);
    assert.deepEqual(stored.body.retrySchedule, [5, 60], 'the schedule is kept, not 16 s and 1000 s');
    assert.deepEqual(problems, []);
  });

  test('a signature header named as the timestamp header is refused by that field, and nothing is created', async () => {
    const page = await newEndpointForm('Shared header', 'shared-header');
    await page.getByLabel('Signature scheme').selectOption('hmac-sha256');
    // The timestamp header left empty is X-Webhook-Timestamp: this endpoint was created, and its
    // requests carried the timestamp and no signature.
    const signatureHeader = page.getByLabel('Signature header');
    await signatureHeader.fill('X-Webhook-Timestamp');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    assert.equal(
      await errorOf(signatureHeader),
      'Must differ from the timestamp header (X-Webhook-Timestamp, its default): a request carries one value per header.',
    );
    // The other way round, the error goes by the header typed.
    await signatureHeader.fill('');
    const timestampHeader = page.getByLabel('Timestamp header');
    await timestampHeader.fill('x-webhook-signature');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.waitForFunction(
      (input) => input?.getAttribute('aria-invalid') === 'true',
      await timestampHeader.elementHandle(),
    );
    assert.equal(
      await errorOf(timestampHeader),
      'Must differ from the signature header (X-Webhook-Signature, its default): a request carries one value per header.',
    );
    assert.equal(await errorOf(signatureHeader), null);
    const listed = await api<{ data: { name: string }[] }>(herald.url, ADMIN, 'GET', `${p}/endpoints`);
    assert.ok(!listed.body.data.some((e) => e.name === 'Shared header'), 'no endpoint was created');
    assert.deepEqual(problems, []);
  });

  test('a project that enforces its catalog offers no field for other event types', async () => {
    const strict = await newProject(herald, ADMIN, 'Strict Forge');
    const enforced = await api(herald.url, ADMIN, 'PATCH', strict, { enforceCatalog: true });
    assert.equal(enforced.status, 200, JSON.stringify(enforced.body));
    const typed = await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/forge.lit', {
      description: 'Lit',
    });
    assert.equal(typed.status, 200, JSON.stringify(typed.body));
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui${strict.slice('/api/v1'.length)}/endpoints/new`);
    await page.getByRole('checkbox', { name: /forge\.lit/ }).waitFor();
    assert.equal(await page.getByLabel('Other event type').count(), 0, 'no field for a name the API refuses');
    await page.getByText('This project accepts only the event types of the catalog.').waitFor();
    // Without enforceCatalog (the block's project) any name may be typed in.
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/new`);
    await page.getByLabel('Other event type').waitFor();
    assert.deepEqual(problems, []);
  });

  test('Enable endpoint says how many parked deliveries it resumed', async () => {
    const own = await newProject(herald, ADMIN, 'Parking Lot');
    // Refused at once (nothing listens on port 9), then due again in an hour: pending until disabled.
    const id = await quietEndpoint(herald, ADMIN, own, { name: 'Parked', retrySchedule: [3600] });
    for (const n of [1, 2]) {
      const sent = await api(herald.url, ADMIN, 'POST', `${own}/events`, {
        type: 'car.parked',
        payload: { n },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
    }
    type Attempts = { data: unknown[] };
    for (let waited = 0; ; waited += 50) {
      const attempts = await api<Attempts>(herald.url, ADMIN, 'GET', `${own}/endpoints/${id}/attempts`);
      if (attempts.body.data.length === 2) break;
      assert.ok(waited < 10_000, 'the attempts were never recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const disabled = await api(herald.url, ADMIN, 'PATCH', `${own}/endpoints/${id}`, { active: false });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui${own.slice('/api/v1'.length)}/endpoints/${id}`);
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByText('Endpoint enabled: 2 parked deliveries resume now.').waitFor();

    // Nothing parked: it does not claim any.
    const bare = await endpoint('Nothing parked', false);
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${bare}`);
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByText('Endpoint enabled. Nothing was parked.').waitFor();
    assert.deepEqual(problems, []);
  });
});
