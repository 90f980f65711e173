/**
 * The Events screen's idempotency key filter, in a real browser against a real `herald serve`.
 * Support (or a customer through a portal link) is asked about "order 1234": the key its sender
 * gave the event. The screen filtered by type and time only, so finding it meant opening every
 * event of the type around that time; now "Idempotency key" lists the events sent with that key
 * (GET …/events?idempotencyKey=), in the dashboard and in the portal alike.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-event-key-0123456';

describe('dashboard events by idempotency key (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN });
  const { problems } = dash;
  let herald: HeraldProcess;
  let ui: string;
  let projectId: string;
  const sent = new Map<string, string>();

  before(async () => {
    herald = dash.herald;
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Shop',
    });
    projectId = project.body.id;
    ui = `${herald.url}/ui/projects/${projectId}`;
    for (const order of [1233, 1234, 1235]) {
      const event = await api<{ id: string }>(
        herald.url,
        ADMIN,
        'POST',
        `/api/v1/projects/${projectId}/events`,
        {
          type: 'order.paid',
          payload: { orderId: order },
          idempotencyKey: `order-${order}`,
        },
      );
      assert.equal(event.status, 202, JSON.stringify(event.body));
      sent.set(`order-${order}`, event.body.id);
    }
  });

  async function countOf(rows: Locator, count: number): Promise<void> {
    await rows
      .nth(count - 1)
      .waitFor()
      .catch(() => {});
    assert.equal(await rows.count(), count);
  }

  async function findByKey(page: Page): Promise<void> {
    const events = page.locator('table tbody tr');
    await countOf(events, 3);
    const field = page.getByLabel('Idempotency key');
    await field.fill('order-1234');
    await field.press('Enter');
    await page.waitForURL(/key=order-1234/);
    // The rows of the list before stay until the filtered page comes.
    await events.getByText(sent.get('order-1233')!).waitFor({ state: 'detached' });
    await countOf(events, 1);
    await events.getByText(sent.get('order-1234')!).waitFor();

    await field.fill('order-9');
    await field.press('Enter');
    await page.getByText('No events match these filters').waitFor();
  }

  test('the admin finds an event by the key its sender gave it', async () => {
    const page = await dash.signedInPage();
    await page.goto(`${ui}/events`);
    await findByKey(page);
    assert.deepEqual(problems, []);
  });

  test('so does a customer through a portal link', async () => {
    const link = await api<{ token: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${projectId}/portal-links`,
      {},
    );
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const page = await dash.page();
    await page.goto(`${herald.url}/ui/portal#token=${link.body.token}`);
    await page.getByRole('link', { name: 'Events' }).first().click();
    await findByKey(page);
    assert.deepEqual(problems, []);
  });

  test('a key with spaces at either end is found as it was sent, not trimmed', async () => {
    // The API stores a body's key exactly, and the list's idempotencyKey matches it exactly: the
    // field trimmed what was typed, so such an event could be found by the CLI and not here.
    const key = ' order 1236 ';
    const event = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${projectId}/events`,
      {
        type: 'order.paid',
        payload: { orderId: 1236 },
        idempotencyKey: key,
      },
    );
    assert.equal(event.status, 202, JSON.stringify(event.body));
    const page = await dash.signedInPage();
    await page.goto(`${ui}/events`);
    const events = page.locator('table tbody tr');
    await countOf(events, 4);
    const field = page.getByLabel('Idempotency key');
    await field.fill(key);
    await field.press('Enter');
    await page.waitForURL(/key=\+order\+1236\+/);
    await events.getByText(sent.get('order-1233')!).waitFor({ state: 'detached' });
    await countOf(events, 1);
    await events.getByText(event.body.id).waitFor();
    assert.equal(await field.inputValue(), key, 'the field shows the key as typed');
    assert.deepEqual(problems, []);
  });
});
