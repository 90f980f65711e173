/**
 * Operator actions of the dashboard in a real browser (headless Chromium via playwright-core)
 * against a real `herald serve`, after a re-tester found that:
 * - the event page offered "Retry now" on the deliveries of a disabled endpoint, and the click was
 *   answered 409 (the API refuses to retry those): now the button is disabled and says to enable
 *   the endpoint first, and offers it again once it is enabled;
 * - Retry now (event page) and Resend (attempt page) were offered as well for a delivery whose
 *   endpoint was deleted, and for one with an attempt being sent, both also 409: now they are
 *   disabled and say why, and come back once that attempt is recorded; a click the server refuses
 *   anyway (the page was out of date) shows the server's message, and then why;
 * - the Access tab created API keys and portal links but could neither list nor revoke keys, nor
 *   revoke portal links: now it lists the keys with a Revoke button each (after a confirmation)
 *   and revokes all of the project's portal links (after a confirmation);
 * - the attempt page took its endpoint from the URL: an attempt's id under another endpoint's
 *   showed that endpoint's state (disabled: Resend blocked, Enable endpoint enabling it); it now
 *   follows the attempt's own endpoint (the URL too), and a callback's attempt is not found there.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { IN_FLIGHT_REFRESH_MS } from '../../src/dashboard/app/retry-block.ts';
import { refusedPort } from '../support/refused-port.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-operator-actions-0123';

describe('dashboard operator actions (browser)', { timeout: 120_000 }, () => {
  // Any answer from 400 up is a problem too, unless a test expects it.
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let project: { id: string };

  before(async () => {
    herald = dash.herald;
    project = (
      await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name: 'Moon Quest' })
    ).body;
  });

  /** The refusals a test provokes on purpose: the 409s of its retries, as the page records them. */
  const REFUSED_RETRY =
    /^(409 from POST .*\/retry$|console error: Failed to load resource: the server responded with a status of 409)/;

  /** A project of its own, so no other test's endpoints get the events. */
  async function newProject(name: string): Promise<string> {
    const made = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', { name });
    assert.equal(made.status, 201);
    return `/api/v1/projects/${made.body.id}`;
  }

  /** The event's delivery to the endpoint once `ready` holds for it (read through the API). */
  async function deliveryWhen(
    p: string,
    eventId: string,
    endpointId: string,
    ready: (d: { status: string; inFlight: boolean }) => boolean,
  ): Promise<{ id: string; status: string; inFlight: boolean }> {
    type Read = { deliveries: { id: string; endpointId: string; status: string; inFlight: boolean }[] };
    for (let waited = 0; ; waited += 50) {
      const read = await api<Read>(herald.url, ADMIN, 'GET', `${p}/events/${eventId}`);
      const delivery = read.body.deliveries.find((d) => d.endpointId === endpointId);
      if (delivery && ready(delivery)) return delivery;
      assert.ok(waited < 10_000, `the delivery never got there: ${JSON.stringify(read.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** An endpoint of `p` to `url` without retries, an event to it, and its delivery once it failed. */
  async function failedDelivery(p: string, url: string, name: string) {
    const endpoint = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url,
      name,
      retrySchedule: [],
      timeoutMs: 20_000,
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const sent = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/events`, {
      type: 'order.paid',
      payload: { order: 2 },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const delivery = await deliveryWhen(p, sent.body.id, endpoint.body.id, (d) => d.status === 'failed');
    const attempts = await api<{ data: { id: string; endpointId: string }[] }>(
      herald.url,
      ADMIN,
      'GET',
      `${p}/events/${sent.body.id}/attempts`,
    );
    const attemptId = attempts.body.data.find((a) => a.endpointId === endpoint.body.id)?.id;
    assert.ok(attemptId, JSON.stringify(attempts.body));
    return { endpointId: endpoint.body.id, eventId: sent.body.id, deliveryId: delivery.id, attemptId };
  }

  /** The reason a disabled button gives: its title, and the text its aria-describedby names. */
  async function reasonOf(page: Page, button: ReturnType<Page['getByRole']>) {
    const ids = (await button.getAttribute('aria-describedby')) ?? '';
    const described = [];
    for (const id of ids.split(/\s+/).filter(Boolean))
      described.push(await page.locator(`#${id}`).innerText());
    return { title: await button.getAttribute('title'), described: described.join(' ').trim() };
  }

  /**
   * A page of its own signed in as the operator (the token in sessionStorage, as the sign-in form
   * leaves it), for a page with a clock installed or a second page; the others take the block's
   * one (dash.signedInPage()).
   */
  const operatorPage = () => dash.page({ signedIn: true });

  test('event page: Retry now is disabled for a disabled endpoint, says why, and returns once it is enabled', async () => {
    const p = `/api/v1/projects/${project.id}`;
    const created = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `http://127.0.0.1:${await refusedPort()}/hook`,
      name: 'Switched off',
      // No retries: the delivery fails at its first attempt and stays failed, so enabling the
      // endpoint resumes nothing and the retry below cannot meet an attempt in flight (409).
      retrySchedule: [],
    });
    assert.equal(created.status, 201);
    const endpointId = created.body.id;
    const sent = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/events`, {
      type: 'order.paid',
      payload: { order: 1 },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    for (let waited = 0; ; waited += 50) {
      const read = await api<{ deliveries: { status: string }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/events/${sent.body.id}`,
      );
      if (read.body.deliveries[0]?.status === 'failed') break;
      assert.ok(waited < 10_000, `the delivery did not fail: ${JSON.stringify(read.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const off = await api(herald.url, ADMIN, 'PATCH', `${p}/endpoints/${endpointId}`, { active: false });
    assert.equal(off.status, 200);

    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/events/${sent.body.id}`);
    const row = page.locator('table tbody tr', { hasText: 'Switched off' });
    const retry = row.getByRole('button', { name: 'Retry now' });
    await row.getByText('Endpoint disabled').waitFor();
    assert.equal(await retry.isDisabled(), true);
    const hint = await retry.getAttribute('aria-describedby');
    assert.ok(hint, 'the button names its reason');
    assert.match(await page.locator(`#${hint}`).innerText(), /Endpoint disabled: enable it first/);

    // The hint's link leads to the endpoint, where it is enabled; back on the event, Retry works.
    await row.getByRole('link', { name: 'enable it' }).click();
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByText('Endpoint enabled').waitFor();
    await page.goBack();
    await row.getByText('Endpoint disabled').waitFor({ state: 'detached' });
    // The row's text and its button come from the same read, but the page may show the row again
    // before that read lands (seen once under load in the full suite): wait for the button.
    for (let waited = 0; !(await retry.isEnabled()); waited += 50) {
      assert.ok(waited < 10_000, 'Retry now is still disabled once the endpoint is enabled');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await retry.click();
    await row.getByText('Queued').waitFor();
    assert.deepEqual(problems, []);
  });

  test('endpoint page: Replay missed events gives an endpoint added late the events before it, once', async () => {
    const p = await newProject('Late Joiner');
    for (const order of [1, 2]) {
      const sent = await api(herald.url, ADMIN, 'POST', `${p}/events`, {
        type: 'order.paid',
        payload: { order },
      });
      assert.equal(sent.status, 202);
    }
    const receiver = await heldReceiver();
    receiver.mode = 'ok';
    try {
      const created = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
        url: receiver.url,
        name: 'Late',
      });
      assert.equal(created.status, 201);
      const page = await dash.signedInPage();
      await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${created.body.id}`);
      const replay = page.getByRole('button', { name: 'Replay' });
      await replay.click();
      await page.getByText('2 missed events queued for this endpoint.').waitFor();
      for (let waited = 0; ; waited += 50) {
        const attempts = await api<{ data: { outcome: string }[] }>(
          herald.url,
          ADMIN,
          'GET',
          `${p}/endpoints/${created.body.id}/attempts`,
        );
        if (attempts.body.data.filter((a) => a.outcome === 'succeeded').length === 2) break;
        assert.ok(waited < 10_000, `not delivered: ${JSON.stringify(attempts.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await replay.click();
      await page.getByText('0 missed events queued for this endpoint.').waitFor();
    } finally {
      await receiver.close();
    }
    assert.deepEqual(problems, []);
  });

  test('Access: lists the API keys and revokes one after a confirmation; revokes all portal links after one', async () => {
    const p = `/api/v1/projects/${project.id}`;
    const backend = await api<{ key: string; prefix: string }>(herald.url, ADMIN, 'POST', `${p}/api-keys`, {
      name: 'game backend',
    });
    await api(herald.url, ADMIN, 'POST', `${p}/api-keys`, { name: 'ci' });
    const link = await api<{ token: string }>(herald.url, ADMIN, 'POST', `${p}/portal-links`, {});
    assert.equal(link.status, 201);
    const withBackendKey = async () => (await api(herald.url, backend.body.key, 'GET', p)).status;
    const withPortalLink = async () => (await api(herald.url, link.body.token, 'GET', p)).status;
    assert.equal(await withBackendKey(), 200);
    assert.equal(await withPortalLink(), 200);

    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/access`);
    const rows = page.locator('table.api-keys-table tbody tr');
    const backendRow = rows.filter({ hasText: 'game backend' });
    await backendRow.waitFor();
    assert.equal(await rows.count(), 2);
    assert.match(await backendRow.innerText(), new RegExp(`${backend.body.prefix}…`));
    assert.doesNotMatch(await page.locator('table.api-keys-table').innerText(), new RegExp(backend.body.key));

    // Revoke asks first; Cancel leaves the key working.
    await backendRow.getByRole('button', { name: 'Revoke game backend…' }).click();
    await backendRow.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await withBackendKey(), 200);
    await backendRow.getByRole('button', { name: 'Revoke game backend…' }).click();
    await backendRow.getByRole('button', { name: 'Yes, revoke game backend' }).click();
    await page.getByRole('status').filter({ hasText: 'Key game backend' }).waitFor();
    await backendRow.waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    assert.equal(await withBackendKey(), 401);

    // A key created in the form joins the list, with its scope: a send key unless another is chosen.
    await page.getByRole('textbox', { name: 'Key name' }).fill('analytics');
    await page.getByRole('combobox', { name: 'Scope' }).selectOption('read');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const analytics = rows.filter({ hasText: 'analytics' });
    await analytics.waitFor();
    assert.equal(await rows.count(), 2);
    assert.equal(await analytics.locator('td').nth(1).innerText(), 'read');
    assert.equal(await rows.filter({ hasText: 'ci' }).locator('td').nth(1).innerText(), 'full');
    await page.getByRole('textbox', { name: 'Key name' }).fill('game servers');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await rows.filter({ hasText: 'game servers' }).waitFor();
    const listed = await api<{ data: { name: string; scope: string }[] }>(
      herald.url,
      ADMIN,
      'GET',
      `${p}/api-keys`,
    );
    assert.deepEqual(Object.fromEntries(listed.body.data.map((k) => [k.name, k.scope])), {
      ci: 'full',
      analytics: 'read',
      'game servers': 'send',
    });

    // Revoke all portal links asks first; then a link made before is refused.
    await page.getByRole('button', { name: 'Revoke all portal links…' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await withPortalLink(), 200);
    await page.getByRole('button', { name: 'Revoke all portal links…' }).click();
    await page.getByRole('button', { name: 'Yes, revoke all portal links' }).click();
    await page.getByRole('status').filter({ hasText: 'made until now is revoked' }).waitFor();
    assert.equal(await withPortalLink(), 401);
    assert.deepEqual(problems, []);
  });

  test('a deleted endpoint: Retry now (event page) and Resend (attempt page) are disabled and say why', async () => {
    const p = await newProject('Deleted Quest');
    const url = `http://127.0.0.1:${await refusedPort()}/gone-hook`;
    const { endpointId, eventId, attemptId } = await failedDelivery(p, url, 'Soon gone');
    const deleted = await api(herald.url, ADMIN, 'DELETE', `${p}/endpoints/${endpointId}`);
    assert.equal(deleted.status, 204);
    const projectId = p.split('/').pop();

    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${projectId}/events/${eventId}`);
    // Its name is gone with it: the row names the delivery's URL.
    const row = page.locator('table tbody tr', { hasText: url });
    await row.getByText('Endpoint deleted').waitFor();
    const retry = row.getByRole('button', { name: 'Retry now' });
    assert.equal(await retry.isDisabled(), true);
    assert.deepEqual(await reasonOf(page, retry), {
      title: 'Endpoint deleted: there is nothing to send it to.',
      described: 'Endpoint deleted: there is nothing to send it to.',
    });

    await page.goto(`${herald.url}/ui/projects/${projectId}/endpoints/${endpointId}/attempts/${attemptId}`);
    await page.getByText('This endpoint was deleted').waitFor();
    const resend = page.getByRole('button', { name: 'Resend' });
    assert.equal(await resend.isDisabled(), true);
    assert.match(
      (await reasonOf(page, resend)).described,
      /endpoint was deleted, so there is nothing to resend/,
    );
    // The attempt page reads the endpoint, which answers 404: that is how it knows.
    const rest = problems.filter((problem) => !/404 from GET .*\/endpoints\/|status of 404/.test(problem));
    assert.deepEqual(rest, []);
  });

  test("an attempt's page under another endpoint's URL follows the attempt's own endpoint", async () => {
    const p = await newProject('Edited Quest');
    const projectId = p.split('/').pop();
    const own = await failedDelivery(p, `http://127.0.0.1:${await refusedPort()}/own-hook`, 'Own endpoint');
    // Another endpoint of the project, disabled: the page showed its state by the attempt (Resend
    // blocked, "This endpoint is disabled"), and its Enable endpoint enabled that other one.
    const other = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `http://127.0.0.1:${await refusedPort()}/other-hook`,
      name: 'Other endpoint',
      active: false,
    });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const page = await dash.signedInPage();
    await page.goto(
      `${herald.url}/ui/projects/${projectId}/endpoints/${other.body.id}/attempts/${own.attemptId}`,
    );
    const ownPath = `/ui/projects/${projectId}/endpoints/${own.endpointId}`;
    await page.waitForURL(`${herald.url}${ownPath}/attempts/${own.attemptId}`);
    await page.getByRole('heading', { name: /^Attempt #1/ }).waitFor();
    await page.waitForFunction(() => document.title.includes('Own endpoint'));
    assert.equal(
      await page.getByRole('link', { name: 'Back to history' }).first().getAttribute('href'),
      `${ownPath}/history`,
    );
    assert.equal(await page.getByText('This endpoint is disabled').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Resend' }).isDisabled(), false);
    assert.deepEqual(problems, []);
  });

  test("a callback's attempt (of no endpoint) under an endpoint's URL is not found", async () => {
    const p = await newProject('Callback Quest');
    const projectId = p.split('/').pop();
    const endpoint = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `http://127.0.0.1:${await refusedPort()}/endpoint-hook`,
      name: 'Some endpoint',
      active: false,
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const sent = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/events`, {
      type: 'order.paid',
      payload: {},
      callbackUrl: `http://127.0.0.1:${await refusedPort()}/callback`,
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    let attemptId: string | undefined;
    for (let waited = 0; !attemptId; waited += 50) {
      const read = await api<{ data: { id: string; endpointId: string | null }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `${p}/events/${sent.body.id}/attempts`,
      );
      attemptId = read.body.data.find((a) => a.endpointId === null)?.id;
      assert.ok(attemptId || waited < 10_000, 'the callback was never tried');
      if (!attemptId) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const page = await dash.signedInPage();
    await page.goto(
      `${herald.url}/ui/projects/${projectId}/endpoints/${endpoint.body.id}/attempts/${attemptId}`,
    );
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Enable endpoint' }).count(), 0);
    assert.deepEqual(problems, []);
  });

  test('an attempt being sent: Retry now and Resend wait for its record, then come back', async () => {
    const p = await newProject('Busy Quest');
    const receiver = await heldReceiver();
    try {
      const { eventId, deliveryId, attemptId, endpointId } = await failedDelivery(
        p,
        receiver.url,
        'Slow one',
      );
      const projectId = p.split('/').pop();
      // The next request is held: its attempt stays in flight until the receiver is released.
      receiver.mode = 'hold';
      assert.equal((await api(herald.url, ADMIN, 'POST', `${p}/deliveries/${deliveryId}/retry`)).status, 202);
      await deliveryWhen(p, eventId, endpointId, (d) => d.inFlight);

      // Both pages with Playwright's clock (it runs on as the real one until moved forward below).
      const eventPage = await operatorPage();
      await eventPage.clock.install();
      // What the event page reads while it waits: its deliveries again, the whole event once.
      const eventReads: string[] = [];
      eventPage.on('request', (r) => {
        if (r.method() === 'GET') eventReads.push(new URL(r.url()).pathname);
      });
      await eventPage.goto(`${herald.url}/ui/projects/${projectId}/events/${eventId}`);
      const row = eventPage.locator('table tbody tr', { hasText: 'Slow one' });
      await row.getByText('Being sent now').waitFor();
      const retry = row.getByRole('button', { name: 'Retry now' });
      assert.equal(await retry.isDisabled(), true);
      assert.deepEqual(await reasonOf(eventPage, retry), {
        title: 'Being sent now: retry once its attempt is recorded.',
        described: 'Being sent now: retry once its attempt is recorded.',
      });

      const attemptPage = await operatorPage();
      await attemptPage.clock.install();
      // What the attempt page reads while it waits: the delivery alone, never its whole event.
      const reads: string[] = [];
      attemptPage.on('request', (r) => {
        if (r.method() === 'GET') reads.push(new URL(r.url()).pathname);
      });
      await attemptPage.goto(
        `${herald.url}/ui/projects/${projectId}/endpoints/${endpointId}/attempts/${attemptId}`,
      );
      await attemptPage.getByText('An attempt of this delivery is being sent now').waitFor();
      const resend = attemptPage.getByRole('button', { name: 'Resend' });
      assert.equal(await resend.isDisabled(), true);
      assert.match((await reasonOf(attemptPage, resend)).described, /Resend returns once it is recorded/);

      // Once the attempt is recorded both pages offer it again, without a reload: at their next
      // read while in flight, brought forward rather than waited for (IN_FLIGHT_REFRESH_MS).
      receiver.release();
      await deliveryWhen(p, eventId, endpointId, (d) => !d.inFlight);
      for (const page of [eventPage, attemptPage]) await page.clock.fastForward(IN_FLIGHT_REFRESH_MS);
      await row.getByText('Being sent now').waitFor({ state: 'detached' });
      assert.equal(await retry.isEnabled(), true);
      await row.getByText('succeeded').waitFor();
      await attemptPage
        .getByText('An attempt of this delivery is being sent now')
        .waitFor({ state: 'detached' });
      assert.equal(await resend.isEnabled(), true);
      const deliveryReads = reads.filter((path) => path === `${p}/deliveries/${deliveryId}`);
      assert.ok(deliveryReads.length >= 2, `read again while in flight: ${reads.join(', ')}`);
      assert.deepEqual(
        reads.filter((path) => path.includes('/events/')),
        [],
        'the attempt page does not read the event',
      );
      const deliveriesReads = eventReads.filter((path) => path === `${p}/events/${eventId}/deliveries`);
      assert.ok(deliveriesReads.length >= 2, `read again while in flight: ${eventReads.join(', ')}`);
      assert.deepEqual(
        eventReads.filter((path) => path === `${p}/events/${eventId}`),
        [`${p}/events/${eventId}`],
        'the event page reads the whole event once, when it opens',
      );
      assert.deepEqual(problems, []);
    } finally {
      await receiver.close();
    }
  });

  test('a retry the server refuses (the page was out of date) shows its message, then why', async () => {
    const p = await newProject('Race Quest');
    const receiver = await heldReceiver();
    try {
      const busy = await failedDelivery(p, receiver.url, 'Raced');
      const projectId = p.split('/').pop();
      const eventPage = await dash.signedInPage();
      await eventPage.goto(`${herald.url}/ui/projects/${projectId}/events/${busy.eventId}`);
      const attemptPage = await operatorPage();
      // Its delivery's state: read before the retry below makes it stale.
      const stateRead = attemptPage.waitForResponse((r) =>
        r.url().endsWith(`/deliveries/${busy.deliveryId}`),
      );
      await attemptPage.goto(
        `${herald.url}/ui/projects/${projectId}/endpoints/${busy.endpointId}/attempts/${busy.attemptId}`,
      );
      await stateRead;
      const row = eventPage.locator('table tbody tr', { hasText: 'Raced' });
      const retry = row.getByRole('button', { name: 'Retry now' });
      const resend = attemptPage.getByRole('button', { name: 'Resend' });
      await attemptPage.getByRole('heading', { name: /Attempt #1/ }).waitFor();
      assert.equal(await retry.isEnabled(), true);
      assert.equal(await resend.isEnabled(), true);

      // Meanwhile someone else retries it, and its attempt is held in flight.
      receiver.mode = 'hold';
      await api(herald.url, ADMIN, 'POST', `${p}/deliveries/${busy.deliveryId}/retry`);
      await deliveryWhen(p, busy.eventId, busy.endpointId, (d) => d.inFlight);
      const inFlight = 'an attempt of this delivery is being sent: retry once it is recorded';
      await retry.click();
      assert.equal((await row.getByRole('alert').innerText()).trim(), inFlight);
      await row.getByText('Being sent now').waitFor();
      assert.equal(await retry.isDisabled(), true);
      await resend.click();
      assert.equal((await attemptPage.getByRole('alert').innerText()).trim(), inFlight);
      await attemptPage.getByText('An attempt of this delivery is being sent now').waitFor();
      assert.equal(await resend.isDisabled(), true);
      receiver.release();

      // An endpoint deleted since the page was read.
      const url = `http://127.0.0.1:${await refusedPort()}/raced-hook`;
      const gone = await failedDelivery(p, url, 'Deleted meanwhile');
      await eventPage.goto(`${herald.url}/ui/projects/${projectId}/events/${gone.eventId}`);
      const goneRow = eventPage.locator('table tbody tr', { hasText: 'Deleted meanwhile' });
      const goneRetry = goneRow.getByRole('button', { name: 'Retry now' });
      await goneRetry.waitFor();
      assert.equal(await goneRetry.isEnabled(), true);
      assert.equal((await api(herald.url, ADMIN, 'DELETE', `${p}/endpoints/${gone.endpointId}`)).status, 204);
      await goneRetry.click();
      const deletedRow = eventPage.locator('table tbody tr', { hasText: url });
      assert.equal(
        (await deletedRow.getByRole('alert').innerText()).trim(),
        'the delivery’s endpoint was deleted',
      );
      await deletedRow.getByText('Endpoint deleted: there is nothing to send it to.').waitFor();
      assert.equal(await deletedRow.getByRole('button', { name: 'Retry now' }).isDisabled(), true);

      // Only the refusals provoked here (and the deleted endpoint's 404 when read again).
      const rest = problems.filter(
        (problem) =>
          !REFUSED_RETRY.test(problem) && !/404 from GET .*\/endpoints\/|status of 404/.test(problem),
      );
      assert.deepEqual(rest, []);
      assert.equal(problems.filter((problem) => problem.startsWith('409 from POST')).length, 3);
    } finally {
      await receiver.close();
    }
  });
});

/**
 * A loopback receiver that fails every request (500) until told to hold them, unanswered (the
 * attempt stays in flight), until release() answers them (200) and every later one.
 */
async function heldReceiver() {
  const held: ServerResponse[] = [];
  const state = { mode: 'fail' as 'fail' | 'hold' | 'ok' };
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (state.mode === 'hold') held.push(response);
      else response.writeHead(state.mode === 'ok' ? 200 : 500).end(state.mode);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    set mode(mode: 'fail' | 'hold' | 'ok') {
      state.mode = mode;
    },
    release() {
      state.mode = 'ok';
      for (const response of held.splice(0)) response.writeHead(200).end('ok');
    },
    close() {
      for (const response of held.splice(0)) response.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
