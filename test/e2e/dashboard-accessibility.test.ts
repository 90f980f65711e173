/**
 * The dashboard for a screen-reader and keyboard-only user, in a real browser (headless Chromium)
 * against a real `herald serve`, from an accessibility review:
 * - each view has its own page title, naming what it shows (it was "Herald" on every view, so a
 *   screen reader announced nothing new and the tabs and history all read the same).
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-accessibility-0123456';

describe('dashboard accessibility (browser)', { timeout: 180_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let projectId: string;
  let endpointId: string;
  let eventId: string;
  let attemptId: string;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Moon Quest',
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    projectId = project.body.id;
    const endpoint = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${projectId}/endpoints`,
      { url: `${receiver.url}/hooks`, name: 'Receiver' },
    );
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    endpointId = endpoint.body.id;
    const sent = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${projectId}/events`,
      {
        type: 'order.paid',
        payload: { order: 42 },
      },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    eventId = sent.body.id;
    await receiver.waitFor(1);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const attempts = await api<{ data: { id: string }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${projectId}/endpoints/${endpointId}/attempts`,
      );
      if (attempts.body.data[0]) {
        attemptId = attempts.body.data[0].id;
        break;
      }
      assert.ok(Date.now() < deadline, 'the attempt is recorded');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await receiver?.close();
  });

  const open = async (page: Page, path: string) => {
    await page.goto(`${herald.url}/ui${path}`);
    await page.locator('h1').first().waitFor();
  };

  test('each view has a page title of its own, most specific first', async () => {
    const page = await dash.page();
    await open(page, '/');
    assert.equal(await page.title(), 'Sign in · Herald');
    await open(page, '/portal');
    assert.equal(await page.title(), 'Link no longer valid · Herald');

    const signedIn = await dash.page({ signedIn: true });
    const p = `/projects/${projectId}`;
    const e = `${p}/endpoints/${endpointId}`;
    const views: [path: string, heading: string, title: string][] = [
      ['/', 'Projects', 'Projects · Herald'],
      ['/catalog', 'Event catalog', 'Event catalog · Herald'],
      [p, 'Endpoints', 'Endpoints · Moon Quest · Herald'],
      [`${p}/events`, 'Events', 'Events · Moon Quest · Herald'],
      [`${p}/events/${eventId}`, 'order.paid', 'Event order.paid · Moon Quest · Herald'],
      [`${p}/access`, 'Customer portal', 'Access · Moon Quest · Herald'],
      [`${p}/endpoints/new`, 'New endpoint', 'New endpoint · Moon Quest · Herald'],
      [e, 'Receiver', 'Overview · Receiver · Moon Quest · Herald'],
      [`${e}/example`, 'Receiver', 'Example · Receiver · Moon Quest · Herald'],
      [`${e}/history`, 'Receiver', 'History · Receiver · Moon Quest · Herald'],
      [`${e}/settings`, 'Receiver', 'Settings · Receiver · Moon Quest · Herald'],
      [`${e}/attempts/${attemptId}`, 'Attempt #1', 'Attempt #1 · Receiver · Moon Quest · Herald'],
      [`${e}/nothing-here`, 'Not found', 'Not found · Herald'],
      ['/nowhere', 'Not found', 'Not found · Herald'],
    ];
    for (const [path, heading, title] of views) {
      await open(signedIn, path);
      await signedIn.getByRole('heading', { name: heading }).first().waitFor();
      await signedIn
        .waitForFunction((want) => document.title === want, title, { timeout: 3000 })
        .catch(() => {});
      assert.equal(await signedIn.title(), title, path);
    }
    // Following a link inside the app (no reload) changes it too.
    await open(signedIn, p);
    await signedIn.getByRole('link', { name: 'Events', exact: true }).click();
    await signedIn
      .waitForFunction(() => document.title.startsWith('Events ·'), undefined, { timeout: 3000 })
      .catch(() => {});
    assert.equal(await signedIn.title(), 'Events · Moon Quest · Herald');
    assert.deepEqual(problems, []);
  });
});
